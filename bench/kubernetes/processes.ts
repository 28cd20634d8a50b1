/**
 * Starting the processes the benchmark measures, each as a real child process with its own
 * pid (so its RSS and CPU time are its own): the benchmark upstream (forked), `kubectl proxy`
 * (the Go peer) and `airlock start`. Nothing here sleeps: each start resolves when the
 * process says it is ready (an IPC message or the line it prints), and rejects with what it
 * printed if it exits first.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeProxyReady } from './node-proxy-process.js';
import type { UpstreamReady } from './upstream-process.js';

/** A started child: its pid, what it printed, and a stop that waits for the exit. */
export interface Running {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Benchmark files run either compiled (dist/bench/kubernetes/*.js) or from source with tsx. */
const compiled = import.meta.url.endsWith('.js');
/** The checkout's root: two levels up from source, three from dist/. */
const root = fileURLToPath(new URL(compiled ? '../../../' : '../../', import.meta.url));

function running(child: ChildProcess, output: () => string): Running {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    pid: child.pid ?? -1,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** waitForLine resolves with the first match of `pattern` in the child's stdout+stderr. */
function waitForLine(child: ChildProcess, what: string, pattern: RegExp): Promise<{ match: RegExpMatchArray; output: () => string }> {
  let out = '';
  const output = () => out;
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = pattern.exec(out);
      if (match) resolve({ match, output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => reject(new Error(`${what} could not start: ${err.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${out}`)));
  });
}

/** A forked helper process: its first IPC message and a way to ask it more. */
export interface Forked<T> extends Running {
  ready: T;
  /** request sends an IPC message and resolves with the first reply of the same `kind`. */
  request<R>(message: { kind: string }): Promise<R>;
}

/** forkReady forks a helper of this folder with the same loader as this process (tsx or none). */
async function forkReady<T>(name: string, args: string[]): Promise<Forked<T>> {
  const entry = fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
  const child = fork(entry, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
  const base = running(child, () => '');
  return {
    ...base,
    ready,
    request<R>(message: { kind: string }) {
      return new Promise<R>((resolve) => {
        const onMessage = (m: { kind?: string }) => {
          if (m.kind !== message.kind) return;
          child.off('message', onMessage);
          resolve(m as R);
        };
        child.on('message', onMessage);
        child.send(message);
      });
    },
    async stop() {
      if (child.connected) child.disconnect();
      await base.stop();
    },
  };
}

/** startUpstream runs the benchmark upstream (upstream-process) in its own process. */
export function startUpstream(listItems: number, bigBytes: number): Promise<Forked<UpstreamReady>> {
  return forkReady<UpstreamReady>('upstream-process', ['--list-items', String(listItems), '--big-bytes', String(bigBytes)]);
}

/** startNodeProxy runs the minimal Node.js reverse proxy (node-proxy-process); secrets are passed as files. */
export function startNodeProxy(upstream: string, caFile: string, tokenFile: string): Promise<Forked<NodeProxyReady>> {
  return forkReady<NodeProxyReady>('node-proxy-process', ['--upstream', upstream, '--upstream-ca-file', caFile, '--token-file', tokenFile]);
}

/**
 * findKubectl picks the client to run `kubectl proxy` with: an explicit path, else the newest
 * `kubectl.1.NN` beside the `kubectl` on PATH (the plain `kubectl` there may be a dispatcher
 * that asks the server's /version first), else `kubectl` itself; undefined when none exists.
 */
export function findKubectl(explicit?: string): string | undefined {
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const plain = join(dir, 'kubectl');
    if (!existsSync(plain)) continue;
    const home = dirname(realpathSync(plain));
    for (let minor = 40; minor >= 20; minor--) {
      const versioned = join(home, `kubectl.1.${minor}`);
      if (existsSync(versioned)) return versioned;
    }
    return plain;
  }
  return undefined;
}

/** startKubectlProxy runs `kubectl proxy --port=0` (and `extraArgs`) against the kubeconfig and returns its URL. */
export async function startKubectlProxy(kubectl: string, kubeconfig: string, extraArgs: string[] = []): Promise<Running & { url: string }> {
  const child = spawn(kubectl, ['proxy', '--port=0', '--kubeconfig', kubeconfig, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { match, output } = await waitForLine(child, 'kubectl proxy', /Starting to serve on (127\.0\.0\.1:\d+)/);
  return { ...running(child, output), url: `http://${match[1]}` };
}

/** A running airlock: the gateway URL of the connection and the CA its certificate chains to. */
export interface AirlockProcess extends Running {
  /** `https://127.0.0.1:PORT/k8s/<connection>`. */
  url: string;
  caFile: string;
  /** The admin server (health, Prometheus metrics). */
  adminUrl: string;
}

/**
 * startAirlock runs `airlock start --config FILE`: bin/airlock.js when this benchmark runs
 * compiled (as `npm run bench` does), else src/cli/main.ts through tsx, so that development
 * runs need no build. `nodeArgs` go to node (e.g. `--cpu-prof`).
 */
export async function startAirlock(configFile: string, connection: string, nodeArgs: string[] = []): Promise<AirlockProcess> {
  const command = compiled
    ? [join(root, 'bin', 'airlock.js')]
    : ['--import', 'tsx', '--input-type=module', '-e', `const { run } = await import(${JSON.stringify(join(root, 'src', 'cli', 'main.ts'))}); await run(process.argv);`, 'airlock'];
  const child = spawn(process.execPath, [...nodeArgs, ...command, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  const { output } = await waitForLine(child, 'airlock', /Stop with Ctrl-C/);
  const banner = output();
  const url = new RegExp(`kubernetes\\s+(https://\\S+/k8s/${connection})\\b`).exec(banner)?.[1];
  const caFile = /gateway CA\s+(\S+)/.exec(banner)?.[1];
  const adminUrl = /admin server\s+(http\S+)/.exec(banner)?.[1];
  const handle = running(child, output);
  if (!url || !caFile || !adminUrl) {
    await handle.stop();
    throw new Error(`airlock started but its banner names no gateway URL, CA or admin server for connection ${connection}:\n${banner}`);
  }
  return { ...handle, url, caFile, adminUrl };
}
