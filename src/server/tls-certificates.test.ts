import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import https from 'node:https';
import { ensureQuickstartTls } from './tls-certificates.js';

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
