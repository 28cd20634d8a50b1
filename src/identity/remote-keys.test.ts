/**
 * How airlock behaves when the IdP is down, wrong or flaky: clear 503-style refusals, no
 * hammering (backoff for discovery, cooldown for key refetches), and a short grace period
 * on the last good key set. Time moves through an injected clock.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { isAirlockError } from '../errors.js';
import { createAuthenticator, type AuthenticatorOptions } from './authenticator.js';
import { newSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from './local-issuer.test-helper.js';

const discoveryPath = '/.well-known/openid-configuration';
const opened: LocalIssuer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((idp) => idp.close()));
});

async function setup(extra: Partial<AuthenticatorOptions> = {}, issuerExtra: Record<string, unknown> = {}) {
  const key = await newSigningKey('ES256', 'k1');
  const idp = await startLocalIssuer({ keys: [key.publicJwk] });
  opened.push(idp);
  const clock = { ms: Date.now() };
  const auth = createAuthenticator({
    issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock', allowInsecure: true, ...issuerExtra }],
    now: () => clock.ms,
    cache: false,
    ...extra,
  });
  const token = () => mint(key, idp.issuer, clock.ms);
  return { key, idp, clock, auth, token };
}

function mint(key: SigningKey, issuer: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ sub: 'agent:a' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(issuer).setAudience('airlock').setIssuedAt(iat).setExpirationTime(iat + 3600)
    .sign(key.privateKey);
}

const unavailable = (says: RegExp) => (err: unknown) =>
  isAirlockError(err, 'AIRLOCK_AUTH_ISSUER_UNAVAILABLE') && err.status === 503 && says.test(err.message);

describe('remote issuer keys', () => {
  test('an unreachable IdP is refused as unavailable, naming the connection error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const issuer = `http://127.0.0.1:${port}`;
    const key = await newSigningKey('ES256', 'k1');
    const auth = createAuthenticator({ issuers: [{ name: 'gone', issuer, audience: 'airlock', allowInsecure: true }] });
    await assert.rejects(auth.authenticate(await mint(key, issuer, Date.now())), unavailable(/discovery at .* failed: .*ECONNREFUSED/));
  });

  test('failed discovery backs off: requests inside the backoff do not reach the IdP', async () => {
    const { idp, clock, auth, token } = await setup();
    idp.failWith(500);
    await assert.rejects(auth.authenticate(await token()), unavailable(/answered HTTP 500/));
    await assert.rejects(auth.authenticate(await token()), unavailable(/HTTP 500.*next attempt in 1 s/));
    assert.equal(idp.requests.get(discoveryPath), 1);
    clock.ms += 1000;
    await assert.rejects(auth.authenticate(await token()), unavailable(/HTTP 500/));
    assert.equal(idp.requests.get(discoveryPath), 2);
    await assert.rejects(auth.authenticate(await token()), unavailable(/next attempt in 2 s/));
    idp.failWith(undefined);
    clock.ms += 2000;
    const identity = await auth.authenticate(await token());
    assert.equal(identity.subject, 'agent:a');
    assert.equal(idp.requests.get(discoveryPath), 3);
  });

  test('a discovery document naming another issuer is refused with both values', async () => {
    const { idp, auth, token } = await setup();
    idp.setDiscoveryIssuer('https://other.example.com');
    await assert.rejects(auth.authenticate(await token()),
      unavailable(/names issuer "https:\/\/other.example.com", not the configured "http:\/\/127.0.0.1:\d+"/));
  });

  test('a configured jwksUri skips discovery', async () => {
    const key = await newSigningKey('ES256', 'k1');
    const idp = await startLocalIssuer({ keys: [key.publicJwk] });
    opened.push(idp);
    const auth = createAuthenticator({
      issuers: [{ name: 'corp', issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks`, audience: 'airlock', allowInsecure: true }],
    });
    await auth.authenticate(await mint(key, idp.issuer, Date.now()));
    assert.equal(idp.requests.get(discoveryPath), undefined);
    assert.equal(idp.requests.get('/jwks'), 1);
  });

  test('when a key refresh fails, the last good keys serve for a grace period, without a fetch per request', async () => {
    // cacheMaxAgeMs 0: every lookup wants a refresh, so the outage is met at once.
    const { idp, clock, auth, token } = await setup({ jwks: { cacheMaxAgeMs: 0, staleMs: 600_000 } });
    await auth.authenticate(await token());
    assert.equal(idp.requests.get('/jwks'), 1);
    idp.failWith(503);
    await auth.authenticate(await token());
    assert.equal(idp.requests.get('/jwks'), 2, 'the failed refresh was attempted once');
    await auth.authenticate(await token());
    await auth.authenticate(await token());
    assert.equal(idp.requests.get('/jwks'), 2, 'no refetch within the cooldown');
    clock.ms += 600_001;
    await assert.rejects(auth.authenticate(await token()), unavailable(/fetching the keys of .* failed/));
  });

  test('an IdP whose JWKS is not a key set is refused as unavailable', async () => {
    const { idp, auth, token } = await setup();
    idp.setKeys('not a list' as never);
    await assert.rejects(auth.authenticate(await token()), unavailable(/returned an invalid key set/));
  });

  test('an IdP publishing only keys of an unknown type leaves the token without a key', async () => {
    const { idp, auth, token } = await setup();
    idp.setKeys([{ kty: 'nonsense' }]);
    await assert.rejects(auth.authenticate(await token()), (err) => isAirlockError(err, 'AIRLOCK_AUTH_UNKNOWN_KEY'));
  });
});
