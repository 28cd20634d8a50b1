/**
 * The canonical encoding and hash of ledger entries and checkpoints (docs/ledger.md, "Hash").
 * Everything that decides whether evidence verifies lives here, in a few lines an auditor can
 * re-implement:
 *
 *   canonical = JCS(entry without prevHash and hash)            RFC 8785
 *   hash      = hex(SHA-256(utf8("airlock.ledger.v1\n" + prevHash + "\n" + canonical)))
 *   prevHash  = hash of the entry before, or 64 zeros for seq 1
 *
 * JCS sorts object keys by UTF-16 code units, writes numbers the way ECMAScript does and
 * omits `undefined` members, so the same entry always has the same bytes whatever order its
 * fields were built in. This module does no I/O.
 */
import { createHash } from 'node:crypto';
import type { Checkpoint, LedgerEntry } from './types.js';

/** The prevHash of the first entry (seq 1) of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Domain separators: an entry hash can never be mistaken for a checkpoint message. */
export const ENTRY_DOMAIN = 'airlock.ledger.v1';
export const CHECKPOINT_DOMAIN = 'airlock.ledger.checkpoint.v1';

/** The hashed part of an entry: everything except `prevHash` and `hash` (and `unrecorded`). */
export type HashedEntry = Omit<LedgerEntry, 'prevHash' | 'hash' | 'unrecorded'>;

/**
 * jcs encodes a JSON value per RFC 8785. Strings and numbers are serialised by the engine's
 * own JSON.stringify, which is exactly what JCS prescribes (ECMAScript Number::toString,
 * minimal string escaping); objects get their keys sorted by UTF-16 code units; `undefined`
 * object members are omitted. It is written here rather than taken from the `canonicalize`
 * package because it runs once per entry on the gateway's thread and is about twice as fast;
 * property tests hold it byte-for-byte equal to `canonicalize` on arbitrary JSON.
 *
 * It is stricter than JSON.stringify: a value JSON cannot carry faithfully (NaN, Infinity,
 * BigInt, a function, a Date or other non-plain object, `undefined` in an array, a cycle)
 * throws a TypeError instead of being silently converted.
 */
export function jcs(value: unknown): string {
  return serialize(value, 0);
}

const MAX_DEPTH = 100;
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON encoding`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new TypeError('value is nested too deeply (or cyclic)');
      return Array.isArray(value) ? serializeArray(value, depth) : serializeObject(value, depth);
    default:
      throw new TypeError(`a ${typeof value} has no JSON encoding`);
  }
}

function serializeArray(list: unknown[], depth: number): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    if (list[i] === undefined) throw new TypeError('undefined in an array has no JSON encoding');
    out += (i === 0 ? '' : ',') + serialize(list[i], depth + 1);
  }
  return `${out}]`;
}

function serializeObject(object: object, depth: number): string {
  const proto = Object.getPrototypeOf(object) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new TypeError('a non-plain object (Date, Map, class instance) has no JSON encoding');
  const keys = Object.keys(object);
  if (!isSorted(keys)) keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = (object as Record<string, unknown>)[key];
    if (member === undefined) continue;
    out += (first ? '' : ',') + quoteKey(key) + serialize(member, depth + 1);
    first = false;
  }
  return `${out}}`;
}

/** Objects built by code are often already in key order; checking is cheaper than sorting. */
function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/** encodeEntry returns the canonical text of an entry; `prevHash`, `hash` and `unrecorded` are left out. */
export function encodeEntry(entry: HashedEntry | LedgerEntry): string {
  const { prevHash: _p, hash: _h, unrecorded: _u, ...hashed } = entry as LedgerEntry;
  return jcs(hashed);
}

/** entryHash chains one entry's canonical text to its predecessor's hash. */
export function entryHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(`${ENTRY_DOMAIN}\n${prevHash}\n${canonical}`, 'utf8').digest('hex');
}

/** checkpointMessage is the byte string an Ed25519 checkpoint signature covers. */
export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): Buffer {
  const { chain, seq, hash, time, keyId } = cp;
  return Buffer.from(`${CHECKPOINT_DOMAIN}\n${jcs({ chain, seq, hash, time, keyId })}`, 'utf8');
}

/** sha256Hex is the digest used for payloads, blobs and key ids. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The canonical text of an entry, encoded before its chain position is known. JCS sorts the
 * top-level keys, so `chain` and `seq` have fixed places among them: the members sorting
 * before "chain", those between "chain" and "seq", and those after "seq". The writer
 * splices the two in when it seals the entry (`assembleCanonical`), so the expensive
 * encoding happens once, on the caller's side, and the store's thread only concatenates.
 */
export interface CanonicalParts {
  before: string;
  between: string;
  after: string;
}

/** encodeParts encodes the members of an entry that has no `chain`/`seq` yet; throws a TypeError naming a non-JSON field. */
export function encodeParts(entry: object): CanonicalParts {
  const parts: CanonicalParts = { before: '', between: '', after: '' };
  const keys = Object.keys(entry).sort();
  for (const key of keys) {
    const member = (entry as Record<string, unknown>)[key];
    if (member === undefined) continue;
    if (key === 'chain' || key === 'seq') throw new TypeError(`${key} is assigned by the ledger`);
    let text: string;
    try {
      text = quoteKey(key) + serialize(member, 1);
    } catch (err) {
      throw new TypeError(`${key}: ${(err as Error).message}`);
    }
    const slot: keyof CanonicalParts = key < 'chain' ? 'before' : key < 'seq' ? 'between' : 'after';
    parts[slot] = parts[slot] ? `${parts[slot]},${text}` : text;
  }
  return parts;
}

/** assembleCanonical is `jcs({...entry, chain, seq})` for the entry `parts` were encoded from. */
export function assembleCanonical(parts: CanonicalParts, chain: string, seq: number): string {
  let out = `{${parts.before}${parts.before ? ',' : ''}"chain":${JSON.stringify(chain)}`;
  if (parts.between) out += `,${parts.between}`;
  out += `,"seq":${seq}`;
  if (parts.after) out += `,${parts.after}`;
  return `${out}}`;
}
