/**
 * The main-thread side of the SQLite store: ships batches to the writer thread
 * (sqlite-worker) and resolves each once the thread has committed it. If the thread dies,
 * in-flight calls reject and the next call starts a fresh thread, which re-reads the head
 * from the file, so the ledger heals without a restart once the file is writable again.
 */
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobWrite } from '../payload.js';
import type { OpenedStore, SealedBatch, StoreWriter, EncodedEntry } from '../store.js';
import type { Checkpoint } from '../types.js';
import { lockChain, type ChainLock } from './chain-lock.js';
import { damaged } from './sqlite-schema.js';
import type { WireError, WorkerInit, WorkerReply, WorkerRequest } from './sqlite-protocol.js';

/**
 * The worker file sits next to this module with the same extension: `.js` when running
 * compiled (dist/), `.ts` under tsx (development and tests).
 */
const WORKER_URL = new URL(`./sqlite-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * spawnWorker starts the writer thread. On Node 20, tsx's loader hooks are registered in the
 * main thread only, so a `.ts` worker first registers tsx itself (tsx is then necessarily
 * installed: it is what is running this file); compiled `.js` starts directly.
 */
function spawnWorker(init: WorkerInit): Worker {
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(WORKER_URL, { workerData: init });
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

type Call = { resolve: (reply: Extract<WorkerReply, { op: 'result' }>) => void; reject: (err: Error) => void };

/** A failure inside the writer thread, carrying the SQLite code (SQLITE_BUSY, SQLITE_FULL, …). */
export class SqliteWriteError extends Error {
  readonly code?: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = 'SqliteWriteError';
    this.code = error.code;
  }
}

class SqliteWriter implements StoreWriter {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly init: WorkerInit,
    private readonly lock: ChainLock,
  ) {}

  /** start spawns the thread and waits for it to open and migrate the file. */
  start(): Promise<{ worker: Worker; ready: Extract<WorkerReply, { op: 'ready' }> }> {
    return new Promise((resolve, reject) => {
      const worker = spawnWorker(this.init);
      let ready = false;
      worker.on('message', (msg: WorkerReply) => {
        if (msg.op === 'ready') {
          ready = true;
          this.worker = worker;
          worker.unref();
          resolve({ worker, ready: msg });
        } else if (msg.op === 'failed') {
          reject(new SqliteWriteError(msg.error));
        } else {
          this.settle(msg);
        }
      });
      worker.on('error', (err) => {
        if (!ready) reject(err);
        else this.failAll(err);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!ready) reject(new Error(`ledger writer thread exited with code ${code} before it was ready`));
        this.failAll(new Error(`ledger writer thread exited (code ${code})`));
      });
    });
  }

  async write(entries: EncodedEntry[], blobs: BlobWrite[]): Promise<SealedBatch> {
    const reply = await this.call({ op: 'write', id: 0, entries, blobs });
    if (!reply.ok || !reply.batch) throw new Error('ledger writer thread returned no batch');
    return reply.batch;
  }

  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.call({ op: 'checkpoint', id: 0, checkpoint });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    try {
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      try {
        await this.call({ op: 'close', id: 0 }, true);
      } catch {
        // The thread could not close cleanly; committed data is safe in the WAL either way.
        await worker.terminate();
      }
      await exited;
    } finally {
      // Only once the thread is gone may another writer take the chain.
      this.lock.release();
    }
  }

  private async call(request: WorkerRequest, closing = false): Promise<Extract<WorkerReply, { op: 'result'; ok: true }>> {
    if (this.closed && !closing) throw new Error('the ledger store is closed');
    const worker = this.worker ?? (await this.restart());
    const id = this.nextId++;
    const reply = await new Promise<Extract<WorkerReply, { op: 'result' }>>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      // Keep the process alive only while a write is in flight: an idle ledger never pins it.
      if (this.calls.size === 1) worker.ref();
      worker.postMessage({ ...request, id });
    });
    if (!reply.ok) throw new SqliteWriteError(reply.error);
    return reply;
  }

  private restart(): Promise<Worker> {
    this.starting ??= this.start().then(
      ({ worker }) => {
        this.starting = undefined;
        return worker;
      },
      (err: unknown) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  private settle(msg: Extract<WorkerReply, { op: 'result' }>): void {
    const call = this.calls.get(msg.id);
    if (!call) return;
    this.calls.delete(msg.id);
    // While closing, stay referenced until the thread has exited.
    if (this.calls.size === 0 && !this.closed) this.worker?.unref();
    call.resolve(msg);
  }

  private failAll(err: Error): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.reject(err);
  }
}

/**
 * openSqliteStore takes the chain's lock (chain-lock.ts: one writer per chain, or
 * AIRLOCK_LEDGER_CHAIN_IN_USE), starts the writer thread on `path` and reports the chain's head.
 * A file that is not a SQLite database, or a damaged one, is AIRLOCK_LEDGER_CORRUPT.
 */
export async function openSqliteStore(init: WorkerInit): Promise<OpenedStore> {
  const lock = lockChain(init.path, init.chain);
  const writer = new SqliteWriter(init, lock);
  try {
    const { ready } = await writer.start();
    return { writer, head: ready.head, lastCheckpoint: ready.lastCheckpoint };
  } catch (err) {
    lock.release();
    throw damaged(err, init.path);
  }
}
