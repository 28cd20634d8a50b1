/**
 * The PostgreSQL store's write side. Batches are written one statement at a time, and all
 * batches that arrived while a statement was running go into the next one (group commit).
 * Each statement is a data-modifying CTE that inserts the entries and their blobs and
 * announces the new head with pg_notify — one implicit transaction and one round trip,
 * durable when PostgreSQL acknowledges the commit (synchronous_commit on). The primary key (chain, seq) makes a batch land at most
 * once; when a failure leaves it unclear whether the commit happened (a connection lost
 * mid-commit), the writer reads back the hash at the batch's last seq and decides from that,
 * so an entry is neither lost silently nor written twice.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { AirlockError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { GENESIS_HASH } from '../canonical.js';
import type { BlobWrite } from '../payload.js';
import { DUPLICATE_ID_CODE, sealBatch, toSealedBatch, type Head, type OpenedStore, type SealedBatch, type StoreWriter, type EncodedEntry } from '../store.js';
import type { Checkpoint, StoredEntryRow } from '../types.js';
import { migrate, notifyChannel, quoteSchema } from './postgres-schema.js';

export interface PostgresStoreOptions {
  url: string;
  schema: string;
  chain: string;
  poolSize: number;
  connectTimeoutMs: number;
  logger: Logger;
}

interface Waiting {
  entries: EncodedEntry[];
  blobs: BlobWrite[];
  resolve(batch: SealedBatch): void;
  reject(err: unknown): void;
}

class PostgresWriter implements StoreWriter {
  private readonly s: string;
  private readonly insertSql: string;
  /** The committed head; undefined after an unresolved failure, re-read before the next write. */
  private head: Head | undefined;
  private readonly waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PostgresStoreOptions,
    head: Head,
    private readonly lock: PgChainLock,
  ) {
    this.s = quoteSchema(opts.schema);
    this.head = head;
    this.insertSql = `
      WITH ins AS (
        INSERT INTO ${this.s}.ledger_entries (chain, seq, id, time, type, session_id, prev_hash, hash, canonical)
        SELECT $1::text, r.seq, r.id, r.time, r.type, r."sessionId", r."prevHash", r.hash, r.canonical
        FROM json_to_recordset($2::json) AS r(seq bigint, id text, time text, type text, "sessionId" text, "prevHash" text, hash text, canonical text)
        RETURNING 1
      ), blobs AS (
        INSERT INTO ${this.s}.ledger_blobs (sha256, size, data)
        SELECT * FROM unnest($3::text[], $4::integer[], $5::bytea[])
        ON CONFLICT (sha256) DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ins) AS n, pg_notify($6, $7)`;
  }

  write(entries: EncodedEntry[], blobs: BlobWrite[]): Promise<SealedBatch> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entries, blobs, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** drain writes what is waiting, one group per statement, in arrival order. */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      try {
        const results = await this.writeGroup(group);
        group.forEach((w, i) => w.resolve(results[i] as SealedBatch));
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.writing = false;
  }

  private async writeGroup(group: Waiting[]): Promise<SealedBatch[]> {
    this.head ??= await readHead(this.pool, this.s, this.opts.chain);
    let next = this.head;
    const rows: StoredEntryRow[] = [];
    const results: SealedBatch[] = [];
    const blobs = new Map<string, BlobWrite>();
    for (const w of group) {
      const sealed = sealBatch(this.opts.chain, next, w.entries);
      results.push(toSealedBatch(sealed.rows, next));
      for (const r of sealed.rows) rows.push(r);
      for (const b of w.blobs) blobs.set(b.sha256, b);
      next = sealed.head;
    }
    const blobList = [...blobs.values()];
    const params = [
      this.opts.chain,
      // One JSON document rather than text[] parameters: JSON.stringify is native, while pg
      // escapes array elements one by one in JavaScript, which dominated the CPU profile.
      JSON.stringify(rows),
      blobList.map((b) => b.sha256),
      blobList.map((b) => b.data.byteLength),
      blobList.map((b) => Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)),
      notifyChannel(this.opts.schema),
      `${this.opts.chain}:${next.seq}`,
    ];
    const start = this.head;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query(this.insertSql, params);
        break;
      } catch (err) {
        if (await this.landedAnyway(next)) {
          this.opts.logger.warn({ chain: this.opts.chain, seq: next.seq }, 'ledger batch committed although the commit reported an error');
          break;
        }
        // A pooled connection the server already dropped (restart, failover) fails the first
        // statement on it; the batch did not land and the head has not moved, so try once more.
        const unchanged = this.head?.seq === start.seq && this.head.hash === start.hash;
        if (attempt === 1 && unchanged && isConnectionError(err)) continue;
        throw classify(err);
      }
    }
    this.head = next;
    return results;
  }

  /** landedAnyway settles an ambiguous failure by reading the batch's last hash back. */
  private async landedAnyway(last: Head): Promise<boolean> {
    try {
      const res = await this.pool.query(`SELECT hash FROM ${this.s}.ledger_entries WHERE chain = $1 AND seq = $2`, [this.opts.chain, last.seq]);
      if (res.rows[0]?.hash === last.hash) return true;
      this.head = await readHead(this.pool, this.s, this.opts.chain);
    } catch {
      this.head = undefined;
    }
    return false;
  }

  async writeCheckpoint(c: Checkpoint): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.ledger_checkpoints (chain, seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (chain, seq) DO NOTHING`,
      [c.chain, c.seq, c.hash, c.time, c.keyId, c.signature],
    );
  }

  async close(): Promise<void> {
    try {
      await this.pool.end();
    } finally {
      await this.lock.release();
    }
  }
}

/** How long a start waits for the chain lock of a holder that may have just died. */
const LOCK_GRACE_MS = 3000;

/** A held chain lock of the PostgreSQL store. */
interface PgChainLock {
  release(): Promise<void>;
}

/**
 * lockChain takes a session advisory lock named after the schema and chain, on a connection
 * of its own held for the writer's life: one writer per chain, as with SQLite (chain-lock.ts).
 * A second writer is refused at open with AIRLOCK_LEDGER_CHAIN_IN_USE, naming the holder's
 * connection when PostgreSQL shows it. PostgreSQL drops the lock when the holder's session
 * ends, however it ends. If this connection is lost later, writing goes on (the primary key
 * on (chain, seq) still keeps the chain whole) and the lock is taken again in the background.
 */
async function lockChain(opts: PostgresStoreOptions): Promise<PgChainLock> {
  const digest = createHash('sha256').update(`airlock.ledger.chain\n${opts.schema}\n${opts.chain}`).digest();
  const key = digest.readBigInt64BE(0);
  const label = `airlock pid ${process.pid} on ${hostname()}`.slice(0, 63);
  let client: pg.Client | undefined;
  let released = false;
  const connect = async (): Promise<boolean> => {
    const c = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: opts.connectTimeoutMs, application_name: label });
    c.on('error', (err) => {
      if (released || client !== c) return;
      client = undefined;
      opts.logger.warn({ chain: opts.chain, err: { message: err.message } }, 'ledger chain lock connection lost; taking the lock again');
      void retake();
    });
    await c.connect();
    // A holder that has just died keeps its session until PostgreSQL sees the socket close,
    // which takes moments: a restart right after a crash waits that out rather than failing.
    for (const deadline = Date.now() + LOCK_GRACE_MS; ; ) {
      const res = await c.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key.toString()]);
      if (res.rows[0]?.locked === true) {
        if (released) {
          // Closed while this was taking the lock again: hand it straight back.
          await c.end().catch(() => undefined);
          return false;
        }
        client = c;
        return true;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const holder = await c
      .query(
        `SELECT a.application_name AS name, a.client_addr::text AS addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::text::bigint = $1 AND l.objid::text::bigint = $2
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [Number((key >> 32n) & 0xffffffffn), Number(key & 0xffffffffn)],
      )
      .then((r) => r.rows[0] as { name?: string; addr?: string | null } | undefined)
      .catch(() => undefined);
    await c.end().catch(() => undefined);
    throw new AirlockError(
      'AIRLOCK_LEDGER_CHAIN_IN_USE',
      `another airlock process${holder?.name ? ` (${holder.name}${holder.addr ? ` from ${holder.addr}` : ''})` : ''} is writing chain "${opts.chain}" ` +
        `of this PostgreSQL ledger (schema ${opts.schema}); stop it first, or give this process its own chain (ledger.chain, e.g. the pod name)`,
    );
  };
  const retake = async (): Promise<void> => {
    for (let delay = 1000; !released && !client; delay = Math.min(delay * 2, 30_000)) {
      try {
        await connect();
      } catch (err) {
        opts.logger.warn({ chain: opts.chain, err: { message: (err as Error).message } }, 'ledger chain lock not taken again yet');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  };
  await connect();
  return {
    async release() {
      released = true;
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

/** classify marks a unique violation on the entry id so the ledger can isolate the offending entry. */
function classify(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code === '23505' && e.constraint === 'ledger_entries_id') {
    return Object.assign(new Error(e.message ?? 'duplicate entry id'), { code: DUPLICATE_ID_CODE });
  }
  return err;
}

/** isConnectionError recognises a failure of the connection rather than of the statement. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('57P') || // admin/crash shutdown, cannot connect now
    ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes(code) ||
    /Connection terminated/i.test(e?.message ?? '')
  );
}

async function readHead(pool: pg.Pool, s: string, chain: string): Promise<Head> {
  const res = await pool.query(`SELECT seq, hash FROM ${s}.ledger_entries WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, [chain]);
  const row = res.rows[0] as { seq: string; hash: string } | undefined;
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

/** openPostgresStore connects, migrates and reads the chain's head and last checkpoint. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<OpenedStore> {
  const s = quoteSchema(opts.schema);
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize, connectionTimeoutMillis: opts.connectTimeoutMs });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would crash the process.
  pool.on('error', (err) => opts.logger.warn({ err: { message: err.message } }, 'ledger PostgreSQL connection lost'));
  let lock: PgChainLock | undefined;
  try {
    await migrate(pool, opts.schema);
    lock = await lockChain(opts);
    const head = await readHead(pool, s, opts.chain);
    const cp = await pool.query(
      `SELECT chain, seq, hash, time, key_id AS "keyId", signature FROM ${s}.ledger_checkpoints WHERE chain = $1 ORDER BY seq DESC LIMIT 1`,
      [opts.chain],
    );
    const row = cp.rows[0] as (Omit<Checkpoint, 'seq'> & { seq: string }) | undefined;
    const lastCheckpoint = row ? { ...row, seq: Number(row.seq) } : undefined;
    return { writer: new PostgresWriter(pool, opts, head, lock), head, lastCheckpoint };
  } catch (err) {
    await pool.end().catch(() => undefined);
    await lock?.release();
    throw err;
  }
}
