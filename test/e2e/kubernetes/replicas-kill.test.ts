/**
 * Two `airlock start` processes on one real PostgreSQL ledger (initdb by the test) in front of
 * the fake API server: kubectl through both, an approval given on replica B releases a request
 * held on replica A, then A is killed with SIGKILL in the middle of traffic. Afterwards
 * `airlock audit verify` passes for both chains, and every request a client saw answered has its
 * ledger entry (its Audit-ID is the entry id).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { openLedgerReader } from '../../../src/ledger/index.js';
import { startFakeApiServer, type FakeApiServer } from '../../fixtures/fake-apiserver/index.js';
import { freePort, runCli, startCli, type RunningCli } from '../../support/cli.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';
import { startPostgres, type PostgresServer } from '../../support/postgres.js';
import { reviewPolicy } from '../../support/review-policy.js';

const POLICY = reviewPolicy();

interface Replica {
  name: string;
  process: RunningCli;
  config: string;
  gateway: string;
  admin: string;
}

/** call sends one request and resolves with its status and Audit-ID, or rejects when the connection fails. */
function call(r: Replica, ca: string, token: string, method: string, path: string, body?: string): Promise<{ status: number; auditId: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${r.gateway}/k8s/sandbox${path}`, { method, ca, agent: false, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, auditId: String(res.headers['audit-id'] ?? ''), body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('replicas on one PostgreSQL ledger, one killed mid-traffic', { skip: missingKubectl(33) }, () => {
  let pg: PostgresServer;
  let fake: FakeApiServer;
  let root: string;
  let ledgerUrl: string;
  const replicas: Replica[] = [];

  before(async () => {
    [pg, fake] = await Promise.all([startPostgres(), startFakeApiServer({ minorVersion: 33 })]);
    ledgerUrl = await pg.createDatabase('airlock_kill');
    root = mkdtempSync(join(tmpdir(), 'airlock-replicas-kill-'));
    writeFileSync(join(root, 'upstream-ca.crt'), fake.caCert ?? '');
    writeFileSync(join(root, 'policy.yaml'), POLICY);
    for (const name of ['replica-a', 'replica-b']) {
      const [listen, adminPort] = [await freePort(), await freePort()];
      const config = join(root, `${name}.yaml`);
      writeFileSync(
        config,
        stringify({
          data: join(root, 'data'),
          listen: `127.0.0.1:${listen}`,
          // One public name for the admin server (the built-in issuer's `iss`), as behind a load balancer.
          admin: { listen: `127.0.0.1:${adminPort}`, url: 'http://airlock.test:8444' },
          policy: join(root, 'policy.yaml'),
          ledger: { store: 'postgres', postgres: { url: ledgerUrl }, chain: name },
          review: { holdTimeout: '20s' },
          connections: [{ name: 'sandbox', type: 'kubernetes', upstream: { url: fake.url, token: fake.token, ca: join(root, 'upstream-ca.crt') } }],
        }),
      );
      // One after the other: the first creates the shared keys and certificate.
      const process = startCli(['start', '--config', config], { cwd: root });
      await process.waitFor(/Stop with Ctrl-C/);
      replicas.push({ name, process, config, gateway: `https://127.0.0.1:${listen}`, admin: `http://127.0.0.1:${adminPort}` });
    }
  });
  after(async () => {
    for (const r of replicas) await r.process.stop('SIGKILL').catch(() => undefined);
    await Promise.all([pg?.stop(), fake?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('kubectl works through both; an approval on B releases the request held on A; A killed mid-traffic loses no answered request', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const ca = readFileSync(join(root, 'data', 'tls', 'ca.crt'), 'utf8');
    const mint = async (subject: string, groups: string[]) => {
      const res = await runCli(['token', 'mint', '--config', b.config, '--subject', subject, ...groups.flatMap((g) => ['--group', g]), '--ttl', '1h']);
      assert.equal(res.code, 0, res.stderr);
      return res.stdout.trim();
    };
    const agent = await mint('agent:ha', ['ci']);
    const approver = await mint('human:sam', ['airlock:approvers']);

    // kubectl through each replica.
    for (const r of [a, b]) {
      const kubeconfig = join(root, `kubeconfig-${r.name}`);
      writeFileSync(kubeconfig, stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
        clusters: [{ name: 'x', cluster: { server: `${r.gateway}/k8s/sandbox`, 'certificate-authority': join(root, 'data', 'tls', 'ca.crt') } }],
        users: [{ name: 'x', user: { token: agent } }],
        contexts: [{ name: 'x', context: { cluster: 'x', user: 'x', namespace: 'default' } }],
      }));
      const kubectl = kubectlClient(33, { home: mkdtempSync(join(root, `home-${r.name}-`)), kubeconfig })!;
      const res = await kubectl.run(['get', 'pods']);
      assert.equal(res.code, 0, `${r.name}: ${res.stderr}`);
    }

    // Held on A, approved on B.
    const priv = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'priv-ha' }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } });
    const held = call(a, ca, agent, 'POST', '/api/v1/namespaces/default/pods', priv);
    // B learns of the request through the store's notification; the test, in another process,
    // has no hook into B's book, so it asks B's API (every 25 ms, for at most 5 s) until B lists it.
    let id: string | undefined;
    for (let attempt = 0; attempt < 200 && !id; attempt++) {
      const res = await fetch(`${b.admin}/api/approvals?state=pending`, { headers: { authorization: `Bearer ${approver}` } });
      id = ((await res.json()) as { items: Array<{ id: string }> }).items[0]?.id;
      if (!id) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(id, 'replica B sees the request held on A');
    const approve = await fetch(`${b.admin}/api/approvals/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(approve.status, 200, await approve.text());
    const released = await held;
    assert.equal(released.status, 201, released.body);

    // Traffic through both; A is killed in the middle of it.
    const answered: string[] = [released.auditId];
    let failedOnA = 0;
    let warmedUp!: () => void;
    const enoughAnswered = new Promise<void>((resolve) => (warmedUp = resolve));
    const worker = async (r: Replica, n: number) => {
      for (let i = 0; i < n; i++) {
        try {
          const res = await call(r, ca, agent, i % 3 === 0 ? 'POST' : 'GET', i % 3 === 0 ? '/api/v1/namespaces/default/configmaps' : '/api/v1/namespaces/default/pods', i % 3 === 0 ? JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${r.name}-${i}-${Math.random().toString(36).slice(2, 8)}` }, data: { k: 'v' } }) : undefined);
          if (res.status > 0 && res.auditId) answered.push(res.auditId);
          if (answered.length >= 40) warmedUp();
        } catch {
          if (r === a) failedOnA++;
        }
      }
    };
    const traffic = Promise.all([worker(a, 150), worker(a, 150), worker(b, 150), worker(b, 150)]);
    // Kill A once it has answered some of this traffic.
    await enoughAnswered;
    a.process.child.kill('SIGKILL');
    await traffic;
    assert.ok(failedOnA > 0, 'some requests to A failed after the kill');
    await b.process.stop('SIGTERM');

    const verify = await runCli(['audit', 'verify', '--config', b.config, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout) as { ok: boolean; chains: Array<{ chain: string }> };
    assert.equal(report.ok, true);
    assert.deepEqual(report.chains.map((c) => c.chain).sort(), ['replica-a', 'replica-b']);

    const reader = await openLedgerReader({ dataDir: join(root, 'data'), store: { kind: 'postgres', url: ledgerUrl } });
    const ids = new Set<string>();
    try {
      for await (const e of reader.entries({ types: ['request'] })) ids.add(e.id);
    } finally {
      await reader.close();
    }
    const missing = answered.filter((auditId) => !ids.has(auditId));
    assert.deepEqual(missing, [], 'every answered request has its ledger entry');
  });
});
