/**
 * The SQLite read side, for verify, tail, exports and evidence. It opens its own
 * connection and never writes: WAL lets it read while the writer thread commits. Pages are
 * fetched with keyset pagination (store-query.ts), so no statement stays open across an
 * `await` and a caller may interleave `blob()` lookups while streaming rows.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AirlockError } from '../../errors.js';
import { buildRowsQuery, pagedRows, rowToEntry } from '../store-query.js';
import type { Checkpoint, EntryQuery, LedgerEntry, LedgerReader, StoredEntryRow } from '../types.js';
import { damaged, schemaVersion, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';

/**
 * openSqliteReader opens `path` for reading. Throws AIRLOCK_LEDGER_NOT_FOUND when the file
 * is missing or holds no ledger, AIRLOCK_LEDGER_CORRUPT when it is not a SQLite database (or
 * a damaged one), AIRLOCK_LEDGER_UNAVAILABLE when its schema is newer than this airlock.
 */
export function openSqliteReader(path: string): LedgerReader {
  if (!existsSync(path)) throw new AirlockError('AIRLOCK_LEDGER_NOT_FOUND', `no ledger database at ${path}`);
  // Read-write open with query_only: a read-only open of a WAL file fails when its -shm file
  // is absent, and query_only still refuses every write on this connection.
  const db = new Database(path, { fileMustExist: true });
  let version: number;
  try {
    db.pragma('query_only = ON');
    db.pragma('busy_timeout = 5000');
    version = schemaVersion(db);
  } catch (err) {
    db.close();
    throw damaged(err, path);
  }
  if (version === 0) {
    db.close();
    throw new AirlockError('AIRLOCK_LEDGER_NOT_FOUND', `${path} is not an airlock ledger`);
  }
  if (version > SQLITE_SCHEMA_VERSION) {
    db.close();
    throw new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', `the ledger schema is version ${version}; this airlock reads up to ${SQLITE_SCHEMA_VERSION}`);
  }

  /** read runs one query; a page damaged on disk is AIRLOCK_LEDGER_CORRUPT, not a stack trace. */
  const read = <T>(query: () => T): T => {
    try {
      return query();
    } catch (err) {
      throw damaged(err, path);
    }
  };

  const rows = (query: EntryQuery): AsyncGenerator<StoredEntryRow> =>
    pagedRows(query, async (cursor, pageSize) => {
      const { sql, params } = buildRowsQuery('ledger_entries', query, cursor, pageSize, () => '?');
      return read(() => db.prepare(sql).all(...params) as StoredEntryRow[]);
    });

  return {
    async chains() {
      // Chains with checkpoints but no rows are listed too: their entries may all have been removed.
      const list = read(
        () => db.prepare('SELECT DISTINCT chain FROM ledger_entries UNION SELECT DISTINCT chain FROM ledger_checkpoints ORDER BY chain').all() as { chain: string }[],
      );
      return list.map((r) => r.chain);
    },
    rows,
    async *entries(query: EntryQuery): AsyncGenerator<LedgerEntry> {
      for await (const row of rows(query)) yield rowToEntry(row);
    },
    async head(chain) {
      const row = read(() => db.prepare('SELECT seq, hash FROM ledger_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1').get(chain)) as
        | { seq: number; hash: string }
        | undefined;
      return row ? { seq: row.seq, hash: row.hash } : undefined;
    },
    async checkpoints(chain) {
      const list = read(
        () => db.prepare('SELECT chain, seq, hash, time, key_id AS keyId, signature FROM ledger_checkpoints WHERE chain = ? ORDER BY seq').all(chain) as Checkpoint[],
      );
      return list.map((c) => ({ ...c }));
    },
    async blob(sha256) {
      const row = read(() => db.prepare('SELECT data FROM ledger_blobs WHERE sha256 = ?').get(sha256)) as { data: Buffer } | undefined;
      return row ? new Uint8Array(row.data) : undefined;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
