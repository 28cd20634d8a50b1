/**
 * Reading subject, groups and client id out of a verified claims set, the way IdPs actually
 * shape them: Keycloak nests roles (`realm_access.roles`), Auth0 namespaces claims with URLs
 * that contain dots (`https://example.com/groups`), Azure AD sends `groups` as GUIDs.
 * Pure functions; no I/O.
 */
import type { JWTPayload } from 'jose';
import { AirlockError } from '../errors.js';

/**
 * readClaim returns the claim named `path`. A claim whose literal name is `path` wins (so a
 * URL-named claim works); otherwise the dotted path walks nested objects.
 */
export function readClaim(claims: JWTPayload, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const step of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/**
 * readSubject returns the prefixed subject; it throws AIRLOCK_AUTH_CLAIMS when the claim is
 * missing or not a non-empty string, because an identity nobody can name cannot be audited.
 */
export function readSubject(claims: JWTPayload, claim: string, prefix: string): string {
  const value = readClaim(claims, claim);
  if (typeof value !== 'string' || value === '') {
    throw new AirlockError(
      'AIRLOCK_AUTH_CLAIMS',
      `the token has no "${claim}" claim to use as the subject; check subjectClaim in the issuer config`,
    );
  }
  return prefix + value;
}

/**
 * readGroups returns the prefixed groups: an array's string members, or a single string as
 * one group. A missing claim means no groups; other shapes are ignored rather than guessed.
 */
export function readGroups(claims: JWTPayload, claim: string, prefix: string): string[] {
  const value = readClaim(claims, claim);
  const raw = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const groups: string[] = [];
  for (const item of raw) {
    if (typeof item === 'string' && item !== '' && !groups.includes(prefix + item)) groups.push(prefix + item);
  }
  return groups;
}

/** readClientId returns `azp` (OIDC) or `client_id` (RFC 9068 access tokens) when present. */
export function readClientId(claims: JWTPayload): string | undefined {
  for (const name of ['azp', 'client_id']) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
