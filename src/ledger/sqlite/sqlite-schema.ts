/**
 * The SQLite ledger schema and its migrations. The logical schema is the same as
 * PostgreSQL's (postgres-schema.ts): entries keyed by (chain, seq) holding the exact
 * canonical text the hash covers, content-addressed blobs, and signed checkpoints.
 * Migrations are append-only: a released migration is never edited, a change is a new one.
 */
import type Database from 'better-sqlite3';
import { AirlockError } from '../../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'entries, blobs and checkpoints',
    sql: `
      CREATE TABLE ledger_entries (
        chain      TEXT    NOT NULL,
        seq        INTEGER NOT NULL,
        id         TEXT    NOT NULL,
        time       TEXT    NOT NULL,
        type       TEXT    NOT NULL,
        session_id TEXT,
        prev_hash  TEXT    NOT NULL,
        hash       TEXT    NOT NULL,
        canonical  TEXT    NOT NULL,
        PRIMARY KEY (chain, seq)
      );
      CREATE UNIQUE INDEX ledger_entries_id ON ledger_entries (id);
      CREATE INDEX ledger_entries_time ON ledger_entries (time);
      CREATE INDEX ledger_entries_session ON ledger_entries (session_id) WHERE session_id IS NOT NULL;
      CREATE INDEX ledger_entries_type ON ledger_entries (type, chain, seq);
      CREATE TABLE ledger_blobs (
        sha256 TEXT    PRIMARY KEY,
        size   INTEGER NOT NULL,
        data   BLOB    NOT NULL
      );
      CREATE TABLE ledger_checkpoints (
        chain     TEXT    NOT NULL,
        seq       INTEGER NOT NULL,
        hash      TEXT    NOT NULL,
        time      TEXT    NOT NULL,
        key_id    TEXT    NOT NULL,
        signature TEXT    NOT NULL,
        PRIMARY KEY (chain, seq)
      );
    `,
  },
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

/** WAL pages after which a commit checkpoints the WAL into the database file (see configureForWriting). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * configureForWriting sets the pragmas that make a commit durable: WAL with
 * `synchronous=FULL` fsyncs the WAL on every commit, so a resolved append survives power
 * loss. `busy_timeout` bounds how long a write waits for another connection's lock before it
 * fails (and the ledger reports itself unwritable). Readers page through rows in short
 * statements (store-query.ts), so they never hold a snapshot long enough to stall checkpoints.
 */
export function configureForWriting(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  // SQLite folds the WAL back into the database inside the commit that crosses this many
  // pages, so that commit waits for the copy and a sync of the database file. Each commit
  // appends a handful of pages; at SQLite's default of 1,000 pages one commit in ~150 paid
  // for a checkpoint — in the p99 of a gateway's responses. At 10,000 pages (40 MiB of WAL)
  // it is one in ~1,500, and the WAL is still bounded.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  // After a burst the WAL is cut back to 64 MiB at the next checkpoint instead of staying large.
  db.pragma('journal_size_limit = 67108864');
  db.pragma('foreign_keys = ON');
}

/** migrate brings the schema up to date in one transaction; refuses a file from a newer airlock. */
export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ledger_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', `the ledger schema is version ${current}; this airlock knows up to ${SQLITE_SCHEMA_VERSION}`);
    }
    const record = db.prepare('INSERT INTO ledger_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}

/** schemaVersion is the highest applied migration (0 for a file without the ledger tables). */
export function schemaVersion(db: Database.Database): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_migrations'").get();
  if (!exists) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM ledger_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** SQLite's codes for a file that is not a database, or a damaged one. */
const DAMAGED_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * damaged turns SQLite's "file is not a database" / "database disk image is malformed" into
 * AIRLOCK_LEDGER_CORRUPT naming the file and what to do; any other error is returned as it is.
 * airlock never writes to, repairs or replaces such a file itself: it is evidence.
 */
export function damaged(err: unknown, path: string): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !DAMAGED_CODES.has(code)) return err;
  return new AirlockError(
    'AIRLOCK_LEDGER_CORRUPT',
    `${path} cannot be read as a SQLite database (SQLite says: ${(err as Error).message}): it was damaged or overwritten. ` +
      'airlock will not write to it; restore it from a backup, or move it aside (keep it as evidence) to start a new ledger',
  );
}
