/**
 * The PostgreSQL ledger schema: the same logical tables as SQLite (sqlite-schema.ts) in a
 * schema of their own (default `airlock`). Migrations run at open under a transaction-scoped
 * advisory lock, so several replicas starting together migrate once. The primary key
 * (chain, seq) is what makes "each entry lands exactly once" hold when several replicas, each
 * with its own chain, share one database.
 */
import type { Pool, PoolClient } from 'pg';
import { AirlockError } from '../../errors.js';

interface PgMigration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}

export const PG_MIGRATIONS: PgMigration[] = [
  {
    version: 1,
    name: 'entries, blobs and checkpoints',
    sql: (s) => `
      CREATE TABLE ${s}.ledger_entries (
        chain      text   NOT NULL,
        seq        bigint NOT NULL,
        id         text   NOT NULL,
        time       text   NOT NULL,
        type       text   NOT NULL,
        session_id text,
        prev_hash  text   NOT NULL,
        hash       text   NOT NULL,
        canonical  text   NOT NULL,
        PRIMARY KEY (chain, seq)
      );
      CREATE UNIQUE INDEX ledger_entries_id ON ${s}.ledger_entries (id);
      CREATE INDEX ledger_entries_time ON ${s}.ledger_entries (time);
      CREATE INDEX ledger_entries_session ON ${s}.ledger_entries (session_id) WHERE session_id IS NOT NULL;
      CREATE INDEX ledger_entries_type ON ${s}.ledger_entries (type, chain, seq);
      CREATE TABLE ${s}.ledger_blobs (
        sha256 text    PRIMARY KEY,
        size   integer NOT NULL,
        data   bytea   NOT NULL
      );
      CREATE TABLE ${s}.ledger_checkpoints (
        chain     text   NOT NULL,
        seq       bigint NOT NULL,
        hash      text   NOT NULL,
        time      text   NOT NULL,
        key_id    text   NOT NULL,
        signature text   NOT NULL,
        PRIMARY KEY (chain, seq)
      );
    `,
  },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** A schema name becomes part of SQL text, so it must be a plain identifier. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `ledger schema ${JSON.stringify(schema)} must be a lower-case SQL identifier`);
  }
  return `"${schema}"`;
}

/** notifyChannel is the LISTEN/NOTIFY channel appends are announced on. */
export function notifyChannel(schema: string): string {
  return `${schema}_ledger_appended`;
}

/** migrate creates the schema and applies pending migrations, once across replicas. */
export async function migrate(pool: Pool, schema: string): Promise<void> {
  const s = quoteSchema(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One lock id per schema: hashtext is stable across servers of one major version.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`airlock.ledger.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.ledger_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const current = await schemaVersion(client, s);
    if (current > PG_SCHEMA_VERSION) {
      throw new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', `the ledger schema is version ${current}; this airlock knows up to ${PG_SCHEMA_VERSION}`);
    }
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.ledger_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** schemaVersion reads the applied version (0 when the migrations table is absent). */
export async function schemaVersion(client: Pool | PoolClient, quotedSchema: string): Promise<number> {
  const exists = await client.query('SELECT to_regclass($1) AS t', [`${quotedSchema}.ledger_migrations`]);
  if (!exists.rows[0]?.t) return 0;
  const res = await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${quotedSchema}.ledger_migrations`);
  return Number(res.rows[0]?.v ?? 0);
}
