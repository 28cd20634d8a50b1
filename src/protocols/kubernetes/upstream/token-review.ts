/**
 * Service-account tokens of in-cluster agents, verified by the cluster that issued them: a
 * TokenReview (`POST /apis/authentication.k8s.io/v1/tokenreviews`) sent with airlock's own
 * upstream credential and no impersonation (reference §4.6). TokenReview, unlike checking
 * the JWT against the cluster's JWKS, also notices a token whose pod or secret was deleted.
 *
 * Only service accounts are accepted (`system:serviceaccount:<ns>:<name>`): the connection
 * setting is `serviceAccountTokens`, and a cluster user's token (an admin's static token, an
 * OIDC token the cluster trusts) is not what an operator switched on.
 *
 * Positive answers are cached by SHA-256 of the token for at most 60 s and never past the
 * token's `exp`, so a busy agent costs one review a minute; the cache is bounded (oldest
 * entry evicted first) and concurrent reviews of one token share a single request. Refusals
 * are not cached. The token is never logged, cached in clear, or put in a message.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { request } from 'undici';
import { AirlockError } from '../../../errors.js';
import type { Identity } from '../../../identity/identity.js';
import { maxTokenLength } from '../../../identity/token-shape.js';
import { tokenDigestId } from '../../../identity/oidc-verifier.js';
import { sendRenewing, upstreamPath, type Upstream } from './upstream.js';

export interface TokenReviewerOptions {
  /** Audiences the token must be meant for (`spec.audiences`); empty: the API server's own. */
  audiences?: string[];
  /** Longest time a positive answer is reused (default 60 s). */
  cacheTtlMs?: number;
  /** Most tokens remembered (default 10 000). */
  cacheSize?: number;
  /** Per-review timeout for the round trip to the cluster (default 10 s). */
  timeoutMs?: number;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
}

export interface TokenReviewer {
  /** review returns the token's Identity or throws AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED / AIRLOCK_AUTH_ISSUER_UNAVAILABLE. */
  review(token: string): Promise<Identity>;
}

/** When a token carries no readable `exp`, how long its identity is taken to hold (5 min). */
const defaultLifetimeSeconds = 300;
const serviceAccountUser = /^system:serviceaccount:[^:]+:[^:]+$/;

/**
 * createTokenReviewer returns a reviewer bound to one cluster, with its own cache.
 *
 * @example
 * const reviewer = createTokenReviewer(upstream, { audiences: ['airlock'] });
 * const identity = await reviewer.review(bearerToken); // subject system:serviceaccount:ci:deployer
 */
export function createTokenReviewer(upstream: Upstream, options: TokenReviewerOptions = {}): TokenReviewer {
  const now = options.now ?? Date.now;
  const ttlMs = options.cacheTtlMs ?? 60_000;
  const size = options.cacheSize ?? 10_000;
  const cache = new Map<string, { identity: Identity; until: number }>();
  const pending = new Map<string, Promise<Identity>>();

  return {
    async review(token) {
      if (typeof token !== 'string' || token === '') throw new AirlockError('AIRLOCK_AUTH_MISSING', 'send a bearer token in the Authorization header');
      if (token.length > maxTokenLength) throw new AirlockError('AIRLOCK_AUTH_MALFORMED', `the token is longer than ${maxTokenLength} characters`);
      const key = createHash('sha256').update(token).digest('hex');
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.identity;
      if (hit) cache.delete(key);
      const inflight = pending.get(key);
      if (inflight) return inflight;
      const review = sendReview(upstream, token, options, now).finally(() => pending.delete(key));
      pending.set(key, review);
      const identity = await review;
      const until = Math.min(now() + ttlMs, identity.expiresAt * 1000);
      if (until > now()) {
        if (cache.size >= size) cache.delete(cache.keys().next().value as string);
        cache.set(key, { identity, until });
      }
      return identity;
    },
  };
}

const reviewers = new WeakMap<Upstream, TokenReviewer>();

/**
 * reviewServiceAccountToken asks the connection's cluster who `token` is (one cached
 * reviewer per upstream, default options); it throws AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED when
 * the cluster does not accept the token or it is not a service account's, and
 * AIRLOCK_AUTH_ISSUER_UNAVAILABLE when the cluster cannot be asked.
 */
export function reviewServiceAccountToken(upstream: Upstream, token: string): Promise<Identity> {
  let reviewer = reviewers.get(upstream);
  if (!reviewer) {
    reviewer = createTokenReviewer(upstream);
    reviewers.set(upstream, reviewer);
  }
  return reviewer.review(token);
}

interface ReviewStatus {
  authenticated?: boolean;
  user?: { username?: unknown; groups?: unknown };
  audiences?: unknown;
  error?: unknown;
}

async function sendReview(upstream: Upstream, token: string, options: TokenReviewerOptions, now: () => number): Promise<Identity> {
  const issuer = `kubernetes:${upstream.name}`;
  const unavailable = (what: string, cause?: unknown) =>
    new AirlockError('AIRLOCK_AUTH_ISSUER_UNAVAILABLE', `TokenReview on connection "${upstream.name}": ${what}`, cause === undefined ? undefined : { cause });
  const audiences = options.audiences ?? [];
  const body = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, ...(audiences.length > 0 && { audiences }) },
  });
  const timeout = options.timeoutMs ?? 10_000;
  // Headers are built per send: a renewed credential must be read again.
  const headers = (): Record<string, string> => {
    const authorization = upstream.authorization();
    return { 'content-type': 'application/json', accept: 'application/json', ...(authorization && { authorization }) };
  };
  let status: number;
  let text: string;
  try {
    const url = new URL(upstreamPath(upstream, '/apis/authentication.k8s.io/v1/tokenreviews'), upstream.baseUrl);
    const res = await sendRenewing(upstream, () => request(url, { method: 'POST', dispatcher: upstream.dispatcher, headers: headers(), body, headersTimeout: timeout, bodyTimeout: timeout }));
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw unavailable(`the cluster could not be reached (${(err as { code?: string }).code ?? (err instanceof Error ? err.message : 'error')})`, err);
  }
  if (status === 401) {
    throw unavailable(`the cluster refused airlock's own credential (HTTP 401${statusMessage(text)}); whoever runs airlock must renew its credential for the cluster`);
  }
  if (status === 403) {
    throw unavailable(`the cluster refused airlock's own credential (HTTP 403${statusMessage(text)}); airlock's upstream account needs \`create\` on tokenreviews (e.g. the ClusterRole system:auth-delegator)`);
  }
  if (status !== 200 && status !== 201) throw unavailable(`the cluster answered HTTP ${status}${statusMessage(text)}`);
  let reviewStatus: ReviewStatus;
  try {
    reviewStatus = ((JSON.parse(text) as { status?: ReviewStatus }).status ?? {}) as ReviewStatus;
  } catch {
    throw unavailable('the cluster answered with something that is not JSON');
  }
  return identityFrom(reviewStatus, token, issuer, audiences, now);
}

function identityFrom(status: ReviewStatus, token: string, issuer: string, audiences: string[], now: () => number): Identity {
  const rejected = (why: string) => new AirlockError('AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED', why, typeof status.error === 'string' ? { details: { reason: status.error.slice(0, 300) } } : undefined);
  if (status.authenticated !== true) {
    throw rejected('it is expired, revoked (its pod or secret was deleted), meant for another audience, or not from this cluster; mount a fresh projected service-account token');
  }
  const username = status.user?.username;
  if (typeof username !== 'string' || !serviceAccountUser.test(username)) {
    throw rejected('the cluster knows this token, but not as a service account; only service-account tokens are accepted on this connection');
  }
  if (audiences.length > 0) {
    const granted = Array.isArray(status.audiences) ? status.audiences : [];
    if (!audiences.some((a) => granted.includes(a))) throw rejected(`the token is not meant for airlock (audience ${audiences.join(', ')})`);
  }
  const groups = Array.isArray(status.user?.groups) ? status.user.groups.filter((g): g is string => typeof g === 'string') : [];
  const claims = readClaims(token);
  const expiresAt = typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? Math.floor(claims.exp) : Math.floor(now() / 1000) + defaultLifetimeSeconds;
  return {
    subject: username,
    groups,
    issuer,
    tokenId: typeof claims.jti === 'string' && claims.jti !== '' ? claims.jti : tokenDigestId(token),
    expiresAt,
    kind: 'agent',
    via: 'kubernetes',
  };
}

/** readClaims decodes a JWT's claims once the cluster has vouched for the token; legacy opaque tokens give none. */
function readClaims(token: string): { exp?: unknown; jti?: unknown } {
  try {
    return decodeJwt(token);
  } catch {
    return {};
  }
}

/** statusMessage quotes a Kubernetes Status message (it names users and resources, never a token). */
function statusMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
