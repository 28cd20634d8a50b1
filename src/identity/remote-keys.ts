/**
 * The signing keys of one remote OIDC issuer: discovery on first use, then jose's remote
 * JWKS cache. Three policies live here, each because an IdP outage or an attacker must not
 * be able to take airlock down:
 * - discovery is lazy and, when it fails, retried with exponential backoff (1 s … 60 s), so a
 *   down IdP is not hammered by every incoming request;
 * - an unknown `kid` triggers one JWKS refetch (the IdP may have rotated keys), at most once
 *   per cooldown (30 s): a flood of tokens with random kids costs the IdP nothing;
 * - if a scheduled refetch fails, the last good key set stays usable for a while
 *   (`staleMs`, 30 min), so a short JWKS outage does not lock every agent out.
 * The clock is injected so tests can move time instead of sleeping.
 */
import {
  createLocalJWKSet, createRemoteJWKSet, customFetch, errors,
  type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters, type RemoteJWKSet,
} from 'jose';
import { AirlockError } from '../errors.js';
import type { FetchLike } from './ca-fetch.js';
import { describeNetworkError, fetchDiscovery } from './discovery.js';
import { printable } from './token-shape.js';

export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface RemoteKeysOptions {
  issuer: string;
  /** Skip discovery and use this key set URL. */
  jwksUri?: URL;
  /** Accept an http `jwks_uri` from discovery (local tests only). */
  allowInsecure?: boolean;
  fetch?: FetchLike;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
  /** Least time between two unknown-kid refetches (default 30 s). */
  cooldownMs?: number;
  /** How long a fetched key set is used before it is refreshed (default 10 min). */
  cacheMaxAgeMs?: number;
  /** How long the last good key set stays usable while refreshes fail (default 30 min). */
  staleMs?: number;
  /** HTTP timeout for discovery and JWKS requests (default 5 s). */
  timeoutMs?: number;
}

/** createRemoteKeys returns a jose key resolver; it throws AirlockError codes, never jose's. */
export function createRemoteKeys(options: RemoteKeysOptions): KeyResolver {
  const now = options.now ?? Date.now;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const staleMs = options.staleMs ?? 30 * 60_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let remote: RemoteJWKSet | undefined;
  let discovering: Promise<RemoteJWKSet> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastFailure: AirlockError | undefined;
  let lastFetchAt = 0;
  let lastGoodAt = 0;
  let refreshing: Promise<void> | undefined;
  let stale: ReturnType<typeof createLocalJWKSet> | undefined;
  let staleRetryAt = 0;

  function discover(): Promise<RemoteJWKSet> {
    if (remote) return Promise.resolve(remote);
    if (discovering) return discovering;
    if (lastFailure && now() < retryAt) {
      const seconds = Math.ceil((retryAt - now()) / 1000);
      return Promise.reject(new AirlockError('AIRLOCK_AUTH_ISSUER_UNAVAILABLE',
        `${detailOf(lastFailure)}; next attempt in ${seconds} s`));
    }
    discovering = (async () => {
      const jwksUri = options.jwksUri ?? (await fetchDiscovery(options.issuer, { fetch: options.fetch, timeoutMs, allowInsecure: options.allowInsecure })).jwksUri;
      return createRemoteJWKSet(jwksUri, {
        // Unknown-kid refetches are ours (below), rate-limited on the injected clock.
        cooldownDuration: Infinity,
        cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
        timeoutDuration: timeoutMs,
        ...(options.fetch ? { [customFetch]: options.fetch } : {}),
      });
    })().then(
      (set) => {
        remote = set;
        failures = 0;
        lastFailure = undefined;
        lastFetchAt = now();
        return set;
      },
      (err: unknown) => {
        failures += 1;
        retryAt = now() + Math.min(60_000, 1000 * 2 ** (failures - 1));
        lastFailure = toUnavailable(err, options.issuer);
        throw lastFailure;
      },
    ).finally(() => {
      discovering = undefined;
    });
    return discovering;
  }

  /** refreshForUnknownKid refetches the key set unless one was fetched within the cooldown. */
  async function refreshForUnknownKid(set: RemoteJWKSet): Promise<boolean> {
    if (!refreshing) {
      if (now() - lastFetchAt < cooldownMs) return false;
      lastFetchAt = now();
      refreshing = set.reload().finally(() => {
        refreshing = undefined;
      });
    }
    await refreshing.catch((err: unknown) => {
      throw toUnavailable(err, options.issuer);
    });
    lastGoodAt = now();
    stale = undefined;
    return true;
  }

  /**
   * lookup asks jose for the key. When jose's scheduled refresh fails, the last good set is
   * used for up to `staleMs`, and jose is not asked again for a cooldown, so an outage costs
   * one timed-out request per cooldown rather than one per incoming request.
   */
  async function lookup(set: RemoteJWKSet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if (stale && now() < staleRetryAt) return stale(header, token);
    try {
      const key = await set(header, token);
      lastGoodAt = now();
      stale = undefined;
      return key;
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      if (err instanceof errors.JOSENotSupported) {
        throw new AirlockError('AIRLOCK_AUTH_ALG_REFUSED', `the issuer publishes no key usable with "${printable(String(header.alg))}"`);
      }
      const snapshot = set.jwks();
      if (snapshot && now() - lastGoodAt < staleMs) {
        stale ??= createLocalJWKSet(snapshot);
        staleRetryAt = now() + cooldownMs;
        return stale(header, token);
      }
      throw toUnavailable(err, options.issuer);
    }
  }

  return async function resolveRemoteKey(header, token) {
    const set = await discover();
    try {
      return await lookup(set, header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    if (await refreshForUnknownKid(set)) {
      try {
        return await lookup(set, header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      }
    }
    const kid = typeof header.kid === 'string' ? `"${printable(header.kid)}"` : '(none)';
    throw new AirlockError('AIRLOCK_AUTH_UNKNOWN_KEY',
      `the issuer ${options.issuer} publishes no ${printable(String(header.alg))} key with kid ${kid}; get a fresh token, or check that the token comes from this issuer`);
  };
}

function toUnavailable(err: unknown, issuer: string): AirlockError {
  if (err instanceof AirlockError) return err;
  let what: string;
  if (err instanceof errors.JWKSTimeout) what = 'timed out';
  else if (err instanceof errors.JWKSInvalid) what = 'returned an invalid key set';
  else if (err instanceof errors.JOSEError) what = err.message;
  else what = describeNetworkError(err);
  return new AirlockError('AIRLOCK_AUTH_ISSUER_UNAVAILABLE', `fetching the keys of ${issuer} failed: ${what}`, { cause: err });
}

function detailOf(err: AirlockError): string {
  return err.message.replace(/^[^:]*: /, '');
}
