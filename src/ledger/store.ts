/**
 * The contract between the ledger (queueing, checkpoints, failure policy) and a store backend
 * (SQLite in a worker thread, PostgreSQL). A backend owns sequence numbers and hashes: it
 * seals each batch against the head it last committed, so the chain advances only on commit
 * and a failed batch leaves no hole.
 */
import { assembleCanonical, entryHash, type CanonicalParts, type HashedEntry } from './canonical.js';
import type { BlobWrite } from './payload.js';
import type { Checkpoint, StoredEntryRow } from './types.js';

/** An entry before sealing: every field except `chain`, `seq`, `prevHash` and `hash`. */
export type UnsealedEntry = Omit<HashedEntry, 'chain' | 'seq'>;

/**
 * What the ledger hands a store for one entry: the indexed columns and the entry's canonical
 * text in parts (canonical.ts, `encodeParts`). Plain strings, cheap to pass to a thread.
 */
export interface EncodedEntry extends CanonicalParts {
  id: string;
  time: string;
  type: string;
  sessionId: string | null;
}

/** The last committed entry of a chain; seq 0 with the genesis hash for an empty chain. */
export interface Head {
  seq: number;
  hash: string;
}

/** What a committed batch got: entry i has seq `firstSeq + i` and hash `hashes[i]`. */
export interface SealedBatch {
  firstSeq: number;
  prevHash: string;
  hashes: string[];
}

export interface StoreWriter {
  /** write commits the batch in one durable transaction, or rejects having committed nothing. */
  write(entries: EncodedEntry[], blobs: BlobWrite[]): Promise<SealedBatch>;
  writeCheckpoint(cp: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

/** What a backend reports when it opens for writing. */
export interface OpenedStore {
  writer: StoreWriter;
  head: Head;
  lastCheckpoint?: Checkpoint;
}

/** sealBatch assigns seq and hash to each entry after `head`, returning the rows to insert and the new head. */
export function sealBatch(chain: string, head: Head, entries: EncodedEntry[]): { rows: StoredEntryRow[]; head: Head } {
  const rows: StoredEntryRow[] = new Array(entries.length);
  let { seq, hash } = head;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as EncodedEntry;
    seq++;
    const canonical = assembleCanonical(e, chain, seq);
    const prevHash = hash;
    hash = entryHash(prevHash, canonical);
    rows[i] = { chain, seq, id: e.id, time: e.time, type: e.type, sessionId: e.sessionId, prevHash, hash, canonical };
  }
  return { rows, head: { seq, hash } };
}

/** toSealedBatch summarises sealed rows for the ledger. */
export function toSealedBatch(rows: StoredEntryRow[], prev: Head): SealedBatch {
  return { firstSeq: prev.seq + 1, prevHash: prev.hash, hashes: rows.map((r) => r.hash) };
}

/**
 * The error code a backend gives a write that failed only because an entry id was already
 * recorded: the ledger then retries the batch entry by entry and refuses just that entry.
 */
export const DUPLICATE_ID_CODE = 'AIRLOCK_LEDGER_DUPLICATE_ID';

/** isDuplicateIdError recognises DUPLICATE_ID_CODE on an error from any backend. */
export function isDuplicateIdError(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === DUPLICATE_ID_CODE;
}
