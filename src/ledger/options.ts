/**
 * Options of the ledger and its stores, with their defaults in one place (docs/ledger.md,
 * "Configuration").
 */
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_INLINE_LIMIT } from './payload.js';
import type { WitnessSpec } from './witness.js';
import type { Checkpoint } from './types.js';

/** Where entries are kept. SQLite is the embedded default; PostgreSQL serves several replicas. */
export type StoreSpec =
  | {
      kind: 'sqlite';
      /** Database file; `<dataDir>/ledger.db` by default. */
      path?: string;
      /** How long a write waits for a lock held by another connection before failing (ms, default 5000). */
      busyTimeoutMs?: number;
    }
  | {
      kind: 'postgres';
      url: string;
      /** Schema holding the ledger tables (default `airlock`); created when missing. */
      schema?: string;
      /** Connections opened to PostgreSQL (default 4). */
      poolSize?: number;
      /** How long to wait for a connection before failing a write (ms, default 5000). */
      connectTimeoutMs?: number;
    };

/** What one append cost, for the append-latency histogram. */
export interface AppendObservation {
  seconds: number;
  /** False when the append was refused (closed) or left unrecorded (open). */
  durable: boolean;
}

export interface LedgerOptions {
  /** The data dir: holds the signing key (`keys/`) and, by default, the SQLite file. */
  dataDir: string;
  store: StoreSpec;
  /** This replica's chain id (default `main`); one chain per airlock process. */
  chain?: string;
  /** Checkpoint every `entries` entries (default 1000) or every `intervalMs` (default 60000) when there are new entries. */
  checkpoint?: { entries?: number; intervalMs?: number };
  /** External copies of every checkpoint; see witness.ts. */
  witness?: WitnessSpec[];
  /** `closed` (default): append rejects while the store cannot write. `open`: it resolves with an unrecorded entry. */
  failureMode?: 'closed' | 'open';
  /** Largest body kept inline in an entry (bytes, default 4096); larger ones go to the blob store. */
  inlineLimit?: number;
  logger?: Logger;
  now?: () => Date;
  /** Called once per append when it settles (metrics: airlock_ledger_append_seconds). */
  onAppend?: (observation: AppendObservation) => void;
  /** Called after each checkpoint is stored. */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
}

/** What `openLedgerReader` needs: the same data dir and store as the writer. */
export interface LedgerReaderOptions {
  dataDir: string;
  store: StoreSpec;
}

export const DEFAULT_CHAIN = 'main';
export const DEFAULT_CHECKPOINT_ENTRIES = 1000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
export const DEFAULT_PG_SCHEMA = 'airlock';

/** sqlitePath is the SQLite file a store spec names. */
export function sqlitePath(dataDir: string, store: { path?: string }): string {
  return store.path ?? join(dataDir, 'ledger.db');
}

/** A chain id is printed in `chain#seq` and used in SQL parameters: keep it plain. */
export const CHAIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** LedgerOptions with every default filled in and every number checked. */
export type ResolvedLedgerOptions = LedgerOptions &
  Required<Pick<LedgerOptions, 'chain' | 'failureMode' | 'inlineLimit' | 'logger' | 'now'>> & {
    checkpointEntries: number;
    checkpointIntervalMs: number;
  };

/**
 * resolveLedgerOptions fills in defaults. Throws AIRLOCK_CONFIG_INVALID for a chain id
 * outside CHAIN_PATTERN, an unknown failure mode, or a count or interval that is not a
 * positive integer.
 */
export function resolveLedgerOptions(o: LedgerOptions): ResolvedLedgerOptions {
  const chain = o.chain ?? DEFAULT_CHAIN;
  if (!CHAIN_PATTERN.test(chain)) throw invalid(`ledger chain id ${JSON.stringify(chain)} must match ${CHAIN_PATTERN}`);
  if (o.failureMode !== undefined && o.failureMode !== 'closed' && o.failureMode !== 'open') {
    throw invalid(`ledger failureMode must be 'closed' or 'open', not ${JSON.stringify(o.failureMode)}`);
  }
  const positive = (name: string, v: number | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || v <= 0) throw invalid(`ledger ${name} must be a positive integer`);
    return v;
  };
  return {
    ...o,
    chain,
    failureMode: o.failureMode ?? 'closed',
    inlineLimit: o.inlineLimit === 0 ? 0 : positive('inlineLimit', o.inlineLimit, DEFAULT_INLINE_LIMIT),
    logger: o.logger ?? silentLogger,
    now: o.now ?? (() => new Date()),
    checkpointEntries: positive('checkpoint.entries', o.checkpoint?.entries, DEFAULT_CHECKPOINT_ENTRIES),
    checkpointIntervalMs: positive('checkpoint.intervalMs', o.checkpoint?.intervalMs, DEFAULT_CHECKPOINT_INTERVAL_MS),
  };
}

function invalid(detail: string): AirlockError {
  return new AirlockError('AIRLOCK_CONFIG_INVALID', detail);
}
