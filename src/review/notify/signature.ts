/**
 * Webhook signatures, Stripe-style: the `airlock-signature` header carries the time of signing
 * and an HMAC-SHA256 of `"<t>.<raw body>"` keyed with the webhook's shared secret:
 *
 *     airlock-signature: t=1700000000,v1=df463d829231a4c94f4af56ed6e6e87f66986646703bcea7f64707aa30b4bde6
 *
 * Signing the timestamp with the body lets a receiver refuse a replayed delivery: a captured
 * request stops verifying once its `t` is older than the receiver's tolerance. A receiver may
 * see several `v1=` values (one per secret while a secret is rotated); one match is enough.
 *
 * `verifySignature` is what a receiver runs on the raw request body, before parsing it: JSON
 * that was parsed and serialised again is not the same bytes, and will not verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature. */
export const signatureHeader = 'airlock-signature';

/** Why a signature was refused. */
export type SignatureFailure =
  /** No `airlock-signature` header at all. */
  | 'missing-header'
  /** The header is not `t=<unix seconds>,v1=<64 hex digits>[,v1=…]`. */
  | 'malformed-header'
  /** `t` is further from the receiver's clock than the tolerance: a replay, or a skewed clock. */
  | 'timestamp-outside-tolerance'
  /** No `v1` matches this body and secret: the body was changed or the secret differs. */
  | 'signature-mismatch';

export type SignatureVerdict = { ok: true } | { ok: false; reason: SignatureFailure };

export interface VerifySignatureOptions {
  /** The shared secret; several while rotating (any one may match). */
  secret: string | readonly string[];
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  /** The `airlock-signature` header value (Node gives `undefined` or an array for odd input). */
  header: string | string[] | undefined | null;
  /** How far `t` may be from `now`, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The receiver's clock: a Date, or unix seconds. Default: the current time. */
  now?: Date | number;
}

/**
 * signPayload returns the `airlock-signature` header value for `body` signed at
 * `timestampSeconds` (unix seconds) with `secret`.
 *
 * @example
 * const body = JSON.stringify(payload);
 * headers['airlock-signature'] = signPayload(secret, body, Math.floor(Date.now() / 1000));
 */
export function signPayload(secret: string, body: string | Uint8Array, timestampSeconds: number): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new TypeError('signPayload: timestampSeconds must be a non-negative integer (unix seconds)');
  }
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, body).toString('hex')}`;
}

/**
 * verifySignature checks a delivery's `airlock-signature` header against its raw body. It never
 * throws on what the sender controls (header, body); it throws a TypeError only when the
 * receiver passes no secret.
 *
 * @example
 * // node:http receiver
 * const chunks: Buffer[] = [];
 * for await (const chunk of req) chunks.push(chunk);
 * const body = Buffer.concat(chunks); // the raw bytes
 * const verdict = verifySignature({ secret, body, header: req.headers['airlock-signature'] });
 * if (!verdict.ok) { res.writeHead(401).end(verdict.reason); return; }
 * const delivery = JSON.parse(body.toString('utf8'));
 */
export function verifySignature(options: VerifySignatureOptions): SignatureVerdict {
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verifySignature: secret must be a non-empty string');
  }
  const header = Array.isArray(options.header) ? options.header.join(',') : options.header;
  if (header === undefined || header === null || header.trim() === '') return { ok: false, reason: 'missing-header' };

  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed-header' };

  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now === undefined ? Date.now() / 1000
    : options.now instanceof Date ? options.now.getTime() / 1000
    : options.now;
  if (!(Math.abs(now - parsed.timestamp) <= tolerance)) return { ok: false, reason: 'timestamp-outside-tolerance' };

  // Every candidate is compared, in constant time, whatever matched before: the time taken
  // must not tell which secret or which v1 value was close.
  let matched = false;
  for (const secret of secrets) {
    const expected = hmac(secret, parsed.timestamp, options.body);
    for (const candidate of parsed.signatures) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: 'signature-mismatch' };
}

function hmac(secret: string, timestampSeconds: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest();
}

/**
 * parseHeader reads `t=<digits>` and one or more `v1=<64 hex>`; unknown schemes (`v0=`, a future
 * `v2=`) are skipped so a sender can add one without breaking receivers. Returns undefined when
 * `t` is missing, repeated or not an integer, or when no v1 is present or one is not 64 hex digits.
 */
function parseHeader(header: string): { timestamp: number; signatures: Buffer[] } | undefined {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}
