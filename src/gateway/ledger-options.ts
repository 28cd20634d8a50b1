/** ledgerOptionsFromConfig maps the `ledger` configuration section onto the ledger's options. */
import type { AirlockConfig } from '../config/index.js';
import type { LedgerOptions, LedgerReaderOptions, StoreSpec } from '../ledger/index.js';
import type { WitnessSpec } from '../ledger/index.js';
import { isAbsolute, join } from 'node:path';

/** storeFromConfig names the ledger store: the SQLite file (relative to the data dir) or PostgreSQL. */
export function storeFromConfig(config: AirlockConfig): StoreSpec {
  const ledger = config.ledger;
  if (ledger.store === 'postgres') {
    // The schema refuses store: postgres without a URL, so this is a programming error.
    if (!ledger.postgres.url) throw new Error('ledger.postgres.url is required when ledger.store is postgres');
    return { kind: 'postgres', url: ledger.postgres.url, schema: ledger.postgres.schema };
  }
  const path = ledger.sqlite.path;
  return { kind: 'sqlite', path: isAbsolute(path) ? path : join(config.data, path), busyTimeoutMs: ledger.sqlite.busyTimeout };
}

/** ledgerOptionsFromConfig returns the writer's options (the caller adds logger and hooks). */
export function ledgerOptionsFromConfig(config: AirlockConfig): LedgerOptions {
  const ledger = config.ledger;
  const witness: WitnessSpec[] = ledger.witness.map((w) =>
    w.file !== undefined ? { file: w.file } : { url: w.url as string, ...(w.headers ? { headers: w.headers } : {}) },
  );
  return {
    dataDir: config.data,
    store: storeFromConfig(config),
    chain: ledger.chain,
    checkpoint: { entries: ledger.checkpoint.entries, intervalMs: ledger.checkpoint.interval },
    witness,
    failureMode: ledger.failureMode,
    inlineLimit: ledger.inlineLimit,
  };
}

/** readerOptionsFromConfig returns what `openLedgerReader` needs. */
export function readerOptionsFromConfig(config: AirlockConfig): LedgerReaderOptions {
  return { dataDir: config.data, store: storeFromConfig(config) };
}
