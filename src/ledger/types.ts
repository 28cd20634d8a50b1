/**
 * Ledger types. The ledger is airlock's single sink for evidence: an append-only,
 * hash-chained sequence of entries per chain (one chain per airlock replica), with signed
 * checkpoints. The canonical encoding that the hash covers is documented in docs/ledger.md.
 */
import type { Identity } from '../identity/identity.js';
import type { PolicyRequest } from '../policy/request.js';
import type { Effect } from '../policy/decision.js';

/**
 * Known entry types. `request` is one protocol request (action, decision, upstream status,
 * masked bodies); `stream` carries events inside a long-running request (watch events,
 * terminal frames); the others record sessions, approvals, policy loads and the gateway's
 * own life. New types may be added; readers must tolerate unknown ones.
 */
export type EntryType =
  | 'request'
  | 'stream'
  | 'session.start'
  | 'session.end'
  | 'approval.requested'
  | 'approval.notified'
  | 'approval.approved'
  | 'approval.denied'
  | 'approval.expired'
  | 'approval.used'
  | 'approval.revoked'
  | 'policy.loaded'
  | 'system'
  | 'imported'
  | (string & {});

/** The identity as recorded: never the token, only who and through which verifier. */
export type RecordedIdentity = Pick<Identity, 'subject' | 'groups' | 'issuer' | 'kind' | 'tokenId' | 'via'> & {
  clientId?: string;
};

export interface RecordedDecision {
  effect: Effect;
  rules: string[];
  message: string;
  defaulted?: boolean;
  /** What the decision let the caller see unmasked (break-glass), e.g. `['secrets']`. */
  unmasked?: string[];
  /** Stream detectors a rule added to the defaults for this caller (e.g. `['pii']`). */
  maskDetectors?: string[];
}

/**
 * A masked body as given to `append`: `body` is the already-masked content. The ledger
 * stores bodies up to its inline limit inside the entry and larger ones content-addressed
 * in the blob store, referenced by their SHA-256.
 */
export interface PayloadInput {
  contentType?: string;
  body: string | Uint8Array;
  /** Size of the full masked body when `body` was truncated by the caller (size cap). */
  fullSize?: number;
  /** SHA-256 (hex) of the full masked body when `body` was truncated. */
  fullSha256?: string;
}

/** A stored payload: what the entry hash covers. */
export interface Payload {
  contentType?: string;
  /** Bytes of `body` as stored. */
  size: number;
  /** SHA-256 hex of the stored body bytes. */
  sha256: string;
  /** utf-8 body when it is small enough to be kept inline (and valid utf-8). */
  inline?: string;
  /** When true, the body lives in the blob store under `sha256`. */
  blob?: boolean;
  fullSize?: number;
  fullSha256?: string;
}

/** What a caller hands to `append`. */
export interface EntryInput {
  /** Entry id; generated (time-ordered UUIDv7) when absent. Used as the Kubernetes Audit-ID. */
  id?: string;
  type: EntryType;
  /** RFC 3339 time with milliseconds; the append time when absent. Imported entries keep theirs. */
  time?: string;
  sessionId?: string;
  identity?: RecordedIdentity;
  connection?: string;
  action?: PolicyRequest;
  decision?: RecordedDecision;
  approvalId?: string;
  request?: PayloadInput;
  response?: PayloadInput;
  /** Type-specific fields (upstream status, duration, policy hash, …). JSON values only. */
  data?: Record<string, unknown>;
}

/** A committed entry. `hash = H(prevHash, canonical(entry without hash))`, see docs/ledger.md. */
export interface LedgerEntry extends Omit<EntryInput, 'request' | 'response' | 'id' | 'time'> {
  id: string;
  time: string;
  chain: string;
  seq: number;
  request?: Payload;
  response?: Payload;
  prevHash: string;
  hash: string;
  /**
   * Set only on an entry returned by `append` under `failureMode: 'open'` when the write
   * failed: the entry was NOT recorded. It is never stored and never hashed.
   */
  unrecorded?: true;
}

/**
 * A stored row as the backends keep it: the hashed canonical text plus the columns that
 * index it. Verification works on rows, so an edited column is caught as well as an edited
 * canonical text.
 */
export interface StoredEntryRow {
  chain: string;
  seq: number;
  id: string;
  time: string;
  type: string;
  sessionId: string | null;
  prevHash: string;
  hash: string;
  /** RFC 8785 canonical JSON of the entry without `prevHash` and `hash`: the bytes the hash covers. */
  canonical: string;
}

/** A signed statement that `chain` had `seq` entries ending in `hash` at `time`. */
export interface Checkpoint {
  chain: string;
  seq: number;
  hash: string;
  time: string;
  /** Key id (SHA-256 thumbprint prefix of the public key). */
  keyId: string;
  /** Base64url Ed25519 signature over the canonical encoding of the fields above. */
  signature: string;
}

export interface EntryQuery {
  chain?: string;
  fromSeq?: number;
  toSeq?: number;
  since?: string;
  until?: string;
  types?: EntryType[];
  sessionId?: string;
  limit?: number;
}

/** LedgerHealth is what /readyz and /metrics report. */
export interface LedgerHealth {
  writable: boolean;
  lastError?: string;
  chain: string;
  lastSeq: number;
  lastCheckpointAt?: string;
  /** Sequence number the last checkpoint covers (0 before the first). */
  lastCheckpointSeq: number;
  failOpen: boolean;
  /** Appends refused (closed) or left unrecorded (open) since the ledger last failed. */
  lostSinceFailure: number;
  /** Last error of each configured witness that failed its most recent delivery. */
  witnessErrors: string[];
}

/** Ledger is the write side used by the gateway. */
export interface Ledger {
  readonly chain: string;
  /** append resolves only after the entry is committed durably; rejects with AIRLOCK_LEDGER_UNAVAILABLE otherwise. */
  append(input: EntryInput): Promise<LedgerEntry>;
  /**
   * onEntry calls `listener` with each entry once it is durable, in this process (approvals
   * wake their waiters with it); the returned function unsubscribes. A throwing listener is ignored.
   */
  onEntry(listener: (entry: LedgerEntry) => void): () => void;
  health(): LedgerHealth;
  /** checkpoint writes a signed checkpoint now (also done every N entries / T seconds). */
  checkpoint(): Promise<Checkpoint | undefined>;
  close(): Promise<void>;
}

/** LedgerReader is the read side used by verify, tail, exports and evidence. */
export interface LedgerReader {
  chains(): Promise<string[]>;
  entries(query: EntryQuery): AsyncIterable<LedgerEntry>;
  /** rows streams stored rows in (chain, seq) order, in bounded pages; verify reads these. */
  rows(query: EntryQuery): AsyncIterable<StoredEntryRow>;
  /** head is the last stored entry of a chain, or undefined for an empty chain. */
  head(chain: string): Promise<{ seq: number; hash: string } | undefined>;
  /**
   * subscribe calls `listener` whenever another process may have appended (PostgreSQL
   * LISTEN/NOTIFY). Absent when the backend cannot push (SQLite), where tail polls.
   */
  subscribe?(listener: () => void): Promise<() => Promise<void>>;
  checkpoints(chain: string): Promise<Checkpoint[]>;
  blob(sha256: string): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}
