import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { isAirlockError } from '../errors.js';
import { createAuthenticator } from './authenticator.js';
import { openBuiltinIssuer, type MintRequest } from './builtin-issuer.js';
import { keyFilePath } from './builtin-key.js';

const issuerUrl = 'https://airlock.example.com';
const dirs: string[] = [];
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-builtin-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('built-in issuer', () => {
  test('a minted token authenticates with subject, groups, kind, expiry and jti', async () => {
    const builtin = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
    const token = await builtin.mint({ subject: 'agent:deploy-bot', groups: ['ci', 'deployers'], ttlSeconds: 900 });
    const claims = decodeJwt(token);
    const identity = await createAuthenticator({ issuers: [], builtin }).authenticate(token);
    assert.deepEqual(identity, {
      subject: 'agent:deploy-bot',
      groups: ['ci', 'deployers'],
      issuer: issuerUrl,
      tokenId: claims.jti,
      expiresAt: (claims.iat ?? 0) + 900,
      kind: 'agent',
      via: 'builtin',
    });
    assert.equal(claims.nbf, claims.iat);
    assert.equal(claims.aud, 'airlock');
    assert.equal(decodeProtectedHeader(token).kid, builtin.kid);
  });

  const kinds: Array<{ name: string; request: MintRequest; kind: string }> = [
    { name: 'an agent: subject defaults to agent', request: { subject: 'agent:x', ttlSeconds: 60 }, kind: 'agent' },
    { name: 'another subject defaults to human', request: { subject: 'alice@example.com', ttlSeconds: 60 }, kind: 'human' },
    { name: 'an explicit kind wins over the subject', request: { subject: 'agent:x', ttlSeconds: 60, kind: 'human' }, kind: 'human' },
  ];
  for (const row of kinds) {
    test(`kind: ${row.name}`, async () => {
      const builtin = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
      const identity = await createAuthenticator({ issuers: [], builtin }).authenticate(await builtin.mint(row.request));
      assert.equal(identity.kind, row.kind);
    });
  }

  test('the key persists across reopen: same kid, and earlier tokens still verify', async () => {
    const dataDir = tempDataDir();
    const first = await openBuiltinIssuer({ dataDir, issuer: issuerUrl });
    const token = await first.mint({ subject: 'agent:a', ttlSeconds: 60 });
    const second = await openBuiltinIssuer({ dataDir, issuer: issuerUrl });
    assert.equal(second.kid, first.kid);
    const identity = await createAuthenticator({ issuers: [], builtin: second }).authenticate(token);
    assert.equal(identity.subject, 'agent:a');
  });

  test('the key file is private (0600 in a 0700 dir) and is the only place the private key lives', async () => {
    const dataDir = tempDataDir();
    const builtin = await openBuiltinIssuer({ dataDir, issuer: issuerUrl });
    const path = keyFilePath(dataDir);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'keys')).mode & 0o777, 0o700);
    const privateJwk = JSON.parse(readFileSync(path, 'utf8')) as { d: string; kid: string };
    assert.equal(privateJwk.kid, builtin.kid);
    const token = await builtin.mint({ subject: 'agent:a', ttlSeconds: 60 });
    const published = JSON.stringify([builtin.jwks(), builtin.discoveryDocument(), builtin.verifierConfig(), token]);
    assert.ok(!published.includes(privateJwk.d), 'the private scalar is never published');
  });

  test('two issuers opening an empty data dir at once agree on one key', async () => {
    const dataDir = tempDataDir();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => openBuiltinIssuer({ dataDir, issuer: issuerUrl })));
    assert.equal(a?.kid, b?.kid);
    assert.equal(b?.kid, c?.kid);
  });

  test('the JWKS and discovery document let a third party verify a minted token', async () => {
    const builtin = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: `${issuerUrl}/` });
    const discovery = builtin.discoveryDocument();
    assert.equal(discovery.issuer, `${issuerUrl}/`);
    assert.equal(discovery.jwks_uri, `${issuerUrl}/.well-known/jwks.json`);
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256']);
    const jwks = builtin.jwks();
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual(Object.keys(jwks.keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    const token = await builtin.mint({ subject: 'agent:a', groups: ['ci'], ttlSeconds: 60 });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: discovery.issuer, audience: 'airlock', algorithms: ['ES256'] });
    assert.deepEqual(payload.groups, ['ci']);
    assert.equal(payload.airlock_kind, 'agent');
  });

  test('extra claims are carried for policy but cannot replace registered ones', async () => {
    const builtin = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
    const token = await builtin.mint({ subject: 'agent:a', ttlSeconds: 60, extra: { ticket: 'OPS-42' } });
    assert.equal(decodeJwt(token).ticket, 'OPS-42');
    await assert.rejects(builtin.mint({ subject: 'agent:a', ttlSeconds: 60, extra: { exp: 9999999999 } }),
      (err) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID') && /"exp" is set by the issuer/.test(err.message));
  });

  const refusals: Array<{ name: string; request: MintRequest; says: RegExp }> = [
    { name: 'a ttl above the maximum', request: { subject: 'agent:a', ttlSeconds: 24 * 3600 + 1 }, says: /longer than the maximum of 86400 s/ },
    { name: 'a zero ttl', request: { subject: 'agent:a', ttlSeconds: 0 }, says: /positive whole number/ },
    { name: 'a fractional ttl', request: { subject: 'agent:a', ttlSeconds: 1.5 }, says: /positive whole number/ },
    { name: 'an empty subject', request: { subject: '', ttlSeconds: 60 }, says: /subject must be/ },
    { name: 'a subject with a space', request: { subject: 'agent:deploy bot', ttlSeconds: 60 }, says: /without spaces/ },
    { name: 'a subject with a control character', request: { subject: 'agent:a\u0007', ttlSeconds: 60 }, says: /printable/ },
    { name: 'a group with a newline', request: { subject: 'agent:a', groups: ['ci\nadmin'], ttlSeconds: 60 }, says: /group/ },
  ];
  for (const row of refusals) {
    test(`mint refuses ${row.name} with AIRLOCK_INPUT_INVALID`, async () => {
      const builtin = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
      await assert.rejects(builtin.mint(row.request), (err) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID') && row.says.test(err.message));
    });
  }

  test('a token minted with another data dir key is refused as an unknown key', async () => {
    const ours = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
    const theirs = await openBuiltinIssuer({ dataDir: tempDataDir(), issuer: issuerUrl });
    const token = await theirs.mint({ subject: 'agent:a', ttlSeconds: 60 });
    await assert.rejects(createAuthenticator({ issuers: [], builtin: ours }).authenticate(token),
      (err) => isAirlockError(err, 'AIRLOCK_AUTH_UNKNOWN_KEY') && err.message.includes(ours.kid));
  });

  test('a key file readable by other users is refused with the command that fixes it', async () => {
    const dataDir = tempDataDir();
    await openBuiltinIssuer({ dataDir, issuer: issuerUrl });
    chmodSync(keyFilePath(dataDir), 0o644);
    await assert.rejects(openBuiltinIssuer({ dataDir, issuer: issuerUrl }),
      (err) => isAirlockError(err, 'AIRLOCK_ISSUER_KEY_INVALID') && err.message.includes('chmod 600'));
  });

  test('a corrupt key file is refused, not replaced', async () => {
    const dataDir = tempDataDir();
    await openBuiltinIssuer({ dataDir, issuer: issuerUrl });
    writeFileSync(keyFilePath(dataDir), '{"kty":"EC"', { mode: 0o600 });
    await assert.rejects(openBuiltinIssuer({ dataDir, issuer: issuerUrl }), (err) => isAirlockError(err, 'AIRLOCK_ISSUER_KEY_INVALID'));
    assert.equal(readFileSync(keyFilePath(dataDir), 'utf8'), '{"kty":"EC"');
  });

  test('an issuer that is not an http(s) URL is a configuration error', async () => {
    await assert.rejects(openBuiltinIssuer({ dataDir: tempDataDir(), issuer: 'airlock.example.com' }),
      (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'));
  });
});
