import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import https from 'node:https';
import { isAirlockError } from '../errors.js';
import { ensureQuickstartTls, loadGatewayTls } from './tls-certificates.js';

test('the quick-start CA signs a server certificate that a TLS client trusts for 127.0.0.1 and localhost', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = await ensureQuickstartTls(dir, ['localhost', '127.0.0.1']);
  assert.equal(statSync(files.keyFile).mode & 0o777, 0o600);
  const server = https.createServer({ cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) }, (_req, res) => res.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  for (const host of ['127.0.0.1', 'localhost']) {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', servername: host === 'localhost' ? host : undefined, port, ca: readFileSync(files.caFile), headers: { host } }, (res) => {
          let s = '';
          res.on('data', (d) => (s += d));
          res.on('end', () => resolve(s));
        })
        .on('error', reject);
    });
    assert.equal(body, 'hello');
  }
});

test('certificates are reused across starts and reissued when a new host is needed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await ensureQuickstartTls(dir, ['127.0.0.1']);
  const cert1 = readFileSync(first.certFile, 'utf8');
  await ensureQuickstartTls(dir, ['127.0.0.1']);
  assert.equal(readFileSync(first.certFile, 'utf8'), cert1);
  const ca1 = readFileSync(first.caFile, 'utf8');
  await ensureQuickstartTls(dir, ['127.0.0.1', 'airlock.example.internal']);
  assert.notEqual(readFileSync(first.certFile, 'utf8'), cert1);
  assert.equal(readFileSync(first.caFile, 'utf8'), ca1, 'the CA stays, so distributed kubeconfigs keep working');
});

test('the gateway certificate is checked at start: readable, PEM, its own key, valid now; each mistake names the field and file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tls-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = await ensureQuickstartTls(join(dir, 'good'), ['127.0.0.1']);
  const other = await ensureQuickstartTls(join(dir, 'other'), ['127.0.0.1']);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'not a certificate\n');
  const loaded = loadGatewayTls({ cert: good.certFile, key: good.keyFile });
  assert.ok(loaded.cert.equals(readFileSync(good.certFile)) && loaded.key.equals(readFileSync(good.keyFile)));
  const refused = (files: { cert: string; key: string }, message: RegExp, now?: Date) =>
    assert.throws(() => loadGatewayTls(files, now), (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && message.test(err.message));
  refused({ cert: join(dir, 'missing.crt'), key: good.keyFile }, /tls\.cert: cannot read .*missing\.crt \(ENOENT\)/);
  refused({ cert: good.certFile, key: join(dir, 'missing.key') }, /tls\.key: cannot read .*missing\.key \(ENOENT\)/);
  refused({ cert: notPem, key: good.keyFile }, /tls\.cert: .*not\.pem does not hold a PEM certificate/);
  refused({ cert: good.certFile, key: notPem }, /tls\.key: .*not\.pem does not hold a PEM private key/);
  refused({ cert: good.certFile, key: other.keyFile }, /tls\.key: .* is not the key of the certificate in/);
  refused({ cert: good.certFile, key: good.keyFile }, /tls\.cert: the certificate in .* is valid from .* to .*, not now/, new Date(Date.now() + 5 * 365 * 86400_000));
});
