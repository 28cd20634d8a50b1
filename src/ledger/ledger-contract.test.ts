/**
 * The ledger contract, run against every store backend: the same test function drives
 * SQLite (a real file, its writer thread) and PostgreSQL (a real server started for the run).
 * Each backend says how to make its store refuse writes for real — another connection
 * holding SQLite's write lock; the database switched to read-only — so the fail-closed and
 * fail-open paths are exercised against genuine store errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../test/support/postgres.js';
import { isAirlockError } from '../errors.js';
import { exportLedgerPublicKey, openLedger, openLedgerReader, tailLedger, verifyLedger } from './index.js';
import type { LedgerOptions, StoreSpec } from './options.js';
import type { Checkpoint, EntryInput, LedgerEntry, LedgerReader } from './types.js';

/** One store under test: where it lives and how to make it refuse writes and accept them again. */
interface StoreFixture {
  store: StoreSpec;
  breakWrites(): Promise<void>;
  restoreWrites(): Promise<void>;
  dispose(): Promise<void>;
}

interface Backend {
  name: string;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  fixture(dataDir: string): Promise<StoreFixture>;
}

const sqliteBackend: Backend = {
  name: 'SQLite',
  async fixture(dataDir) {
    const path = join(dataDir, 'ledger.db');
    let locker: Database.Database | undefined;
    return {
      // A short busy timeout: a write blocked by the lock fails quickly instead of waiting 5 s.
      store: { kind: 'sqlite', path, busyTimeoutMs: 20 },
      async breakWrites() {
        locker = new Database(path);
        locker.exec('BEGIN EXCLUSIVE');
      },
      async restoreWrites() {
        locker?.exec('COMMIT');
        locker?.close();
        locker = undefined;
      },
      async dispose() {
        if (locker?.open) locker.close();
      },
    };
  },
};

let server: PostgresServer | undefined;
let databases = 0;
const postgresBackend: Backend = {
  name: 'PostgreSQL',
  async start() {
    server = await startPostgres();
  },
  async stop() {
    await server?.stop();
  },
  async fixture() {
    if (!server) throw new Error('PostgreSQL is not running');
    const name = `ledger_${++databases}`;
    const url = await server.createDatabase(name);
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    // Switching the database to read-only and dropping its sessions is what a failover to a
    // standby looks like to the ledger: every new transaction refuses to write.
    const setReadOnly = async (on: boolean): Promise<void> => {
      await admin.query(`ALTER DATABASE ${name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    };
    return {
      store: { kind: 'postgres', url, connectTimeoutMs: 2000 },
      breakWrites: () => setReadOnly(true),
      restoreWrites: () => setReadOnly(false),
      dispose: () => admin.end(),
    };
  },
};

const request = (i: number, extra: Partial<EntryInput> = {}): EntryInput => ({
  type: 'request',
  sessionId: `s-${i % 3}`,
  identity: { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://issuer.test', kind: 'agent', tokenId: 'jti-1', via: 'builtin' },
  connection: 'prod',
  action: { protocol: 'kubernetes', connection: 'prod', verb: 'get', resource: 'pods', namespace: 'default', name: `pod-${i}` },
  decision: { effect: 'allow', rules: ['read-pods'], message: 'reads are allowed' },
  response: { contentType: 'application/json', body: `{"kind":"Pod","n":${i}}` },
  data: { status: 200 },
  ...extra,
});

/** holdChainScript is a child process that opens the ledger, says so, and holds it until killed. */
function holdChainScript(dataDir: string, store: StoreSpec): string {
  const index = new URL('./index.js', import.meta.url).href;
  return `const { openLedger } = await import(${JSON.stringify(index)});
await openLedger({ dataDir: ${JSON.stringify(dataDir)}, store: ${JSON.stringify(store)} });
process.send('holding');
setInterval(() => {}, 60_000);`;
}

async function collect(reader: LedgerReader, chain = 'main'): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const e of reader.entries({ chain })) out.push(e);
  return out;
}

function ledgerContract(backend: Backend): void {
  describe(`ledger contract on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    before(async () => backend.start?.());
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await backend.stop?.();
    });

    /** setup makes a fresh data dir and store; `options` go to openLedger. */
    async function setup(options: Partial<LedgerOptions> = {}) {
      const dataDir = mkdtempSync(join(tmpdir(), 'airlock-ledger-'));
      const fx = await backend.fixture(dataDir);
      const open = (more: Partial<LedgerOptions> = {}) => openLedger({ dataDir, store: fx.store, ...options, ...more });
      const ledger = await open();
      const readers: LedgerReader[] = [];
      const reader = async () => {
        const r = await openLedgerReader({ dataDir, store: fx.store });
        readers.push(r);
        return r;
      };
      const verify = async () => {
        const r = await reader();
        return verifyLedger(r, { publicKey: exportLedgerPublicKey(dataDir) });
      };
      let closed = false;
      cleanups.push(async () => {
        if (!closed) await ledger.close().catch(() => undefined);
        for (const r of readers) await r.close().catch(() => undefined);
        await fx.dispose();
        rmSync(dataDir, { recursive: true, force: true });
      });
      return { dataDir, fx, ledger, open, reader, verify, markClosed: () => void (closed = true) };
    }

    test('an appended entry reads back exactly as append returned it, large bodies via the blob store', async () => {
      const { ledger, reader } = await setup({ inlineLimit: 64 });
      const big = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ name: `pod-${i}` })) });
      const appended = [await ledger.append(request(1)), await ledger.append(request(2, { response: { body: big } }))];
      const r = await reader();
      assert.deepEqual(await collect(r), JSON.parse(JSON.stringify(appended)));
      const [small, large] = appended;
      assert.equal(small?.response?.inline, '{"kind":"Pod","n":1}');
      assert.equal(large?.response?.blob, true);
      assert.equal(large?.response?.inline, undefined);
      assert.equal(Buffer.from((await r.blob(large!.response!.sha256))!).toString(), big);
      assert.equal(large?.prevHash, small?.hash);
      assert.equal(small?.prevHash, '0'.repeat(64));
    });

    test('many concurrent appends get contiguous sequence numbers in call order, and the chain verifies', async () => {
      const { ledger, verify } = await setup();
      const entries = await Promise.all(Array.from({ length: 400 }, (_, i) => ledger.append(request(i))));
      assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i + 1));
      for (let i = 1; i < entries.length; i++) assert.equal(entries[i]?.prevHash, entries[i - 1]?.hash);
      assert.equal(new Set(entries.map((e) => e.id)).size, entries.length);
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.chains[0]?.entries, 400);
    });

    test('onEntry sees every durable entry in sequence order, and stops after unsubscribing', async () => {
      const { ledger } = await setup();
      const seen: number[] = [];
      const stop = ledger.onEntry((e) => seen.push(e.seq));
      ledger.onEntry(() => {
        throw new Error('a failing listener does not stop the others');
      });
      const entries = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.append(request(i))));
      assert.deepEqual(seen, entries.map((e) => e.seq));
      stop();
      await ledger.append(request(99));
      assert.equal(seen.length, 20);
    });

    test('once append resolves, the entry is visible to a fresh connection', async () => {
      const { ledger, reader } = await setup();
      for (let i = 0; i < 5; i++) {
        const entry = await ledger.append(request(i));
        const r = await reader();
        assert.deepEqual(await r.head('main'), { seq: entry.seq, hash: entry.hash });
        await r.close();
      }
    });

    test('a reopened ledger resumes its chain where it stopped, and the closing checkpoint signs the tail', async () => {
      const { ledger, open, verify, reader, markClosed } = await setup();
      const first = await Promise.all([1, 2, 3].map((i) => ledger.append(request(i))));
      await ledger.close();
      const again = await open();
      try {
        assert.equal(again.health().lastSeq, 3);
        assert.equal(again.health().lastCheckpointSeq, 3);
        const next = await again.append(request(4));
        assert.equal(next.seq, 4);
        assert.equal(next.prevHash, first[2]?.hash);
      } finally {
        await again.close();
        markClosed();
      }
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual((await (await reader()).checkpoints('main')).map((c) => c.seq), [3, 4]);
      assert.equal(report.chains[0]?.unsigned, 0);
    });

    test('a checkpoint is signed every N entries and on close, and all verify', async () => {
      const { ledger, reader, verify, markClosed } = await setup({ checkpoint: { entries: 10, intervalMs: 3_600_000 } });
      for (let i = 0; i < 25; i++) await ledger.append(request(i));
      await ledger.close();
      markClosed();
      assert.deepEqual((await (await reader()).checkpoints('main')).map((c) => c.seq), [10, 20, 25]);
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.chains[0]?.validCheckpoints, 3);
    });

    test('a quiet tail is signed by the interval checkpoint', async () => {
      let covered: ((cp: Checkpoint) => void) | undefined;
      const { ledger } = await setup({ checkpoint: { intervalMs: 30 }, onCheckpoint: (cp) => covered?.(cp) });
      const last = (await Promise.all([1, 2, 3].map((i) => ledger.append(request(i))))).at(-1)!;
      // The ledger's timer never holds the process open; this test holds it while it waits.
      const keepAlive = setInterval(() => undefined, 1000);
      const cp = await new Promise<Checkpoint>((resolve) => (covered = (c) => c.seq === last.seq && resolve(c)));
      clearInterval(keepAlive);
      assert.equal(cp.hash, last.hash);
      assert.equal(ledger.health().lastCheckpointAt, cp.time);
    });

    test('an id already recorded is refused alone; appends batched with it still land', async () => {
      const { ledger } = await setup();
      await ledger.append(request(0, { id: 'audit-id-1' }));
      const results = await Promise.allSettled([ledger.append(request(1)), ledger.append(request(2, { id: 'audit-id-1' })), ledger.append(request(3))]);
      assert.equal(results[0]?.status, 'fulfilled');
      assert.equal(results[2]?.status, 'fulfilled');
      assert.equal(results[1]?.status, 'rejected');
      assert.ok(results[1]?.status === 'rejected' && isAirlockError(results[1].reason, 'AIRLOCK_INPUT_INVALID'));
      assert.equal(ledger.health().writable, true);
    });

    test('malformed input is refused with AIRLOCK_INPUT_INVALID and nothing is written', async () => {
      const { ledger } = await setup();
      const cases: { name: string; input: EntryInput }[] = [
        { name: 'NaN in data', input: request(1, { data: { ratio: Number.NaN } }) },
        { name: 'a Date in data', input: request(1, { data: { at: new Date() } }) },
        { name: 'an unparseable time', input: request(1, { time: 'yesterday' }) },
        { name: 'an empty type', input: { type: '' } },
        { name: 'an id with spaces', input: request(1, { id: 'not an id' }) },
        { name: 'a session id with NUL', input: request(1, { sessionId: 'a\u0000b' }) },
        { name: 'a type with a lone surrogate', input: { type: 'request\ud800' } },
      ];
      for (const c of cases) {
        await assert.rejects(ledger.append(c.input), (err) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID'), c.name);
      }
      assert.equal(ledger.health().lastSeq, 0);
    });

    test('fail closed: while the store cannot write, appends are refused and health says so; recovery is recorded', async () => {
      const { ledger, fx, reader, verify } = await setup();
      await ledger.append(request(0));
      await fx.breakWrites();
      for (let i = 1; i <= 3; i++) {
        await assert.rejects(ledger.append(request(i)), (err) => isAirlockError(err, 'AIRLOCK_LEDGER_UNAVAILABLE'));
      }
      const down = ledger.health();
      assert.equal(down.writable, false);
      assert.equal(down.failOpen, false);
      assert.equal(down.lostSinceFailure, 3);
      assert.ok(down.lastError);
      await fx.restoreWrites();
      const back = await ledger.append(request(4));
      assert.equal(ledger.health().writable, true);
      assert.equal(ledger.health().lostSinceFailure, 0);
      const entries = await collect(await reader());
      const recovery = entries.find((e) => e.data?.event === 'ledger.recovered');
      assert.equal(recovery?.type, 'system');
      assert.equal(recovery?.data?.refused, 3);
      assert.equal(recovery?.data?.failureMode, 'closed');
      assert.equal(recovery?.seq, back.seq - 1);
      assert.equal((await verify()).ok, true);
    });

    test('fail open: while the store cannot write, appends resolve unrecorded; running open and the gap are recorded', async () => {
      const { ledger, fx, reader } = await setup({ failureMode: 'open' });
      await fx.breakWrites();
      const lost = await ledger.append(request(1));
      assert.equal(lost.unrecorded, true);
      assert.equal(lost.seq, 0);
      assert.deepEqual({ writable: ledger.health().writable, failOpen: ledger.health().failOpen }, { writable: false, failOpen: true });
      await fx.restoreWrites();
      const kept = await ledger.append(request(2));
      assert.equal(kept.unrecorded, undefined);
      const events = (await collect(await reader())).map((e) => [e.type, e.data?.event ?? e.action?.name, e.data?.unrecorded]);
      assert.deepEqual(events, [
        ['system', 'ledger.opened', undefined],
        ['system', 'ledger.recovered', 1],
        ['request', 'pod-2', undefined],
      ]);
    });

    test('tail yields entries as they are committed', async () => {
      const { ledger, reader } = await setup();
      await ledger.append(request(0));
      const stop = new AbortController();
      const got: number[] = [];
      const r = await reader();
      const tailing = (async () => {
        // fromSeq pins the start: "from the current end" would race the first append here.
        for await (const e of tailLedger(r, { signal: stop.signal, intervalMs: 20, fromSeq: 2 })) {
          got.push(e.seq);
          if (got.length === 3) stop.abort();
        }
      })();
      const appended = [];
      for (let i = 1; i <= 3; i++) appended.push((await ledger.append(request(i))).seq);
      await tailing;
      assert.deepEqual(got, appended);
    });

    test('one writer per chain: a second writer is refused at open, naming the holder, and the first writes on undisturbed', async () => {
      const { ledger, open, verify, markClosed } = await setup();
      await ledger.append(request(1));
      await assert.rejects(
        open(),
        (err) => isAirlockError(err, 'AIRLOCK_LEDGER_CHAIN_IN_USE') && /chain "main"/.test(err.message) && err.message.includes(`pid ${process.pid}`),
      );
      // Another chain of the same ledger (a second replica) is not in the way.
      const other = await open({ chain: 'replica-b' });
      await other.append(request(2));
      await other.close();
      await ledger.append(request(3));
      await ledger.close();
      markClosed();
      // Closing hands the chain on.
      const again = await open();
      await again.append(request(4));
      await again.close();
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(report.chains.map((c) => [c.chain, c.entries]).sort(), [['main', 3], ['replica-b', 1]]);
    });

    test('a writer killed with SIGKILL leaves no stale lock: the chain opens at once', async () => {
      const { ledger, fx, dataDir, open, markClosed } = await setup();
      await ledger.close();
      markClosed();
      const script = join(dataDir, 'hold-chain.mjs');
      writeFileSync(script, holdChainScript(dataDir, fx.store));
      const child = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before it held the chain`)));
        });
        await assert.rejects(open(), (err) => isAirlockError(err, 'AIRLOCK_LEDGER_CHAIN_IN_USE') && err.message.includes(`pid ${child.pid}`));
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      const after = await open();
      await after.append(request(5));
      await after.close();
    });

    test('append after close is refused with AIRLOCK_LEDGER_UNAVAILABLE', async () => {
      const { ledger, markClosed } = await setup();
      await ledger.close();
      markClosed();
      await assert.rejects(ledger.append(request(1)), (err) => isAirlockError(err, 'AIRLOCK_LEDGER_UNAVAILABLE'));
    });
  });
}

ledgerContract(sqliteBackend);
ledgerContract(postgresBackend);
