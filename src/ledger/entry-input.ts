/**
 * Turns what a caller hands to `append` into an encoded, unsealed entry: fills id and time,
 * converts bodies to payloads (and blobs), and encodes the canonical text (refusing values
 * JSON cannot carry). This runs on the caller's thread before an entry joins a batch, so one
 * bad entry is refused on its own instead of failing the batch it would have shared, and the
 * store's thread receives plain strings.
 */
import { AirlockError } from '../errors.js';
import { encodeParts } from './canonical.js';
import { buildPayload, hasLoneSurrogate, type BlobWrite } from './payload.js';
import type { EncodedEntry, UnsealedEntry } from './store.js';
import type { EntryInput } from './types.js';

/** An entry ready to be sealed, with the blobs its payloads reference. */
export interface PreparedEntry {
  entry: UnsealedEntry;
  encoded: EncodedEntry;
  blobs: BlobWrite[];
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * prepareEntry validates, completes and encodes one input. Throws AIRLOCK_INPUT_INVALID for
 * a malformed id or time, an empty type, or a field holding a non-JSON value (NaN, a Date, a
 * BigInt, a function, a cycle).
 */
export function prepareEntry(input: EntryInput, deps: { newId: () => string; now: () => Date; inlineLimit: number }): PreparedEntry {
  if (typeof input.type !== 'string' || input.type === '') throw invalid('type must be a non-empty string');
  if (input.id !== undefined && (typeof input.id !== 'string' || !ID_PATTERN.test(input.id))) {
    throw invalid('id must be 1-128 characters of letters, digits and . _ : -');
  }
  if (input.sessionId !== undefined && typeof input.sessionId !== 'string') throw invalid('sessionId must be a string');
  // type and sessionId are also stored as plain text columns: both stores need them to be
  // well-formed Unicode, and PostgreSQL text cannot hold NUL.
  for (const [name, value] of [['type', input.type], ['sessionId', input.sessionId]] as const) {
    if (value !== undefined && (value.includes('\u0000') || hasLoneSurrogate(value))) throw invalid(`${name} must be well-formed text without NUL`);
  }
  const entry: UnsealedEntry = {
    id: input.id ?? deps.newId(),
    time: input.time === undefined ? deps.now().toISOString() : normalizeTime(input.time),
    type: input.type,
  };
  const blobs: BlobWrite[] = [];
  if (input.sessionId !== undefined) entry.sessionId = input.sessionId;
  if (input.identity !== undefined) entry.identity = input.identity;
  if (input.connection !== undefined) entry.connection = input.connection;
  if (input.action !== undefined) entry.action = input.action;
  if (input.decision !== undefined) entry.decision = input.decision;
  if (input.approvalId !== undefined) entry.approvalId = input.approvalId;
  for (const field of ['request', 'response'] as const) {
    const body = input[field];
    if (body === undefined) continue;
    const { payload, blob } = buildPayload(body, deps.inlineLimit);
    entry[field] = payload;
    if (blob) blobs.push(blob);
  }
  if (input.data !== undefined) entry.data = input.data;
  let parts;
  try {
    parts = encodeParts(entry);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const encoded: EncodedEntry = { id: entry.id, time: entry.time, type: entry.type, sessionId: entry.sessionId ?? null, ...parts };
  return { entry, encoded, blobs };
}

/**
 * normalizeTime keeps a caller's time (imported entries keep theirs) in the one form the
 * ledger stores: RFC 3339 UTC with milliseconds, which also sorts correctly as text.
 */
function normalizeTime(time: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`time ${JSON.stringify(time)} is not an RFC 3339 time`);
  return new Date(ms).toISOString();
}

function invalid(detail: string): AirlockError {
  return new AirlockError('AIRLOCK_INPUT_INVALID', `ledger entry: ${detail}`);
}
