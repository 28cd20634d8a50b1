/**
 * Messages between the SQLite writer (main thread) and its worker thread. Types only, so
 * both sides agree on the shape without importing each other.
 */
import type { BlobWrite } from '../payload.js';
import type { Head, SealedBatch, EncodedEntry } from '../store.js';
import type { Checkpoint } from '../types.js';

export interface WorkerInit {
  path: string;
  chain: string;
  busyTimeoutMs: number;
}

export type WorkerRequest =
  | { op: 'write'; id: number; entries: EncodedEntry[]; blobs: BlobWrite[] }
  | { op: 'checkpoint'; id: number; checkpoint: Checkpoint }
  | { op: 'close'; id: number };

/** An error as it crosses the thread boundary (SQLite codes such as SQLITE_BUSY kept). */
export interface WireError {
  message: string;
  code?: string;
}

export type WorkerReply =
  | { op: 'ready'; head: Head; lastCheckpoint?: Checkpoint }
  | { op: 'failed'; error: WireError }
  | { op: 'result'; id: number; ok: true; batch?: SealedBatch }
  | { op: 'result'; id: number; ok: false; error: WireError };
