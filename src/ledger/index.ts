/**
 * The ledger: airlock's single sink for evidence. An append-only, hash-chained sequence of
 * entries per chain (one chain per replica), group-committed to SQLite or PostgreSQL, sealed
 * by Ed25519-signed checkpoints that witnesses can keep outside the store, and verifiable
 * offline. docs/ledger.md describes the format precisely enough to re-implement `verify`.
 */
export { openLedger } from './ledger.js';
export { openLedgerReader } from './backends.js';
export { verifyLedger, type VerifyOptions } from './verify.js';
export type { ChainReport, VerifyProblem, VerifyReason, VerifyReport } from './verify-report.js';
export { tailLedger, formatEntryLine, type TailOptions } from './tail.js';
export { loadLedgerSigningKey, exportLedgerPublicKey, ledgerKeyId, type LedgerSigningKey } from './signing-key.js';
export { readWitnessFile, type WitnessSpec } from './witness.js';
export { GENESIS_HASH, encodeEntry, entryHash, checkpointMessage } from './canonical.js';
export { createUuidV7, uuidV7 } from './uuid-v7.js';
export type { AppendObservation, LedgerOptions, LedgerReaderOptions, StoreSpec } from './options.js';
export type * from './types.js';
