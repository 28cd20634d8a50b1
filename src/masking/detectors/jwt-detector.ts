/**
 * The JWT detector: three base64url segments whose first decodes to a JSON object with `alg`
 * (JWS) — the shape of every OIDC and service-account token. Requiring a JSON header with
 * `alg` keeps ordinary dotted identifiers and base64 blobs from being masked.
 */
import { buildTriggerHold, findWithRules, literalTrigger, type Detector, type RegexRule } from './detector.js';

/** isJwtHeader says whether a base64url segment decodes to a JSON object carrying `alg`. */
export function isJwtHeader(segment: string): boolean {
  try {
    const json: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof json === 'object' && json !== null && typeof (json as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

// Every JSON object encodes to "eyJ" ('{"'); the signature may be empty (alg none).
// The lookbehind `(?<![A-Za-z0-9_-])` is checked apart, where an `eyJ` is found (see RegexRule).
const JWT = /(eyJ[A-Za-z0-9_-]{4,})\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?![A-Za-z0-9_.-])/dg;
const NOT_AFTER_TOKEN = /(?<![A-Za-z0-9_-])/y;

// The payload's `.eyJ`: rarer than a lone `eyJ` (it never occurs in plain base64), so most
// text, base64 blobs included, skips the scan.
const PAYLOAD = literalTrigger(['.eyJ']);

/** The JWT rule; exported for the tests. */
export const jwtRule: RegexRule = { kind: 'jwt', pattern: JWT, boundary: NOT_AFTER_TOKEN, trigger: PAYLOAD, accept: (v) => isJwtHeader(v.slice(0, v.indexOf('.'))) };

/** jwtDetector finds JSON Web Tokens; it never throws. */
export const jwtDetector: Detector = {
  name: 'jwt',
  find: (text) => findWithRules(text, [jwtRule]),
  pendingStart: buildTriggerHold(['eyJ']),
};
