/**
 * Errors as clients meet them: every "no" the gateway gives itself is a Kubernetes `Status`
 * in plain words, carries the `Audit-Id` of its ledger entry, and is recorded — an unknown
 * connection (404), an ambiguous path (400, never forwarded), no token or an expired one
 * (401), and a cluster that is down (503). Raw HTTPS requests pin the exact answers; kubectl
 * shows how a user meets the 401.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { startGatewayHarness, type GatewayHarness, type RawResponse } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

interface Status {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason: string;
  code: number;
}

/** assertStatus checks a Status answer and returns it. */
function assertStatus(res: RawResponse, code: number, reason: string): Status {
  assert.equal(res.status, code, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const status = JSON.parse(res.body) as Status;
  assert.equal(status.kind, 'Status');
  assert.equal(status.apiVersion, 'v1');
  assert.equal(status.status, 'Failure');
  assert.equal(status.code, code);
  assert.equal(status.reason, reason);
  return status;
}

/** recorded finds the ledger entry named by the answer's Audit-Id. */
async function recorded(h: GatewayHarness, res: RawResponse): Promise<LedgerEntry> {
  const id = res.headers['audit-id'];
  assert.equal(typeof id, 'string', 'the answer carries its Audit-Id');
  const entry = (await h.entries()).find((e) => e.id === id);
  assert.ok(entry, `a ledger entry ${String(id)}`);
  return entry;
}

describe('errors through airlock, answered as Status and recorded', { concurrency: true }, () => {
  let h: GatewayHarness;
  let token: string;
  let dir: string;

  before(async () => {
    h = await startGatewayHarness();
    token = await h.mintToken('agent:errors', ['ci']);
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-errors-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an unknown connection is a 404 Status naming the known connections, recorded', async () => {
    const res = await h.request('/k8s/nope/api/v1/namespaces', { token });
    const status = assertStatus(res, 404, 'NotFound');
    assert.equal(status.message, 'airlock has no connection named "nope" (known: sandbox)');
    const entry = await recorded(h, res);
    assert.equal(entry.type, 'request');
    assert.equal(entry.data?.outcome, 'refused');
    assert.equal(entry.data?.status, 404);
    assert.equal(entry.data?.target, '/api/v1/namespaces');
  });

  it('an ambiguous path (an encoded slash) is a 400 Status, recorded and never forwarded', async () => {
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/a%2Fb', { token });
    const status = assertStatus(res, 400, 'BadRequest');
    assert.match(status.message, /^airlock refused an ambiguous request path: /);
    const entry = await recorded(h, res);
    assert.equal(entry.data?.outcome, 'refused');
    assert.equal(entry.data?.status, 400);
    assert.equal(entry.connection, 'sandbox');
    assert.ok(!h.fake.received.some((r) => r.url.includes('/namespaces/a')), 'nothing reached the cluster');
  });

  it('a body nested thousands deep is a 400 Status before anything parses it, recorded, never forwarded, and airlock keeps serving', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    h.fake.clearReceived();
    for (const [contentType, method, path] of [
      ['application/json', 'POST', '/k8s/sandbox/api/v1/namespaces/default/configmaps'],
      ['application/apply-patch+yaml', 'PATCH', '/k8s/sandbox/api/v1/namespaces/default/configmaps/app-config?fieldManager=e2e'],
    ] as const) {
      const res = await h.request(path, { method, token, headers: { 'content-type': contentType }, body: deep });
      const status = assertStatus(res, 400, 'BadRequest');
      assert.match(status.message, /nests deeper than 256 levels/);
      assert.equal((await recorded(h, res)).data?.status, 400);
    }
    assert.deepEqual(h.fake.received.map((r) => r.method), [], 'nothing reached the cluster');
    const after = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps/app-config', { token });
    assert.equal(after.status, 200, 'airlock still serves');
  });

  it('bytes that are no HTTP request, and headers too large to read, are answered with a Status before the connection closes', async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const url = new URL(h.gatewayOrigin);
        const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: h.caCert, servername: 'localhost' }, () => socket.end(request));
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (answer += d));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    const bad = await raw('GET /k8s/sandbox/api/v1/pods HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const status = JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4)) as Status;
    assert.deepEqual([status.kind, status.code, status.reason], ['Status', 400, 'BadRequest']);
    assert.match(status.message, /^airlock could not read this HTTP request \(HPE_/);
    const huge = await raw(`GET /k8s/sandbox/api/v1/pods HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.match(huge, /its headers are too large/);
  });

  it('a request without a token is a 401 Status saying how to get one, recorded', async () => {
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps');
    const status = assertStatus(res, 401, 'Unauthorized');
    assert.match(status.message, /^no bearer token was presented; use a kubeconfig written by `airlock kubeconfig`/);
    const entry = await recorded(h, res);
    assert.equal(entry.data?.outcome, 'refused');
    assert.equal(entry.data?.reason, 'unauthenticated');
    assert.equal(entry.identity, undefined);
  });

  it('an expired token is a 401 Status that says it expired, recorded without the token', async () => {
    const expired = await h.mintExpiredToken('agent:late', ['ci']);
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps', { token: expired });
    const status = assertStatus(res, 401, 'Unauthorized');
    assert.match(status.message, /expired.*\[AIRLOCK_AUTH_EXPIRED\]$/);
    const entry = await recorded(h, res);
    assert.equal(entry.data?.outcome, 'refused');
    assert.equal(entry.data?.status, 401);
    const [, payload] = expired.split('.');
    assert.ok(!JSON.stringify(await h.entries()).includes(payload!), 'the token is not in the ledger');
  });

  it('a body over the connection limit is 413 RequestEntityTooLarge as the apiserver says it, recorded and never forwarded', { skip: missingKubectl(33) }, async () => {
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:bulky', groups: ['ci'] });
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    const file = join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'too-big', namespace: 'default' }, data: { blob: 'x'.repeat(4 * 1024 * 1024) } }));
    const result = await kubectl.run(['create', '-f', file]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /Error from server \(RequestEntityTooLarge\): .*the request body is larger than 3145728 bytes, the limit of connection "sandbox"/);
    assert.ok(!h.fake.received.some((r) => r.url.includes('/configmaps') && r.method === 'POST'), 'nothing reached the cluster');
    const entries = await h.entries();
    assert.ok(entries.some((e) => e.type === 'request' && e.identity?.subject === 'agent:bulky' && e.data?.outcome === 'refused' && e.data?.status === 413));
  });

  it('kubectl 1.33 with an expired token is told to log in, and nothing reaches the cluster as that caller', { skip: missingKubectl(33) }, async () => {
    const expired = await h.mintExpiredToken('agent:late-kubectl');
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:late-kubectl', token: expired });
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    const result = await kubectl.run(['get', 'pods']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /error: You must be logged in to the server/);
    assert.ok(!h.fake.received.some((r) => r.headers['impersonate-user']?.includes('agent:late-kubectl')));
  });
});

describe('a cluster that is down', () => {
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('is a 503 Status with a plain message and Retry-After, and the failure is recorded', async () => {
    const token = await h.mintToken('agent:outage');
    await h.fake.close();
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/pods', { token });
    const status = assertStatus(res, 503, 'ServiceUnavailable');
    assert.match(status.message, /^the cluster behind connection "sandbox" is unreachable \([A-Z_]+\); try again later$/);
    assert.equal(res.headers['retry-after'], '5');
    const request = await recorded(h, res);
    assert.equal(request.type, 'request');
    assert.equal(request.data?.outcome, 'forwarded');
    const response = (await h.entries()).find((e) => e.type === 'response' && e.data?.requestId === request.id);
    assert.equal(response?.data?.status, 503);
    assert.equal(response?.data?.error, status.message);
  });
});
