/**
 * Placeholders that stand in for masked Secret values.
 *
 * Why this shape: clients keep working on a masked Secret. `kubectl get secret -o yaml` still
 * shows every key, `base64 -d` of a `data` value still succeeds, and `kubectl describe` still
 * prints a length. The decoded text is an ASCII marker, `airlock-masked:<12 hex>`, where the
 * hex is a truncated HMAC-SHA256 of the key name and the clear value under a per-installation
 * mask key. An auditor comparing two reads (or two ledger entries) sees whether a value changed
 * without learning it; without the mask key the HMAC is no help for guessing the value.
 *
 * The marker is also what the write-back guard looks for: a body that carries it back to the
 * cluster would overwrite the real value with the placeholder.
 *
 * Boundaries: pure functions over strings and bytes; no I/O, and the clear value never leaves
 * the HMAC.
 */
import { hash } from 'node:crypto';
import { AirlockError } from '../errors.js';

/** PLACEHOLDER_PREFIX starts every marker; its 15 bytes are a multiple of 3 (clean base64). */
export const PLACEHOLDER_PREFIX = 'airlock-masked:';

/** MASKED_ANNOTATION marks an object airlock masked, so a round trip back to the cluster is caught. */
export const MASKED_ANNOTATION = 'airlock.dev/masked';

/** LAST_APPLIED_ANNOTATION holds the whole applied manifest, Secret values included. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Hex digits of the digest kept in a marker (a multiple of 3, see asciiBase64): 48 bits tell values apart and reveal nothing. */
const DIGEST_HEX_LENGTH = 12;

/** A mask key shorter than this is refused: a guessable key would let anyone test guesses. */
const MIN_KEY_BYTES = 16;

/** Placeholder turns a clear value into the marker that replaces it. */
export interface Placeholder {
  /** marker returns `airlock-masked:<hex>` for the value stored under `key`. */
  marker(key: string, clear: string): string;
  /** base64 returns the marker base64-encoded, for `data` values (which are base64 on the wire). */
  base64(key: string, clear: string): string;
}

/**
 * createPlaceholder binds a per-installation mask key; it throws AIRLOCK_CONFIG_INVALID when the
 * key is shorter than 16 bytes.
 *
 * The digest is HMAC-SHA256 keyed with the lowercase hex of SHA-256(mask key), over
 * `key name ‖ NUL ‖ clear value` (UTF-8), truncated to 12 hex digits; an auditor holding the
 * mask key can recompute it with any HMAC tool. The hex key is chosen so that both HMAC pads
 * are ASCII: each HMAC is then two one-shot `crypto.hash` calls on strings, under half the
 * cost of a `createHmac` object per value (a SecretList carries a few values per kilobyte).
 *
 * @example
 * const placeholder = createPlaceholder(randomBytes(32));
 * placeholder.base64('password', 'aHVudGVyMg=='); // 'YWlybG9jay1tYXNrZWQ6…'
 */
export function createPlaceholder(maskKey: Uint8Array | string): Placeholder {
  const raw = typeof maskKey === 'string' ? Buffer.from(maskKey, 'utf8') : Buffer.from(maskKey);
  if (raw.length < MIN_KEY_BYTES) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `the masking key must be at least ${MIN_KEY_BYTES} bytes`);
  }
  const hmacKey = Buffer.from(hash('sha256', raw, 'hex'), 'latin1'); // 64 ASCII bytes: one SHA-256 block
  const innerPad = Buffer.from(hmacKey.map((b) => b ^ 0x36)).toString('latin1'); // ASCII, so UTF-8 leaves it as is
  const outer = Buffer.alloc(96); // outer pad ‖ inner digest, reused: the hash is synchronous
  outer.set(hmacKey.map((b) => b ^ 0x5c), 0);
  const digest = (name: string, clear: string): string => {
    // The NUL separator keeps ("ab", "c") and ("a", "bc") apart.
    // 'binary' (latin1) output: a Buffer result costs three times the hash of a short value.
    outer.write(hash('sha256', innerPad + name + '\0' + clear, 'binary'), 64, 'latin1');
    return hash('sha256', outer, 'binary');
  };
  return {
    marker: (name, clear) => PLACEHOLDER_PREFIX + hexOf(digest(name, clear)),
    base64: (name, clear) => PREFIX_BASE64 + base64Of(digest(name, clear)),
  };
}

/**
 * memoized wraps a placeholder so that a value repeated under the same key (in the same form)
 * is hashed once: a Secret's last-applied manifest usually repeats its data values. Scope it to
 * one object, so that no clear value is held longer than the object itself.
 */
export function memoized(placeholder: Placeholder): Placeholder {
  return new MemoizedPlaceholder(placeholder);
}

class MemoizedPlaceholder implements Placeholder {
  private readonly seen = new Map<string, { clear: string; marker?: string; base64?: string }>();

  constructor(private readonly inner: Placeholder) {}

  marker(name: string, clear: string): string {
    const hit = this.entry(name, clear);
    return (hit.marker ??= this.inner.marker(name, clear));
  }

  base64(name: string, clear: string): string {
    const hit = this.entry(name, clear);
    return (hit.base64 ??= this.inner.base64(name, clear));
  }

  private entry(name: string, clear: string): { clear: string; marker?: string; base64?: string } {
    const hit = this.seen.get(name);
    if (hit && hit.clear === clear) return hit;
    const fresh = { clear };
    this.seen.set(name, fresh);
    return fresh;
  }
}

/** The prefix is 15 bytes, so its base64 is fixed and the digest's base64 simply follows it. */
const PREFIX_BASE64 = Buffer.from(PLACEHOLDER_PREFIX, 'latin1').toString('base64');
/** A whole placeholder, as text or in base64 (a `data` value): exactly what `marker` and `base64` return. */
const WHOLE_MARKER = new RegExp(`^(?:${PLACEHOLDER_PREFIX}[0-9a-f]{${DIGEST_HEX_LENGTH}}|${PREFIX_BASE64}[A-Za-z0-9+/]{${(DIGEST_HEX_LENGTH / 3) * 4}})$`);

/** isPlaceholder: `value` is exactly one of airlock's placeholders (so a detector leaves it be). */
export function isPlaceholder(value: string): boolean {
  return WHOLE_MARKER.test(value);
}

/** Bytes of the digest kept in a marker: 6 bytes, 12 hex digits (a multiple of 3, see base64Of). */
const DIGEST_BYTES = DIGEST_HEX_LENGTH / 2;

/** HEX_OF_BYTE maps a byte to its two lowercase hex digits. */
const HEX_OF_BYTE: string[] = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

/**
 * BASE64_OF_TRIPLE maps every 12-bit number to the base64 of its three hex digits (4096
 * entries): a digest encodes with four array reads, on a path taken for every masked value.
 */
const BASE64_OF_TRIPLE: string[] = Array.from({ length: 4096 }, (_, n) => Buffer.from(n.toString(16).padStart(3, '0'), 'latin1').toString('base64'));

/** hexOf returns the marker's hex digits for a digest given as a latin1 string. */
function hexOf(digest: string): string {
  let out = '';
  for (let i = 0; i < DIGEST_BYTES; i++) out += HEX_OF_BYTE[digest.charCodeAt(i)]!;
  return out;
}

/** base64Of returns the base64 of the marker's hex digits, three hex digits (12 bits) per lookup. */
function base64Of(digest: string): string {
  let out = '';
  for (let i = 0; i < DIGEST_BYTES; i += 3) {
    const a = digest.charCodeAt(i);
    const b = digest.charCodeAt(i + 1);
    const c = digest.charCodeAt(i + 2);
    out += BASE64_OF_TRIPLE[(a << 4) | (b >> 4)]! + BASE64_OF_TRIPLE[((b & 15) << 8) | c]!;
  }
  return out;
}

const prefixBytes = Buffer.from(PLACEHOLDER_PREFIX, 'latin1');

/**
 * base64Needles are the base64 texts that any base64 encoding of the prefix must contain,
 * whichever of the three byte alignments it starts at. Characters that depend on the
 * neighbouring bytes are cut off each end.
 */
const base64Needles: string[] = [0, 1, 2].map((shift) => {
  const text = Buffer.concat([Buffer.alloc(shift), prefixBytes]).toString('base64');
  const lead = shift === 0 ? 0 : shift + 1; // chars mixing the padding bytes with the prefix
  const usable = Math.floor(((shift + prefixBytes.length) * 4) / 3) - 1; // last char may mix with what follows
  return text.slice(lead, usable);
});

/** containsMarkerText reports whether a string carries a marker in clear text. */
export function containsMarkerText(text: string): boolean {
  return text.includes(PLACEHOLDER_PREFIX);
}

const base64Shape = /^[A-Za-z0-9+/=_\-\s]+$/;

/**
 * containsEncodedMarker reports whether a string is base64 (once or twice over, padded or not,
 * URL-safe or wrapped) of text that carries a marker. Twice covers a user who pasted the base64
 * value shown by `kubectl get -o yaml` into `--from-literal`.
 */
export function containsEncodedMarker(text: string): boolean {
  let current = text;
  for (let depth = 0; depth < 2; depth++) {
    if (current.length < 20 || !base64Shape.test(current)) return false;
    const decoded = Buffer.from(current, 'base64').toString('latin1');
    if (containsMarkerText(decoded)) return true;
    current = decoded;
  }
  return false;
}

/** containsMarker reports whether a string carries a marker, in clear or base64 form. */
export function containsMarker(text: string): boolean {
  return containsMarkerText(text) || base64Needles.some((n) => text.includes(n)) || containsEncodedMarker(text);
}

/**
 * containsMarkerBytes scans raw bytes (a protobuf body, a YAML document that failed to parse)
 * for the marker in clear text or in base64 at any alignment.
 */
export function containsMarkerBytes(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.includes(prefixBytes)) return true;
  return base64Needles.some((n) => buf.includes(n, 0, 'latin1'));
}
