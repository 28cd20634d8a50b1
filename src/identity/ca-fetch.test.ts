/**
 * An IdP behind TLS with a private CA: with `caFile` the discovery and JWKS requests verify
 * the IdP's certificate against that CA; without it they fail closed. The CA and the
 * server certificate are made by the openssl CLI in a temp dir (skipped without openssl).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { isAirlockError } from '../errors.js';
import { createAuthenticator } from './authenticator.js';
import { newSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from './local-issuer.test-helper.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = hasOpenssl() ? false : 'the openssl CLI is not installed';
let dir = '';
let idp: LocalIssuer;
let key: SigningKey;

/** makePki writes ca.pem and a server certificate for 127.0.0.1 signed by it. */
function makePki(into: string): { key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=airlock test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(into, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
  return { key: readFileSync(join(into, 'server.key'), 'utf8'), cert: readFileSync(join(into, 'server.pem'), 'utf8') };
}

async function token(): Promise<string> {
  return new SignJWT({ sub: 'agent:a' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(idp.issuer).setAudience('airlock').setIssuedAt().setExpirationTime('5m')
    .sign(key.privateKey);
}

describe('an IdP with a private CA', { skip }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-ca-'));
    key = await newSigningKey('ES256', 'k1');
    idp = await startLocalIssuer({ keys: [key.publicJwk], tls: makePki(dir) });
  });
  after(async () => {
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('with caFile, discovery and JWKS are fetched over verified TLS and the token is accepted', async () => {
    const auth = createAuthenticator({ issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock', caFile: join(dir, 'ca.pem') }] });
    const identity = await auth.authenticate(await token());
    assert.equal(identity.subject, 'agent:a');
    assert.equal(idp.requests.get('/jwks'), 1);
  });

  test('without caFile, the untrusted certificate makes the issuer unavailable (fail closed)', async () => {
    const auth = createAuthenticator({ issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock' }] });
    await assert.rejects(auth.authenticate(await token()),
      (err) => isAirlockError(err, 'AIRLOCK_AUTH_ISSUER_UNAVAILABLE') && /certificate.*set caFile/i.test(err.message));
  });

  test('with another CA, the certificate is refused even though the URL is right', async () => {
    const other = mkdtempSync(join(tmpdir(), 'airlock-ca-other-'));
    try {
      makePki(other);
      const auth = createAuthenticator({ issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock', caFile: join(other, 'ca.pem') }] });
      await assert.rejects(auth.authenticate(await token()), (err) => isAirlockError(err, 'AIRLOCK_AUTH_ISSUER_UNAVAILABLE'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('an unreadable or non-PEM caFile is a configuration error at startup', () => {
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    for (const caFile of [join(dir, 'missing.pem'), join(dir, 'not-pem.txt')]) {
      assert.throws(() => createAuthenticator({ issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock', caFile }] }),
        (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && err.message.includes('caFile'));
    }
  });
});
