/**
 * OpenID Connect Discovery 1.0 (section 4): fetch `${issuer}/.well-known/openid-configuration`
 * and take `jwks_uri` from it. The document's `issuer` must equal the configured issuer
 * exactly (section 4.3): otherwise one IdP could vouch for another's tokens, or a
 * mistyped config could silently trust the wrong realm.
 */
import { AirlockError } from '../errors.js';
import type { FetchLike } from './ca-fetch.js';

export interface DiscoveredIssuer {
  jwksUri: URL;
}

/** discoveryUrl is where the discovery document of `issuer` lives (trailing slash tolerated). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * fetchDiscovery fetches and checks the discovery document; any failure (network, status,
 * JSON, issuer mismatch, missing jwks_uri) throws AIRLOCK_AUTH_ISSUER_UNAVAILABLE saying which.
 */
export async function fetchDiscovery(
  issuer: string,
  options: { fetch?: FetchLike; timeoutMs?: number; allowInsecure?: boolean } = {},
): Promise<DiscoveredIssuer> {
  const url = discoveryUrl(issuer);
  const fail = (what: string, cause?: unknown) =>
    new AirlockError('AIRLOCK_AUTH_ISSUER_UNAVAILABLE', `discovery at ${url} ${what}`, { cause });
  const doFetch: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'GET',
      headers: new Headers({ accept: 'application/json' }),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (err) {
    throw fail(`failed: ${describeNetworkError(err)}`, err);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw fail(`answered HTTP ${response.status}; expected 200 with a JSON document`);
  }
  let doc: unknown;
  try {
    doc = await response.json();
  } catch (err) {
    throw fail('did not return JSON', err);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fail('did not return a JSON object');
  const { issuer: named, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (named !== issuer) {
    throw fail(`names issuer ${JSON.stringify(named)}, not the configured ${JSON.stringify(issuer)}; set \`issuer\` to the exact value the IdP publishes`);
  }
  if (typeof jwksUri !== 'string') throw fail('has no jwks_uri');
  let parsed: URL;
  try {
    parsed = new URL(jwksUri);
  } catch {
    throw fail('has a jwks_uri that is not a URL');
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && options.allowInsecure === true)) {
    throw fail('has a jwks_uri that is not https');
  }
  return { jwksUri: parsed };
}

const untrustedCertificate = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** describeNetworkError turns fetch's terse "fetch failed" into the underlying reason. */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    if (code !== undefined && untrustedCertificate.has(code)) {
      return `${cause.message} (${code}); if the IdP's certificate comes from a private CA, set caFile`;
    }
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return err.message;
}
