/**
 * createTokenVerifier checks one issuer's signed JWTs with jose and turns the verified
 * claims into an Identity. It is the only place a token becomes trusted, for remote OIDC
 * issuers and for the built-in issuer alike; only the key resolver differs. Every jose
 * failure is mapped to its own AIRLOCK_AUTH_* code with a message saying what is wrong and
 * what to do; no message contains the token.
 */
import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { AirlockError } from '../errors.js';
import { readClientId, readGroups, readSubject } from './claims.js';
import type { Identity } from './identity.js';
import type { ResolvedIssuerConfig } from './issuer-config.js';
import { decideKind } from './kind.js';
import type { KeyResolver } from './remote-keys.js';
import { printable, type TokenShape } from './token-shape.js';

export interface TokenVerifierOptions {
  config: ResolvedIssuerConfig;
  keys: KeyResolver;
  /** Trust the `airlock_kind` claim (the built-in issuer only). */
  trustKindClaim?: boolean;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
}

export type TokenVerifier = (token: string, shape: TokenShape) => Promise<Identity>;

/** createTokenVerifier returns a verifier that throws AIRLOCK_AUTH_* errors on any refusal. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { config, keys } = options;
  const now = options.now ?? Date.now;
  return async function verifyToken(token, shape) {
    if (!config.algorithms.includes(shape.alg)) {
      throw new AirlockError('AIRLOCK_AUTH_ALG_REFUSED',
        `issuer "${config.name}" accepts ${config.algorithms.join(', ')}, not "${printable(shape.alg)}"; add it to \`algorithms\` if your IdP really signs with it`);
    }
    const verifyOptions: JWTVerifyOptions = {
      issuer: config.issuer,
      audience: config.audiences,
      algorithms: config.algorithms,
      clockTolerance: config.clockSkewSeconds,
      currentDate: new Date(now()),
      requiredClaims: ['exp'],
    };
    let claims: JWTPayload;
    try {
      claims = await verifyWithAnyKey(token, keys, verifyOptions);
    } catch (err) {
      throw refusal(err, shape, config);
    }
    const nowSeconds = Math.floor(now() / 1000);
    if (typeof claims.iat === 'number' && claims.iat > nowSeconds + config.clockSkewSeconds) {
      throw new AirlockError('AIRLOCK_AUTH_NOT_YET_VALID',
        `the token says it was issued at ${iso(claims.iat)}, in the future (allowed clock skew ${config.clockSkewSeconds} s); check the clocks of the IdP and of airlock`);
    }
    return toIdentity(token, claims, options);
  };
}

/**
 * verifyWithAnyKey runs jwtVerify; when the key set holds several keys that fit a token
 * without `kid`, it tries each (jose leaves that to the caller) and keeps the first that verifies.
 */
async function verifyWithAnyKey(token: string, keys: KeyResolver, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    let last: unknown = err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (attempt) {
        last = attempt;
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}

function toIdentity(token: string, claims: JWTPayload, options: TokenVerifierOptions): Identity {
  const { config } = options;
  const rawSubject = readSubject(claims, config.subjectClaim, '');
  const subject = config.subjectPrefix + rawSubject;
  const clientId = readClientId(claims);
  const identity: Identity = {
    subject,
    groups: readGroups(claims, config.groupsClaim, config.groupsPrefix),
    issuer: config.issuer,
    tokenId: typeof claims.jti === 'string' && claims.jti !== '' ? claims.jti : tokenDigestId(token),
    expiresAt: claims.exp as number,
    kind: decideKind({
      configured: config.kind, claims, rawSubject, subject, clientId, trustKindClaim: options.trustKindClaim ?? false,
    }),
    via: config.name,
  };
  if (clientId !== undefined) identity.clientId = clientId;
  return identity;
}

/** tokenDigestId names a token without a `jti` by a SHA-256 prefix, never by the token itself. */
export function tokenDigestId(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

/** refusal maps a jose (or key resolver) failure to the AirlockError a caller sees. */
function refusal(err: unknown, shape: TokenShape, config: ResolvedIssuerConfig): AirlockError {
  if (err instanceof AirlockError) return err;
  if (err instanceof errors.JWTExpired) {
    const exp = shape.claims.exp;
    return new AirlockError('AIRLOCK_AUTH_EXPIRED',
      `it expired${typeof exp === 'number' ? ` at ${iso(exp)}` : ''}; get a new token from ${config.issuer}`);
  }
  if (err instanceof errors.JWTClaimValidationFailed) return claimRefusal(err, shape, config);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    const kid = typeof shape.header.kid === 'string' ? ` "${printable(shape.header.kid)}"` : '';
    return new AirlockError('AIRLOCK_AUTH_BAD_SIGNATURE',
      `the signature does not match the key${kid} of ${config.issuer}; the token was altered or signed by someone else`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new AirlockError('AIRLOCK_AUTH_ALG_REFUSED', `issuer "${config.name}" does not accept "${printable(shape.alg)}"`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return new AirlockError('AIRLOCK_AUTH_UNKNOWN_KEY', `${config.issuer} has no key matching the token's kid and alg; get a fresh token`);
  }
  if (err instanceof errors.JOSENotSupported) {
    return new AirlockError('AIRLOCK_AUTH_MALFORMED', 'the token uses a JOSE feature airlock does not support (e.g. an unknown "crit" header)');
  }
  if (err instanceof errors.JOSEError || err instanceof TypeError) {
    return new AirlockError('AIRLOCK_AUTH_MALFORMED', 'the token is not a well-formed signed JWT');
  }
  return new AirlockError('AIRLOCK_INTERNAL', 'token verification failed unexpectedly', { cause: err });
}

function claimRefusal(err: InstanceType<typeof errors.JWTClaimValidationFailed>, shape: TokenShape, config: ResolvedIssuerConfig): AirlockError {
  switch (err.claim) {
    case 'nbf': {
      const nbf = shape.claims.nbf;
      return new AirlockError('AIRLOCK_AUTH_NOT_YET_VALID',
        `it is valid only from ${typeof nbf === 'number' ? iso(nbf) : 'later'} (allowed clock skew ${config.clockSkewSeconds} s); check the clocks of the IdP and of airlock`);
    }
    case 'aud': {
      const aud = shape.claims.aud;
      const stated = aud === undefined ? 'no audience' : `audience ${printable(JSON.stringify(aud))}`;
      return new AirlockError('AIRLOCK_AUTH_WRONG_AUDIENCE',
        `it has ${stated}, but issuer "${config.name}" accepts only ${config.audiences.join(', ')}; request a token for that audience`);
    }
    case 'iss':
      return new AirlockError('AIRLOCK_AUTH_UNKNOWN_ISSUER', `the token's issuer is not ${config.issuer}`);
    default:
      return new AirlockError('AIRLOCK_AUTH_CLAIMS', err.reason === 'missing'
        ? `the token has no "${err.claim}" claim; airlock accepts only tokens that name their issuer, audience and expiry`
        : `the token's "${err.claim}" claim is not valid (${err.reason})`);
  }
}

function iso(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  return Number.isNaN(date.getTime()) ? String(epochSeconds) : date.toISOString();
}
