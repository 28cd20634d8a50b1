/**
 * The "direct" baselines: the same rows written straight to the database with the same
 * durability and batch size, but without the ledger (no worker thread, no hashing, no
 * canonical encoding, no payload digests). The ratio ledger/direct is what the ledger's
 * guarantees cost on top of the storage itself.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { configureForWriting, migrate } from '../../src/ledger/sqlite/sqlite-schema.js';
import { migrate as migratePg } from '../../src/ledger/postgres/postgres-schema.js';
import { uuidV7 } from '../../src/ledger/index.js';
import { requestEntry, summarize, type RunResult } from './workload.js';

type Row = [string, number, string, string, string, string, string, string, string];

function row(seq: number): Row {
  const entry = requestEntry(seq);
  const time = new Date().toISOString();
  return ['direct', seq, uuidV7(), time, entry.type, entry.sessionId ?? '', '', '', JSON.stringify({ ...entry, time })];
}

/** directSqlite inserts batches of `batch` rows, one synchronous=FULL WAL transaction each. */
export function directSqlite(path: string, batch: number, seconds: number): RunResult {
  const db = new Database(path);
  configureForWriting(db, 5000);
  migrate(db);
  const insert = db.prepare(
    'INSERT INTO ledger_entries (chain, seq, id, time, type, session_id, prev_hash, hash, canonical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const tx = db.transaction((rows: Row[]) => {
    for (const r of rows) insert.run(...r);
  });
  const latencies: number[] = [];
  let seq = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const rows = Array.from({ length: batch }, () => row(++seq));
    tx.immediate(rows);
    const ms = performance.now() - t0;
    for (let i = 0; i < batch; i++) latencies.push(ms);
  }
  db.close();
  return summarize(latencies, (performance.now() - started) / 1000);
}

/** directPostgres inserts batches of `batch` rows, one multi-row INSERT (one commit) each. */
export async function directPostgres(url: string, batch: number, seconds: number): Promise<RunResult> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined); // the server stopping under an idle client is not a result
  await migratePg(pool, 'direct');
  const latencies: number[] = [];
  let seq = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const rows = Array.from({ length: batch }, () => row(++seq));
    const col = (i: number): unknown[] => rows.map((r) => r[i]);
    await pool.query(
      `INSERT INTO direct.ledger_entries (chain, seq, id, time, type, session_id, prev_hash, hash, canonical)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
      [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), col(8)],
    );
    const ms = performance.now() - t0;
    for (let i = 0; i < batch; i++) latencies.push(ms);
  }
  await pool.end();
  return summarize(latencies, (performance.now() - started) / 1000);
}

/**
 * fsyncLatency measures the disk under `dir`: 4 KiB write + fdatasync, `n` times. With N
 * appenders each waiting for its own durable commit, no design can beat N / (fsync time).
 */
export function fsyncLatency(path: string, n = 200): { p50ms: number; p99ms: number } {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, block);
      const t0 = performance.now();
      fdatasyncSync(fd);
      latencies.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const r = summarize(latencies, 1);
  return { p50ms: r.p50ms, p99ms: r.p99ms };
}
