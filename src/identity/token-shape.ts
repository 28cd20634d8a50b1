/**
 * readTokenShape decodes a bearer token's header and claims *without* verifying them, so the
 * authenticator can route it to the right issuer and refuse obvious junk with a precise
 * reason. Nothing read here is trusted: every value is checked again after the signature.
 * Error messages never repeat the token or any part of it.
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { AirlockError } from '../errors.js';
import { isRefusedAlgorithm } from './issuer-config.js';

/** Tokens longer than this are refused before any parsing (a cheap guard against abuse). */
export const maxTokenLength = 16 * 1024;

export interface TokenShape {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  /** The header's `alg`, checked to be present and not `none`/HMAC. */
  alg: string;
  /** The unverified `iss`, used only to choose a verifier. */
  issuer: string;
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** readTokenShape throws AIRLOCK_AUTH_MISSING, _MALFORMED, _ALG_REFUSED or _CLAIMS. */
export function readTokenShape(token: string): TokenShape {
  if (token === '') throw new AirlockError('AIRLOCK_AUTH_MISSING', 'send a bearer token in the Authorization header');
  if (token.length > maxTokenLength) {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', `the token is longer than ${maxTokenLength} characters`);
  }
  const parts = token.split('.').length;
  if (parts === 5) {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', 'encrypted tokens (JWE) are not accepted; send a signed JWT');
  }
  if (parts !== 3 || !compactJws.test(token)) {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', 'expected a JWT: three base64url parts separated by dots');
  }
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', 'the JWT header is not base64url-encoded JSON');
  }
  try {
    claims = decodeJwt(token);
  } catch {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', 'the JWT payload is not a base64url-encoded JSON object');
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') {
    throw new AirlockError('AIRLOCK_AUTH_MALFORMED', 'the JWT header has no "alg"');
  }
  if (isRefusedAlgorithm(alg)) {
    throw new AirlockError(
      'AIRLOCK_AUTH_ALG_REFUSED',
      `"${printable(alg)}" is never accepted (unsigned or shared-secret tokens cannot prove their issuer); ask your IdP for an RS256/ES256/EdDSA-signed token`,
    );
  }
  if (typeof claims.iss !== 'string' || claims.iss === '') {
    throw new AirlockError('AIRLOCK_AUTH_CLAIMS', 'the token has no "iss" (issuer) claim');
  }
  return { header, claims, alg, issuer: claims.iss };
}

/**
 * printable shortens and sanitises a value taken from an unverified token before it goes
 * into a message: an attacker controls it, and logs must not carry control characters.
 */
export function printable(value: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
