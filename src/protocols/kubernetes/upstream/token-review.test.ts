/**
 * TokenReview against the fake API server, which accepts the tokens given to it in
 * `serviceAccountTokens` and answers like kube-apiserver (201 with status.authenticated).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubernetesConnectionSchema } from '../../../config/kubernetes-schema.js';
import { isAirlockError } from '../../../errors.js';
import { startFakeApiServer, type FakeApiServer } from '../../../../test/fixtures/fake-apiserver/index.js';
import { createTokenReviewer, reviewServiceAccountToken } from './token-review.js';
import { openUpstream, type Upstream } from './upstream.js';

/** jwtLike builds a token shaped like a projected service-account token (the fake does not check signatures). */
function jwtLike(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const exp = Math.floor(Date.now() / 1000) + 3600;
const projected = jwtLike({ iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:ci:deployer', exp, jti: 'jti-projected-1' });
const noJti = jwtLike({ sub: 'system:serviceaccount:ci:other', exp });
const legacyOpaque = 'legacy-opaque-service-account-token-0123456789';
const clusterUserToken = 'cluster-admin-static-token-0123456789';
const unknownToken = jwtLike({ sub: 'system:serviceaccount:ci:ghost', exp });
const allTokens = [projected, noJti, legacyOpaque, clusterUserToken, unknownToken];

const sa = (ns: string, name: string) => ({ username: `system:serviceaccount:${ns}:${name}`, uid: `uid-${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const accepted = {
  [projected]: sa('ci', 'deployer'),
  [noJti]: sa('ci', 'other'),
  [legacyOpaque]: sa('legacy', 'bot'),
  [clusterUserToken]: { username: 'kubernetes-admin', uid: 'u1', groups: ['system:masters', 'system:authenticated'] },
};

let fake: FakeApiServer;
let dir: string;
let upstream: Upstream;
before(async () => {
  fake = await startFakeApiServer({ serviceAccountTokens: accepted });
  dir = mkdtempSync(join(tmpdir(), 'airlock-token-review-'));
  writeFileSync(join(dir, 'ca.crt'), fake.caCert ?? '');
  upstream = await openUpstream(conn({ url: fake.url, ca: join(dir, 'ca.crt'), token: fake.token }));
});
after(async () => {
  await upstream.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function conn(u: Record<string, unknown>) {
  return kubernetesConnectionSchema.parse({ name: 'prod', type: 'kubernetes', upstream: u, serviceAccountTokens: true });
}

const reviews = () => fake.received.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews');

/** noTokenIn asserts that an error carries none of the tokens anywhere a user or log could see. */
function noTokenIn(err: unknown): void {
  const text = `${String(err)} ${JSON.stringify((err as { details?: unknown }).details ?? {})}`;
  for (const token of [...allTokens, fake.token]) assert.ok(!text.includes(token), 'the error never carries a token');
}

describe('reviewServiceAccountToken', () => {
  it('an accepted projected token becomes an agent identity of this cluster', async () => {
    fake.clearReceived();
    const identity = await reviewServiceAccountToken(upstream, projected);
    assert.deepEqual(identity, {
      subject: 'system:serviceaccount:ci:deployer',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
      issuer: 'kubernetes:prod',
      tokenId: 'jti-projected-1',
      expiresAt: exp,
      kind: 'agent',
      via: 'kubernetes',
    });
    const [sent] = reviews();
    assert.equal(sent?.authorization?.isAdminToken, true, "the review is sent with airlock's own credential");
    assert.ok(!Object.keys(sent?.headers ?? {}).some((h) => h.startsWith('impersonate-')), 'and without impersonation');
  });

  it('a token without jti gets a hash id, and an opaque legacy token a 5-minute lifetime', async () => {
    const hashed = await reviewServiceAccountToken(upstream, noJti);
    assert.match(hashed.tokenId, /^sha256:[0-9a-f]{16}$/);
    assert.equal(hashed.expiresAt, exp);
    const now = 1_700_000_000_000;
    const legacy = await createTokenReviewer(upstream, { now: () => now }).review(legacyOpaque);
    assert.equal(legacy.subject, 'system:serviceaccount:legacy:bot');
    assert.equal(legacy.expiresAt, now / 1000 + 300);
    assert.ok(!legacy.tokenId.includes(legacyOpaque));
  });

  const refused: Array<{ name: string; token: string; code: string; message: RegExp }> = [
    { name: 'a token the cluster does not accept is refused in plain words', token: unknownToken, code: 'AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED', message: /did not accept this service-account token: it is expired, revoked/ },
    { name: 'a cluster user that is not a service account is refused', token: clusterUserToken, code: 'AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED', message: /not as a service account/ },
    { name: 'an empty token is missing, not reviewed', token: '', code: 'AIRLOCK_AUTH_MISSING', message: /bearer token/ },
    { name: 'an oversized token is refused before any request', token: 'x'.repeat(20_000), code: 'AIRLOCK_AUTH_MALFORMED', message: /longer than/ },
  ];
  for (const row of refused) {
    it(row.name, async () => {
      await assert.rejects(reviewServiceAccountToken(upstream, row.token), (err: unknown) => {
        assert.ok(isAirlockError(err), String(err));
        assert.equal(err.code, row.code);
        assert.match(err.message, row.message);
        noTokenIn(err);
        return true;
      });
    });
  }

  it('the reason the cluster gave is kept in details, not in the message', async () => {
    await assert.rejects(reviewServiceAccountToken(upstream, unknownToken), (err: unknown) => {
      assert.ok(isAirlockError(err, 'AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED'));
      assert.match(String(err.details?.reason), /not one the fake API server was given/);
      return true;
    });
  });

  it('an audience the cluster did not confirm is refused', async () => {
    // The fake echoes the requested audiences; an apiserver that ignores them would return none.
    const reviewer = createTokenReviewer(upstream, { audiences: ['airlock'] });
    assert.equal((await reviewer.review(projected)).subject, 'system:serviceaccount:ci:deployer');
    const sent = reviews().at(-1);
    assert.deepEqual(JSON.parse(sent?.body.toString() ?? '{}').spec.audiences, ['airlock']);
  });
});

describe('TokenReview cache', () => {
  it('a positive answer is reused for 60 s, then asked again', async () => {
    let now = Date.now();
    const reviewer = createTokenReviewer(upstream, { now: () => now });
    fake.clearReceived();
    await reviewer.review(projected);
    await reviewer.review(projected);
    assert.equal(reviews().length, 1, 'the second review is served from the cache');
    now += 59_999;
    await reviewer.review(projected);
    assert.equal(reviews().length, 1);
    now += 1;
    await reviewer.review(projected);
    assert.equal(reviews().length, 2, 'after 60 s the cluster is asked again (the token may have been revoked)');
  });

  it("a cached answer never outlives the token's exp", async () => {
    const soon = Math.floor(Date.now() / 1000) + 10;
    const shortLived = jwtLike({ sub: 'system:serviceaccount:ci:deployer', exp: soon, jti: 'short' });
    await fake.close();
    fake = await restartWith({ ...accepted, [shortLived]: sa('ci', 'deployer') });
    let now = (soon - 5) * 1000;
    const reviewer = createTokenReviewer(upstream, { now: () => now });
    await reviewer.review(shortLived);
    await reviewer.review(shortLived);
    assert.equal(reviews().length, 1);
    now = soon * 1000;
    await reviewer.review(shortLived);
    assert.equal(reviews().length, 2, 'at exp the cache entry is gone');
  });

  it('refusals are not cached, and concurrent reviews of one token share one request', async () => {
    const reviewer = createTokenReviewer(upstream);
    fake.clearReceived();
    await assert.rejects(reviewer.review(unknownToken));
    await assert.rejects(reviewer.review(unknownToken));
    assert.equal(reviews().length, 2);
    fake.clearReceived();
    const all = await Promise.all([reviewer.review(noJti), reviewer.review(noJti), reviewer.review(noJti)]);
    assert.equal(new Set(all.map((i) => i.subject)).size, 1);
    assert.equal(reviews().length, 1);
  });

  it('the cache is bounded: the oldest token is evicted first', async () => {
    const reviewer = createTokenReviewer(upstream, { cacheSize: 1 });
    fake.clearReceived();
    await reviewer.review(projected);
    await reviewer.review(noJti);
    await reviewer.review(projected);
    assert.equal(reviews().length, 3, 'with room for one, the first token was evicted by the second');
  });

  /** restartWith starts a fresh fake (same upstream settings) with other accepted tokens. */
  async function restartWith(tokens: Record<string, { username: string; uid: string; groups: string[] }>): Promise<FakeApiServer> {
    const next = await startFakeApiServer({ serviceAccountTokens: tokens });
    writeFileSync(join(dir, 'ca.crt'), next.caCert ?? '');
    await upstream.close();
    upstream = await openUpstream(conn({ url: next.url, ca: join(dir, 'ca.crt'), token: next.token }));
    return next;
  }
});

describe('TokenReview when the cluster cannot answer', () => {
  it("a cluster that refuses airlock's credential is unavailable, saying that credential must be renewed", async () => {
    const wrong = await openUpstream(conn({ url: fake.url, ca: join(dir, 'ca.crt'), token: 'not-the-admin-token' }));
    try {
      await assert.rejects(reviewServiceAccountToken(wrong, projected), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_AUTH_ISSUER_UNAVAILABLE'), String(err));
        assert.match(err.message, /refused airlock's own credential \(HTTP 401.*\); whoever runs airlock must renew its credential for the cluster/);
        noTokenIn(err);
        return true;
      });
    } finally {
      await wrong.close();
    }
  });

  it('an unreachable cluster is unavailable, not a refusal of the token', async () => {
    const gone = await startFakeApiServer();
    const url = gone.url;
    writeFileSync(join(dir, 'gone-ca.crt'), gone.caCert ?? '');
    await gone.close();
    const dead = await openUpstream(conn({ url, ca: join(dir, 'gone-ca.crt'), token: 'whatever' }));
    try {
      await assert.rejects(reviewServiceAccountToken(dead, projected), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_AUTH_ISSUER_UNAVAILABLE'), String(err));
        assert.match(err.message, /could not be reached \(ECONNREFUSED\)/);
        noTokenIn(err);
        return true;
      });
    } finally {
      await dead.close();
    }
  });
});
