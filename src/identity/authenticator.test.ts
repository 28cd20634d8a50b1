import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import { isAirlockError } from '../errors.js';
import { createAuthenticator, type Authenticator } from './authenticator.js';
import { openBuiltinIssuer } from './builtin-issuer.js';
import { newSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from './local-issuer.test-helper.js';

let corp: LocalIssuer;
let partner: LocalIssuer;
let corpKey: SigningKey;
let partnerKey: SigningKey;
let auth: Authenticator;

function sign(key: SigningKey, claims: JWTPayload): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ aud: 'airlock', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

before(async () => {
  corpKey = await newSigningKey('RS256', 'corp-1');
  partnerKey = await newSigningKey('EdDSA', 'partner-1');
  corp = await startLocalIssuer({ keys: [corpKey.publicJwk] });
  partner = await startLocalIssuer({ keys: [partnerKey.publicJwk] });
  auth = createAuthenticator({
    issuers: [
      {
        name: 'corp', issuer: corp.issuer, audience: ['airlock', 'airlock-staging'], allowInsecure: true,
        subjectClaim: 'preferred_username', subjectPrefix: 'corp:', groupsClaim: 'realm_access.roles', groupsPrefix: 'corp:',
      },
      { name: 'partner', issuer: partner.issuer, audience: 'airlock', allowInsecure: true, kind: 'agent' },
    ],
  });
});

after(async () => {
  await Promise.all([corp.close(), partner.close()]);
});

describe('authenticator', () => {
  test('claims are mapped per issuer: subject claim and prefix, nested groups and prefix, client id, kind', async () => {
    const token = await sign(corpKey, {
      iss: corp.issuer, sub: 'f81d4fae', preferred_username: 'alice', email: 'alice@example.com',
      realm_access: { roles: ['sre', 'oncall'] }, azp: 'kubectl', aud: ['airlock-staging'],
    });
    const identity = await auth.authenticate(token);
    assert.equal(identity.subject, 'corp:alice');
    assert.deepEqual(identity.groups, ['corp:sre', 'corp:oncall']);
    assert.equal(identity.clientId, 'kubectl');
    assert.equal(identity.kind, 'human');
    assert.equal(identity.via, 'corp');
    assert.equal(identity.tokenId, `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`, 'no jti: a digest prefix');
    assert.ok(!JSON.stringify(identity).includes(token.split('.')[2]!), 'the identity never carries the token');
  });

  test('an explicit kind in the issuer config wins over the claims', async () => {
    const identity = await auth.authenticate(await sign(partnerKey, { iss: partner.issuer, sub: 'bob', email: 'bob@partner.example', jti: 'j-1' }));
    assert.equal(identity.kind, 'agent');
    assert.equal(identity.tokenId, 'j-1');
  });

  test("a token claiming one issuer but signed with another issuer's key is refused", async () => {
    const crossed = await sign(partnerKey, { iss: corp.issuer, preferred_username: 'alice' });
    await assert.rejects(auth.authenticate(crossed), (err) => isAirlockError(err, 'AIRLOCK_AUTH_UNKNOWN_KEY'));
    const sameAlg = await newSigningKey('RS256', 'corp-1');
    await assert.rejects(auth.authenticate(await sign(sameAlg, { iss: corp.issuer, preferred_username: 'alice' })),
      (err) => isAirlockError(err, 'AIRLOCK_AUTH_BAD_SIGNATURE'));
  });

  test('a configured subject claim that the token lacks is refused as missing claims', async () => {
    await assert.rejects(auth.authenticate(await sign(corpKey, { iss: corp.issuer, sub: 'x' })),
      (err) => isAirlockError(err, 'AIRLOCK_AUTH_CLAIMS') && err.message.includes('"preferred_username"'));
  });

  test('a token without a bearer value is refused as missing', async () => {
    await assert.rejects(auth.authenticate(undefined as unknown as string), (err) => isAirlockError(err, 'AIRLOCK_AUTH_MISSING'));
  });
});

describe('authenticator configuration', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-auth-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { name: 'a', issuer: 'https://idp.example.com', audience: 'airlock' };

  test('an issuer configured twice is refused at startup', () => {
    assert.throws(() => createAuthenticator({ issuers: [base, { ...base, name: 'b' }] }),
      (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /configured twice/.test(err.message));
  });

  test('two issuers with one name are refused at startup', () => {
    assert.throws(() => createAuthenticator({ issuers: [base, { ...base, issuer: 'https://other.example.com' }] }),
      (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /used twice/.test(err.message));
  });

  test('an OIDC issuer with the built-in issuer URL is refused at startup', async () => {
    const builtin = await openBuiltinIssuer({ dataDir, issuer: 'https://idp.example.com' });
    assert.throws(() => createAuthenticator({ issuers: [base], builtin }), (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'));
  });
});
