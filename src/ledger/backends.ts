/**
 * Picks the store backend named by a StoreSpec, for writing (openLedger) or reading
 * (openLedgerReader). The only place that knows which backends exist.
 */
import type { Logger } from '../log.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_PG_SCHEMA, sqlitePath, type LedgerReaderOptions, type StoreSpec } from './options.js';
import { openPostgresReader } from './postgres/postgres-reader.js';
import { openPostgresStore } from './postgres/postgres-writer.js';
import { openSqliteReader } from './sqlite/sqlite-reader.js';
import { openSqliteStore } from './sqlite/sqlite-writer.js';
import type { OpenedStore } from './store.js';
import type { LedgerReader } from './types.js';

/** openStoreForWriting opens (creating and migrating when needed) the store for one chain. */
export function openStoreForWriting(dataDir: string, store: StoreSpec, chain: string, logger: Logger): Promise<OpenedStore> {
  if (store.kind === 'sqlite') {
    return openSqliteStore({ path: sqlitePath(dataDir, store), chain, busyTimeoutMs: store.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  }
  return openPostgresStore({
    url: store.url,
    schema: store.schema ?? DEFAULT_PG_SCHEMA,
    chain,
    poolSize: store.poolSize ?? 4,
    connectTimeoutMs: store.connectTimeoutMs ?? 5000,
    logger,
  });
}

/**
 * openLedgerReader opens an existing ledger for reading (verify, tail, exports); it never
 * creates one. Throws AIRLOCK_LEDGER_NOT_FOUND when there is no ledger at the location.
 */
export async function openLedgerReader(options: LedgerReaderOptions): Promise<LedgerReader> {
  const { dataDir, store } = options;
  if (store.kind === 'sqlite') return openSqliteReader(sqlitePath(dataDir, store));
  return openPostgresReader(store.url, store.schema ?? DEFAULT_PG_SCHEMA);
}
