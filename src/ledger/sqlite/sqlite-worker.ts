/**
 * The SQLite writer thread. better-sqlite3 is synchronous, so the fsync of each commit
 * would stall the gateway's event loop; here it stalls only this thread. The thread owns the
 * chain head: it seals batches (seq, prevHash, hash) in the order they arrive and inserts
 * them in one IMMEDIATE transaction, advancing the head only after the commit. Whatever
 * batches queued up while a commit was syncing are drained and committed together, which is
 * the group commit: one fsync for all of them. A failed transaction rolls back and leaves
 * the head where it was, so the next batch continues the chain without a hole.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GENESIS_HASH } from '../canonical.js';
import { DUPLICATE_ID_CODE, sealBatch, toSealedBatch, type Head } from '../store.js';
import type { Checkpoint } from '../types.js';
import { configureForWriting, migrate } from './sqlite-schema.js';
import type { WireError, WorkerInit, WorkerReply, WorkerRequest } from './sqlite-protocol.js';

const port = parentPort;
if (!port) throw new Error('sqlite-worker must run in a worker thread');
const init = workerData as WorkerInit;

function toWire(err: unknown): WireError {
  const e = err as { message?: string; code?: unknown };
  const message = e?.message ?? String(err);
  if (message.includes('UNIQUE constraint failed: ledger_entries.id')) return { message, code: DUPLICATE_ID_CODE };
  return { message, ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

function reply(message: WorkerReply): void {
  port!.postMessage(message);
}

let db: Database.Database;
try {
  db = new Database(init.path);
  configureForWriting(db, init.busyTimeoutMs);
  migrate(db);
} catch (err) {
  reply({ op: 'failed', error: toWire(err) });
  throw err;
}

const insertEntry = db.prepare(
  'INSERT INTO ledger_entries (chain, seq, id, time, type, session_id, prev_hash, hash, canonical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const insertBlob = db.prepare('INSERT OR IGNORE INTO ledger_blobs (sha256, size, data) VALUES (?, ?, ?)');
const insertCheckpoint = db.prepare(
  'INSERT OR IGNORE INTO ledger_checkpoints (chain, seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)',
);

function readHead(): Head {
  const row = db.prepare('SELECT seq, hash FROM ledger_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1').get(init.chain) as
    | { seq: number; hash: string }
    | undefined;
  return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

function readLastCheckpoint(): Checkpoint | undefined {
  const row = db
    .prepare('SELECT chain, seq, hash, time, key_id AS keyId, signature FROM ledger_checkpoints WHERE chain = ? ORDER BY seq DESC LIMIT 1')
    .get(init.chain) as Checkpoint | undefined;
  return row ? { ...row } : undefined;
}

let head = readHead();

type WriteRequest = Extract<WorkerRequest, { op: 'write' }>;

/** writeAll seals and inserts several batches in one transaction; returns each batch's rows. */
const writeAll = db.transaction((requests: WriteRequest[]) => {
  let next = head;
  return requests.map((req) => {
    const sealed = sealBatch(init.chain, next, req.entries);
    for (const b of req.blobs) insertBlob.run(b.sha256, b.data.byteLength, b.data);
    for (const r of sealed.rows) {
      insertEntry.run(r.chain, r.seq, r.id, r.time, r.type, r.sessionId, r.prevHash, r.hash, r.canonical);
    }
    next = sealed.head;
    return sealed;
  });
});

function commitWrites(requests: WriteRequest[]): void {
  if (requests.length === 0) return;
  try {
    const results = writeAll.immediate(requests);
    results.forEach((sealed, i) => {
      const req = requests[i] as WriteRequest;
      reply({ op: 'result', id: req.id, ok: true, batch: toSealedBatch(sealed.rows, head) });
      head = sealed.head;
    });
  } catch (err) {
    // The transaction rolled back: `head` is still the last committed entry. Re-read it in
    // case the failure was stranger than a rollback.
    if (db.open) head = safeHead(head);
    const error = toWire(err);
    for (const req of requests) reply({ op: 'result', id: req.id, ok: false, error });
  }
}

function handleOther(req: Exclude<WorkerRequest, WriteRequest>): void {
  try {
    if (req.op === 'checkpoint') {
      const c = req.checkpoint;
      insertCheckpoint.run(c.chain, c.seq, c.hash, c.time, c.keyId, c.signature);
      reply({ op: 'result', id: req.id, ok: true });
      return;
    }
    // close: fold the WAL back into the database so the file is complete on its own. If
    // another connection holds the file that cannot happen now; the WAL stays and is valid.
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // left for the next opener
    }
    db.close();
    reply({ op: 'result', id: req.id, ok: true });
    port!.close();
  } catch (err) {
    reply({ op: 'result', id: req.id, ok: false, error: toWire(err) });
  }
}

/** handle takes one request plus every request already queued behind it, in order. */
function handle(first: WorkerRequest): void {
  const queued: WorkerRequest[] = [first];
  for (let m = receiveMessageOnPort(port!); m !== undefined; m = receiveMessageOnPort(port!)) queued.push(m.message as WorkerRequest);
  let writes: WriteRequest[] = [];
  for (const req of queued) {
    if (!db.open) {
      reply({ op: 'result', id: req.id, ok: false, error: { message: 'the ledger database is closed' } });
    } else if (req.op === 'write') {
      writes.push(req);
    } else {
      commitWrites(writes);
      writes = [];
      handleOther(req);
    }
  }
  commitWrites(writes);
}

function safeHead(fallback: Head): Head {
  try {
    return readHead();
  } catch {
    return fallback;
  }
}

port.on('message', handle);
reply({ op: 'ready', head, lastCheckpoint: readLastCheckpoint() });
