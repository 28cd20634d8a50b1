/**
 * Turns a masked body handed to `append` into the `Payload` an entry stores. Small utf-8
 * bodies stay inline, so an entry reads on its own; large or binary ones go to the blob
 * store, content-addressed by SHA-256, and the entry keeps only the digest — which the entry
 * hash covers, so a swapped blob is as detectable as an edited entry. The body must already
 * be masked: the ledger stores what it is given.
 */
import { sha256Hex } from './canonical.js';
import type { Payload, PayloadInput } from './types.js';

/** The default largest body (in bytes) kept inline in an entry. */
export const DEFAULT_INLINE_LIMIT = 4096;

/** A body that goes to the blob store alongside its entry. */
export interface BlobWrite {
  sha256: string;
  data: Uint8Array;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** buildPayload converts one body; `blob` is set when the bytes must be written to the blob store. */
export function buildPayload(input: PayloadInput, inlineLimit: number): { payload: Payload; blob?: BlobWrite } {
  const { bytes, text } = toBytes(input.body, inlineLimit);
  const sha256 = sha256Hex(bytes);
  const payload: Payload = { size: bytes.byteLength, sha256 };
  if (input.contentType !== undefined) payload.contentType = input.contentType;
  if (input.fullSize !== undefined) payload.fullSize = input.fullSize;
  if (input.fullSha256 !== undefined) payload.fullSha256 = input.fullSha256;
  if (bytes.byteLength <= inlineLimit && text !== undefined) {
    payload.inline = text;
    return { payload };
  }
  payload.blob = true;
  return { payload, blob: { sha256, data: bytes } };
}

/**
 * toBytes returns the utf-8 bytes of a body and, when the bytes are valid utf-8 that decode
 * back to the same text, that text. A string with a lone surrogate is not round-trippable, so
 * it is stored by its (replacement-character) bytes in a blob rather than inline. Bytes longer
 * than `inlineLimit` go to the blob store whatever they are, so they are not decoded.
 */
function toBytes(body: string | Uint8Array, inlineLimit: number): { bytes: Uint8Array; text?: string } {
  if (typeof body === 'string') {
    // Plain ASCII (most recorded text) is one byte per character: copied, not encoded, and
    // free of surrogates. Measuring the UTF-8 length is what tells; it is several times
    // cheaper than encoding.
    if (Buffer.byteLength(body, 'utf8') === body.length) return { bytes: Buffer.from(body, 'latin1'), text: body };
    const bytes = Buffer.from(body, 'utf8');
    // utf-8 encoding replaces a lone surrogate with U+FFFD, so such text does not round-trip.
    return hasLoneSurrogate(body) ? { bytes } : { bytes, text: body };
  }
  if (body.byteLength > inlineLimit) return { bytes: body };
  try {
    return { bytes: body, text: strictUtf8.decode(body) };
  } catch {
    return { bytes: body };
  }
}

/** Native String.prototype.isWellFormed (Node 20; ES2024, so not in the TypeScript lib target). */
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** hasLoneSurrogate is String.prototype.isWellFormed negated; the native check when there is one. */
export function hasLoneSurrogate(s: string): boolean {
  if (isWellFormed) return !isWellFormed.call(s);
  return hasLoneSurrogateScan(s);
}

/** hasLoneSurrogateScan is the same check in JavaScript, for runtimes without isWellFormed. */
export function hasLoneSurrogateScan(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** payloadMatches checks an inline payload against its digest and size (verify uses it). */
export function payloadMatches(payload: Payload): boolean {
  if (payload.inline === undefined) return true;
  const bytes = Buffer.from(payload.inline, 'utf8');
  return bytes.byteLength === payload.size && sha256Hex(bytes) === payload.sha256;
}
