/**
 * A real, throw-away PostgreSQL server for tests: `initdb` into a fresh temp dir, trust
 * authentication, listening on 127.0.0.1 on a free port with its unix socket inside the temp
 * dir, `fsync=off` (tests need speed, not crash safety). Readiness is awaited on the server's
 * own "ready to accept connections" log line, then confirmed with a connection.
 *
 * PostgreSQL refuses to run as root. When the tests run as root, initdb and the server run as
 * the unprivileged `nobody` user (uid/gid looked up, 65534 as a fallback), and the temp dir
 * is handed to that user.
 *
 * @example
 * const pgServer = await startPostgres();
 * const url = await pgServer.createDatabase('ledger_test');
 * ...
 * await pgServer.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** Connection URL of the `postgres` database as superuser `postgres`. */
  url: string;
  host: string;
  port: number;
  user: string;
  /** The server's binaries (psql, pgbench, pg_dump live here too). */
  bindir: string;
  /** createDatabase makes a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** stop shuts the server down (fast shutdown) and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

/** findBindir locates the server binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function findBindir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // fall through to the Debian layout
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found (no pg_config, nothing under /usr/lib/postgresql)');
  return join(base, versions[0], 'bin');
}

/** startPostgres initdb's and starts a server; rejects with the server's output if it cannot start. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bindir = findBindir();
  const root = mkdtempSync(join(tmpdir(), 'airlock-pg-'));
  const data = join(root, 'data');
  const owner = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (owner) chownSync(root, owner.uid, owner.gid);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  try {
    execFileSync(join(bindir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8', '--no-sync'], {
      ...asOwner,
      stdio: 'pipe',
      cwd: root,
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() ?? e.message}`);
  }

  let server: { child: ChildProcess; port: number } | undefined;
  let lastError: unknown;
  // A free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    const port = await freePort();
    try {
      server = { child: await launch(bindir, data, root, port, options.settings ?? {}, asOwner), port };
    } catch (err) {
      lastError = err;
    }
  }
  if (!server) {
    rmSync(root, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
  const { child, port } = server;
  // If the test process ends without stop() (a crash, a hung test cut short), take the
  // server and its files with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const host = '127.0.0.1';
  const url = `postgres://postgres@${host}:${port}/postgres`;
  let stopped: Promise<void> | undefined;

  return {
    url,
    host,
    port,
    user: 'postgres',
    bindir,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@${host}:${port}/${encodeURIComponent(name)}`;
    },
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGINT'); // fast shutdown: roll back open transactions, close sessions
          await exited;
        }
        rmSync(root, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** launch starts the server and resolves once it logs that it accepts connections. */
function launch(bindir: string, data: string, root: string, port: number, settings: Record<string, string>, asOwner: { uid?: number; gid?: number }): Promise<ChildProcess> {
  const args = ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const child = spawn(join(bindir, 'postgres'), args, { ...asOwner, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        child.stderr?.resume(); // keep draining the pipe so the server never blocks on logging
        confirm(port).then(() => resolve(child), (err: unknown) => {
          child.kill('SIGKILL');
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function confirm(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  await client.end();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function unprivilegedUser(): { uid: number; gid: number } {
  const lookup = (flag: string): number | undefined => {
    try {
      const n = Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
      return Number.isInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  return { uid: lookup('-u') ?? 65534, gid: lookup('-g') ?? 65534 };
}
