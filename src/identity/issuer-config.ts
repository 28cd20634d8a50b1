/**
 * IssuerConfig is how an operator tells airlock which OIDC issuers it trusts, and
 * resolveIssuerConfig checks it once, at startup, so the verifier never meets a
 * configuration that could weaken it (an `alg: none`, an HMAC algorithm, a plain-http IdP).
 * The config loader applies the same rules to the file; this is the second lock, for callers
 * that build an IssuerConfig in code. It performs no I/O.
 */
import { AirlockError } from '../errors.js';
import type { IdentityKind } from './identity.js';

/** One trusted OIDC issuer, as written in the configuration file. */
export interface IssuerConfig {
  /** Name used in logs, the ledger (`identity.via`) and policy. */
  name: string;
  /** The issuer URL; must equal the token's `iss` and the discovery document's `issuer` exactly. */
  issuer: string;
  /** Accepted audience(s); a token must name at least one of them in `aud`. */
  audience: string | string[];
  /** Skip discovery and fetch keys from here. */
  jwksUri?: string;
  /** Signature algorithms accepted; never `none` and never HMAC (`HS*`). */
  algorithms?: string[];
  /** Claim holding groups; a dotted path such as `realm_access.roles` walks nested objects. */
  groupsClaim?: string;
  /** Claim holding the subject (default `sub`). */
  subjectClaim?: string;
  /** Prepended to the subject, e.g. `okta:` to keep issuers apart in policy. */
  subjectPrefix?: string;
  /** Prepended to each group. */
  groupsPrefix?: string;
  /** Allowed clock difference for `exp`, `nbf` and `iat` (default 30 s). */
  clockSkewSeconds?: number;
  /** `auto` guesses agent or human from the token; an explicit value wins. */
  kind?: 'auto' | IdentityKind;
  /** PEM file of a private CA that signed the IdP's TLS certificate. */
  caFile?: string;
  /** Accept plain-http `issuer`/`jwksUri` (local tests only: keys over http can be swapped). */
  allowInsecure?: boolean;
}

/** The asymmetric algorithms accepted when a config names none. */
export const defaultAlgorithms: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA',
];

/**
 * Every algorithm airlock can ever accept. HMAC is absent on purpose: with an HMAC
 * algorithm a verifier holding only a public key can be fooled into using that key as the
 * shared secret (the HS/RS confusion attack), and a shared secret is not an issuer key.
 */
const asymmetricAlgorithms = new Set([...defaultAlgorithms, 'ES512', 'Ed25519']);

/** IssuerConfig with defaults filled in and values checked. */
export interface ResolvedIssuerConfig {
  name: string;
  issuer: string;
  audiences: string[];
  jwksUri?: URL;
  algorithms: string[];
  groupsClaim: string;
  subjectClaim: string;
  subjectPrefix: string;
  groupsPrefix: string;
  clockSkewSeconds: number;
  kind: 'auto' | IdentityKind;
  caFile?: string;
  allowInsecure: boolean;
}

/** isRefusedAlgorithm is true for `none` and every HMAC algorithm, whatever the config says. */
export function isRefusedAlgorithm(alg: string): boolean {
  return alg.toLowerCase() === 'none' || /^HS\d+$/i.test(alg);
}

/** resolveIssuerConfig fills defaults and throws AIRLOCK_CONFIG_INVALID naming the bad field. */
export function resolveIssuerConfig(config: IssuerConfig): ResolvedIssuerConfig {
  const where = `identity issuer "${config.name}"`;
  const invalid = (what: string) => new AirlockError('AIRLOCK_CONFIG_INVALID', `${where}: ${what}`);
  if (!config.name) throw invalid('`name` is required');
  const allowInsecure = config.allowInsecure ?? false;
  checkIssuerUrl(config.issuer, 'issuer', invalid, allowInsecure);
  const audiences = typeof config.audience === 'string' ? [config.audience] : [...(config.audience ?? [])];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw invalid('`audience` is required: the value your IdP puts in `aud` for tokens meant for airlock');
  }
  const algorithms = config.algorithms ?? [...defaultAlgorithms];
  if (algorithms.length === 0) throw invalid('`algorithms` is empty; omit it to use the default list');
  for (const alg of algorithms) {
    if (isRefusedAlgorithm(alg)) {
      throw invalid(`algorithm "${alg}" is refused: "none" and HMAC (HS*) algorithms cannot prove who issued a token`);
    }
    if (!asymmetricAlgorithms.has(alg)) throw invalid(`algorithm "${alg}" is not supported`);
  }
  const skew = config.clockSkewSeconds ?? 30;
  if (!Number.isFinite(skew) || skew < 0 || skew > 300) {
    throw invalid('`clockSkewSeconds` must be between 0 and 300');
  }
  const kind = config.kind ?? 'auto';
  if (!['auto', 'agent', 'human'].includes(kind)) throw invalid('`kind` must be auto, agent or human');
  return {
    name: config.name,
    issuer: config.issuer,
    audiences,
    jwksUri: config.jwksUri === undefined ? undefined : checkIssuerUrl(config.jwksUri, 'jwksUri', invalid, allowInsecure),
    algorithms,
    groupsClaim: config.groupsClaim || 'groups',
    subjectClaim: config.subjectClaim || 'sub',
    subjectPrefix: config.subjectPrefix ?? '',
    groupsPrefix: config.groupsPrefix ?? '',
    clockSkewSeconds: skew,
    kind,
    caFile: config.caFile,
    allowInsecure,
  };
}

/**
 * checkIssuerUrl accepts https URLs, and http only with `allowInsecure`: keys fetched over
 * plain http can be swapped by anyone on the path, which would let them mint identities.
 */
function checkIssuerUrl(value: string, field: string, invalid: (what: string) => AirlockError, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`\`${field}\` is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecure)) {
    throw invalid(`\`${field}\` must be an https URL (plain http needs \`allowInsecure: true\`, for local tests only)`);
  }
  return url;
}
