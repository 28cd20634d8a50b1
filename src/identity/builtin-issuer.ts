/**
 * The built-in issuer: airlock's own token authority for the quick start and for teams
 * without an IdP. `airlock token mint` signs short-lived JWTs with a key kept in the data
 * dir; the admin server publishes the discovery document and JWKS built here, so other
 * tools can verify those tokens like any OIDC issuer's. Airlock itself verifies them
 * against the local key, with no HTTP round trip. Opens no socket.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { AirlockError } from '../errors.js';
import type { IdentityKind } from './identity.js';
import type { IssuerConfig } from './issuer-config.js';
import { builtinAlgorithm, loadOrCreateBuiltinKey } from './builtin-key.js';

export interface BuiltinIssuerOptions {
  /** airlock's data dir; the key lives in `keys/issuer-key.json` under it. */
  dataDir: string;
  /** The issuer URL (`iss`), normally the admin server's external URL. */
  issuer: string;
  /** The `aud` of minted tokens (default `airlock`). */
  audience?: string;
  /** Longest lifetime `mint` accepts (default 24 h). */
  maxTtlSeconds?: number;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
}

export interface MintRequest {
  /** e.g. `agent:deploy-bot`; printable, no whitespace. */
  subject: string;
  groups?: string[];
  ttlSeconds: number;
  /** Defaults to `agent` for an `agent:` subject, else `human`. */
  kind?: IdentityKind;
  /** More claims for policy to read; may not replace a registered or airlock claim. */
  extra?: Record<string, unknown>;
}

/** The discovery document served at `/.well-known/openid-configuration`. */
export interface BuiltinDiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  claims_supported: string[];
}

export interface BuiltinIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly maxTtlSeconds: number;
  /** The `kid` of the signing key (its RFC 7638 thumbprint). */
  readonly kid: string;
  /** mint signs a token; it throws AIRLOCK_INPUT_INVALID for a bad subject, group, ttl or claim. */
  mint(request: MintRequest): Promise<string>;
  discoveryDocument(): BuiltinDiscoveryDocument;
  jwks(): { keys: JWK[] };
  /** verifierConfig describes this issuer for a verifier elsewhere (another airlock, a script). */
  verifierConfig(): IssuerConfig;
}

const reservedClaims = new Set(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'groups', 'airlock_kind', 'azp', 'client_id']);

/**
 * openBuiltinIssuer loads (or creates) the key in `dataDir`; it throws AIRLOCK_CONFIG_INVALID
 * for a bad issuer URL or max ttl, and AIRLOCK_ISSUER_KEY_INVALID for an unusable key file.
 *
 * @example
 * const builtin = await openBuiltinIssuer({ dataDir: './data', issuer: 'https://airlock.example.com' });
 * const token = await builtin.mint({ subject: 'agent:deploy-bot', groups: ['ci'], ttlSeconds: 900 });
 */
export async function openBuiltinIssuer(options: BuiltinIssuerOptions): Promise<BuiltinIssuer> {
  const issuer = checkIssuer(options.issuer);
  const audience = options.audience ?? 'airlock';
  const maxTtlSeconds = options.maxTtlSeconds ?? 24 * 3600;
  if (!Number.isSafeInteger(maxTtlSeconds) || maxTtlSeconds <= 0) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', 'built-in issuer: maxTtlSeconds must be a positive whole number');
  }
  const now = options.now ?? Date.now;
  const key = await loadOrCreateBuiltinKey(options.dataDir);
  const jwksUri = `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;

  return {
    issuer,
    audience,
    maxTtlSeconds,
    kid: key.kid,
    async mint(request) {
      checkMintRequest(request, maxTtlSeconds);
      const iat = Math.floor(now() / 1000);
      const kind = request.kind ?? (request.subject.startsWith('agent:') ? 'agent' : 'human');
      return new SignJWT({ ...request.extra, groups: request.groups ?? [], airlock_kind: kind })
        .setProtectedHeader({ alg: builtinAlgorithm, kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(request.subject)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + request.ttlSeconds)
        .setJti(randomBytes(16).toString('base64url'))
        .sign(key.privateKey);
    },
    discoveryDocument() {
      // No authorization or token endpoint: tokens are minted by the CLI, not requested over
      // HTTP. Verifiers (Kubernetes structured authentication, jose, openid-client) need
      // only `issuer` and `jwks_uri`; the other fields keep strict parsers content.
      return {
        issuer,
        jwks_uri: jwksUri,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [builtinAlgorithm],
        token_endpoint_auth_methods_supported: ['none'],
        claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'groups', 'airlock_kind'],
      };
    },
    jwks() {
      return { keys: [{ ...key.publicJwk }] };
    },
    verifierConfig() {
      return {
        name: 'builtin', issuer, audience, jwksUri, algorithms: [builtinAlgorithm], groupsClaim: 'groups', kind: 'auto',
        allowInsecure: issuer.startsWith('http:'),
      };
    },
  };
}

function checkIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `built-in issuer: "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', 'built-in issuer: the issuer must be an http(s) URL');
  }
  return value;
}

/** Printable, no whitespace, no control characters. */
const subjectPattern = /^[^\s\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]+$/u;

function checkMintRequest(request: MintRequest, maxTtlSeconds: number): void {
  const invalid = (what: string) => new AirlockError('AIRLOCK_INPUT_INVALID', what);
  if (typeof request.subject !== 'string' || !subjectPattern.test(request.subject) || request.subject.length > 256) {
    throw invalid('the subject must be 1–256 printable characters without spaces, e.g. agent:deploy-bot');
  }
  for (const group of request.groups ?? []) {
    if (typeof group !== 'string' || !subjectPattern.test(group) || group.length > 256) {
      throw invalid(`group ${JSON.stringify(group)} must be 1–256 printable characters without spaces`);
    }
  }
  const ttl = request.ttlSeconds;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw invalid('the ttl must be a positive whole number of seconds');
  if (ttl > maxTtlSeconds) {
    throw invalid(`the ttl (${ttl} s) is longer than the maximum of ${maxTtlSeconds} s; mint a shorter-lived token, or raise the built-in issuer's maxTtl`);
  }
  if (request.kind !== undefined && request.kind !== 'agent' && request.kind !== 'human') {
    throw invalid('kind must be agent or human');
  }
  for (const name of Object.keys(request.extra ?? {})) {
    if (reservedClaims.has(name)) throw invalid(`claim "${name}" is set by the issuer and cannot be given as an extra claim`);
  }
}
