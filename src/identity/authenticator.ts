/**
 * createAuthenticator turns a bearer token into an Identity, or refuses it with one
 * AIRLOCK_AUTH_* code per reason. It routes the token by its (unverified) `iss` to the one
 * verifier configured for that issuer, so a token can only ever be checked against the
 * keys of the issuer it claims; a token naming an issuer nobody configured is refused
 * before any network request. Successful verifications are cached briefly (see
 * verification-cache.ts). Every configuration mistake surfaces here, at startup.
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors, type CryptoKey } from 'jose';
import { AirlockError } from '../errors.js';
import type { BuiltinIssuer } from './builtin-issuer.js';
import { loadCaFetch } from './ca-fetch.js';
import type { Identity } from './identity.js';
import { resolveIssuerConfig, type IssuerConfig } from './issuer-config.js';
import { createTokenVerifier, type TokenVerifier } from './oidc-verifier.js';
import { createRemoteKeys, type KeyResolver, type RemoteKeysOptions } from './remote-keys.js';
import { printable, readTokenShape } from './token-shape.js';
import { createVerificationCache, type VerificationCacheOptions } from './verification-cache.js';

export interface AuthenticatorOptions {
  issuers: IssuerConfig[];
  /** The built-in issuer, whose tokens are verified against its local key. */
  builtin?: BuiltinIssuer;
  /** Epoch milliseconds; injected by tests to move time without sleeping. */
  now?: () => number;
  /** Verification cache sizing; `false` turns it off. */
  cache?: VerificationCacheOptions | false;
  /** JWKS refresh tuning, shared by all remote issuers. */
  jwks?: Pick<RemoteKeysOptions, 'cooldownMs' | 'cacheMaxAgeMs' | 'staleMs' | 'timeoutMs'>;
}

export interface Authenticator {
  /** authenticate returns the caller's Identity or throws an AirlockError (AIRLOCK_AUTH_*). */
  authenticate(token: string): Promise<Identity>;
}

/**
 * createAuthenticator validates every issuer config and throws AIRLOCK_CONFIG_INVALID on the
 * first mistake (bad URL, refused algorithm, duplicate issuer, unreadable caFile).
 *
 * @example
 * const auth = createAuthenticator({ issuers: [{ name: 'okta', issuer: 'https://example.okta.com', audience: 'airlock' }] });
 * const identity = await auth.authenticate(bearerToken);
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const verifiers = new Map<string, TokenVerifier>();
  const names = new Set<string>();
  const add = (issuer: string, name: string, verifier: TokenVerifier) => {
    if (verifiers.has(issuer)) throw new AirlockError('AIRLOCK_CONFIG_INVALID', `issuer ${issuer} is configured twice`);
    if (names.has(name)) throw new AirlockError('AIRLOCK_CONFIG_INVALID', `issuer name "${name}" is used twice`);
    verifiers.set(issuer, verifier);
    names.add(name);
  };

  for (const raw of options.issuers) {
    const config = resolveIssuerConfig(raw);
    const keys = createRemoteKeys({
      ...options.jwks,
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      allowInsecure: config.allowInsecure,
      fetch: config.caFile === undefined ? undefined : loadCaFetch(config.caFile),
      now,
    });
    add(config.issuer, config.name, createTokenVerifier({ config, keys, now }));
  }
  if (options.builtin) {
    const config = resolveIssuerConfig(options.builtin.verifierConfig());
    const keys = localKeys(options.builtin);
    add(config.issuer, config.name, createTokenVerifier({ config, keys, now, trustKindClaim: true }));
  }

  const cache = options.cache === false ? undefined : createVerificationCache(options.cache);

  return {
    async authenticate(token) {
      if (typeof token !== 'string') throw new AirlockError('AIRLOCK_AUTH_MISSING', 'send a bearer token in the Authorization header');
      const digest = cache ? createHash('sha256').update(token).digest('hex') : '';
      const cached = cache?.get(digest, now());
      if (cached) return cached;
      const shape = readTokenShape(token);
      const verify = verifiers.get(shape.issuer);
      if (!verify) {
        throw new AirlockError('AIRLOCK_AUTH_UNKNOWN_ISSUER',
          `"${printable(shape.issuer)}" is not a trusted issuer; use a token from a configured issuer, or add this one under identity.issuers`);
      }
      const identity = await verify(token, shape);
      cache?.set(digest, identity, now());
      return identity;
    },
  };
}

/** localKeys resolves built-in tokens against the issuer's own public key, with no HTTP. */
function localKeys(builtin: BuiltinIssuer): KeyResolver {
  const local = createLocalJWKSet(builtin.jwks());
  return async function resolveBuiltinKey(header, token): Promise<CryptoKey> {
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      const kid = typeof header.kid === 'string' ? `"${printable(header.kid)}"` : '(none)';
      throw new AirlockError('AIRLOCK_AUTH_UNKNOWN_KEY',
        `the built-in issuer's key is ${builtin.kid}, not ${kid}; the token was minted with another data dir's key, mint a new one`);
    }
  };
}
