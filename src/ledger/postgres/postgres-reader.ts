/**
 * The PostgreSQL read side: keyset-paged rows (store-query.ts) and LISTEN/NOTIFY so that
 * `airlock audit tail` sees appends from any replica as they commit.
 */
import pg from 'pg';
import { AirlockError } from '../../errors.js';
import { buildRowsQuery, pagedRows, rowToEntry } from '../store-query.js';
import type { Checkpoint, EntryQuery, LedgerEntry, LedgerReader, StoredEntryRow } from '../types.js';
import { notifyChannel, PG_SCHEMA_VERSION, quoteSchema, schemaVersion } from './postgres-schema.js';

type PgRow<T> = Omit<T, 'seq'> & { seq: string };

/**
 * openPostgresReader connects to the ledger in `schema`. Throws AIRLOCK_LEDGER_NOT_FOUND when
 * the schema holds no ledger tables, AIRLOCK_LEDGER_UNAVAILABLE when the server cannot be
 * reached or the schema is newer than this airlock.
 */
export async function openPostgresReader(url: string, schema: string): Promise<LedgerReader> {
  const s = quoteSchema(schema);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  let version: number;
  try {
    version = await schemaVersion(pool, s);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', `cannot read the PostgreSQL ledger: ${(err as Error).message}`, { cause: err });
  }
  if (version === 0 || version > PG_SCHEMA_VERSION) {
    await pool.end();
    if (version === 0) throw new AirlockError('AIRLOCK_LEDGER_NOT_FOUND', `schema ${schema} holds no airlock ledger`);
    throw new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', `the ledger schema is version ${version}; this airlock reads up to ${PG_SCHEMA_VERSION}`);
  }

  const rows = (query: EntryQuery): AsyncGenerator<StoredEntryRow> =>
    pagedRows(query, async (cursor, pageSize) => {
      const { sql, params } = buildRowsQuery(`${s}.ledger_entries`, query, cursor, pageSize, (i) => `$${i}`);
      const res = await pool.query(sql, params);
      return (res.rows as PgRow<StoredEntryRow>[]).map((r) => ({ ...r, seq: Number(r.seq) }));
    });

  return {
    async chains() {
      // Chains with checkpoints but no rows are listed too: their entries may all have been removed.
      const res = await pool.query(`SELECT chain FROM ${s}.ledger_entries UNION SELECT chain FROM ${s}.ledger_checkpoints ORDER BY chain`);
      return (res.rows as { chain: string }[]).map((r) => r.chain);
    },
    rows,
    async *entries(query: EntryQuery): AsyncGenerator<LedgerEntry> {
      for await (const row of rows(query)) yield rowToEntry(row);
    },
    async head(chain) {
      const res = await pool.query(`SELECT seq, hash FROM ${s}.ledger_entries WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, [chain]);
      const row = res.rows[0] as { seq: string; hash: string } | undefined;
      return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
    },
    async checkpoints(chain) {
      const res = await pool.query(
        `SELECT chain, seq, hash, time, key_id AS "keyId", signature FROM ${s}.ledger_checkpoints WHERE chain = $1 ORDER BY seq`,
        [chain],
      );
      return (res.rows as PgRow<Checkpoint>[]).map((r) => ({ ...r, seq: Number(r.seq) }));
    },
    async blob(sha256) {
      const res = await pool.query(`SELECT data FROM ${s}.ledger_blobs WHERE sha256 = $1`, [sha256]);
      const row = res.rows[0] as { data: Buffer } | undefined;
      return row ? new Uint8Array(row.data) : undefined;
    },
    async subscribe(listener) {
      const client = await pool.connect();
      const onNotification = (): void => listener();
      client.on('notification', onNotification);
      client.on('error', () => undefined);
      await client.query(`LISTEN "${notifyChannel(schema)}"`);
      return async () => {
        client.off('notification', onNotification);
        await client.query(`UNLISTEN "${notifyChannel(schema)}"`).catch(() => undefined);
        client.release();
      };
    },
    async close() {
      await pool.end();
    },
  };
}
