/**
 * Two airlock replicas on one real PostgreSQL ledger (started by the test with initdb) in front
 * of the fake API server, sharing a data directory (keys) as replicas share a secret volume:
 * traffic through both, an approval given on replica B releases a request held on replica A,
 * a grant used on one is spent on the other, and both chains verify afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../../src/config/index.js';
import { readerOptionsFromConfig } from '../../../src/gateway/ledger-options.js';
import { startAirlock, type AirlockRuntime } from '../../../src/gateway/runtime.js';
import { exportLedgerPublicKey, openLedgerReader, verifyLedger, type LedgerEntry } from '../../../src/ledger/index.js';
import { silentLogger } from '../../../src/log.js';
import type { ApprovalRequest } from '../../../src/review/types.js';
import { startFakeApiServer, type FakeApiServer } from '../../fixtures/fake-apiserver/index.js';
import { startPostgres, type PostgresServer } from '../../support/postgres.js';
import { reviewPolicy } from '../../support/review-policy.js';

const POLICY = reviewPolicy();

function pod(name: string, privileged: boolean): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged } }] } });
}

interface Replica {
  runtime: AirlockRuntime;
  url: string;
  ca: string;
}

function post(r: Replica, path: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${r.url}/k8s/sandbox${path}`, { method: 'POST', ca: r.ca, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('two replicas on one PostgreSQL ledger', () => {
  let pg: PostgresServer;
  let fake: FakeApiServer;
  let root: string;
  let a: Replica;
  let b: Replica;
  let ledgerUrl: string;

  before(async () => {
    [pg, fake] = await Promise.all([startPostgres(), startFakeApiServer()]);
    ledgerUrl = await pg.createDatabase('airlock_replicas');
    root = mkdtempSync(join(tmpdir(), 'airlock-replicas-'));
    const upstreamCa = join(root, 'upstream-ca.crt');
    writeFileSync(upstreamCa, fake.caCert ?? '');
    writeFileSync(join(root, 'policy.yaml'), POLICY);
    const start = async (chain: string): Promise<Replica> => {
      const config = configSchema.parse({
        data: join(root, 'data'),
        listen: '127.0.0.1:0',
        admin: { listen: '127.0.0.1:0' },
        log: { level: 'silent' },
        policy: join(root, 'policy.yaml'),
        ledger: { store: 'postgres', postgres: { url: ledgerUrl }, chain },
        review: { holdTimeout: '20s' },
        connections: [{ name: 'sandbox', type: 'kubernetes', upstream: { url: fake.url, token: fake.token, ca: upstreamCa } }],
      });
      const runtime = await startAirlock(config, { logger: silentLogger });
      return { runtime, url: runtime.kubernetes!.url, ca: readFileSync(runtime.kubernetes!.caFile!, 'utf8') };
    };
    // One after the other: the first creates the shared keys the second reads.
    a = await start('replica-a');
    b = await start('replica-b');
  });
  after(async () => {
    await a?.runtime.close();
    await b?.runtime.close();
    await Promise.all([pg?.stop(), fake?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('traffic goes through both, each on its own chain', async () => {
    const token = await a.runtime.issuer!.mint({ subject: 'agent:both', groups: ['ci'], ttlSeconds: 600 });
    assert.equal((await post(a, '/api/v1/namespaces/default/pods', token, pod('via-a', false))).status, 201);
    assert.equal((await post(b, '/api/v1/namespaces/default/pods', token, pod('via-b', false))).status, 201, 'a token from one replica works on the other');
    assert.equal(a.runtime.ledger.chain, 'replica-a');
    assert.equal(b.runtime.ledger.chain, 'replica-b');
  });

  it('an approval given on replica B releases the request held on replica A; the grant is then spent on both', async () => {
    const agent = await a.runtime.issuer!.mint({ subject: 'agent:held', groups: ['ci'], ttlSeconds: 600 });
    const approver = await b.runtime.issuer!.mint({ subject: 'human:sam', groups: ['airlock:approvers'], ttlSeconds: 600 });
    const requested = new Promise<LedgerEntry>((resolve) => {
      const stop = a.runtime.ledger.onEntry((e) => {
        if (e.type === 'approval.requested') {
          stop();
          resolve(e);
        }
      });
    });
    const held = post(a, '/api/v1/namespaces/default/pods', agent, pod('held-on-a', true));
    const approval = (await requested).data!.approval as ApprovalRequest;

    // Replica B learns of the request from the shared ledger, and takes the approval.
    await seen(b, approval.id, (x) => x !== undefined, 'replica B to see the request');
    const res = await fetch(`${b.runtime.adminUrl}/api/approvals/${approval.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'approved on B' }),
    });
    assert.equal(res.status, 200, await res.text());
    const answered = await held;
    assert.equal(answered.status, 201, answered.body);

    // The grant was used on A: replica B knows it is spent, and a replay through B is held anew.
    await seen(b, approval.id, (x) => x?.state === 'used', 'replica B to see the grant used');
    const again = await post(b, '/api/v1/namespaces/default/pods', agent, pod('held-on-a', true));
    assert.notEqual(again.status, 201);
  });

  it('both chains verify, and the approval steps are on the chains of the replicas that took them', async () => {
    const config = configSchema.parse({ data: join(root, 'data'), ledger: { store: 'postgres', postgres: { url: ledgerUrl } } });
    const reader = await openLedgerReader(readerOptionsFromConfig(config));
    try {
      const report = await verifyLedger(reader, { publicKey: exportLedgerPublicKey(join(root, 'data')) });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(report.chains.map((c) => c.chain).sort(), ['replica-a', 'replica-b']);
      const steps: Array<[string, string]> = [];
      for await (const e of reader.entries({ types: ['approval.requested', 'approval.approved', 'approval.used'] })) steps.push([e.type, e.chain]);
      // Requested on A, approved on B, used on A; the replay through B asked anew, on B.
      assert.deepEqual(steps.sort(), [['approval.approved', 'replica-b'], ['approval.requested', 'replica-a'], ['approval.requested', 'replica-b'], ['approval.used', 'replica-a']].sort());
    } finally {
      await reader.close();
    }
  });
});

/** seen resolves once replica `r`'s book shows the approval as `check` wants, woken by the entries it applies. */
function seen(r: Replica, id: string, check: (a: ApprovalRequest | undefined) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stop();
      clearTimeout(timer);
      resolve();
    };
    const stop = r.runtime.approvals.onApplied((a) => {
      if (a.id === id && check(a)) done();
    });
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, 10_000);
    if (check(r.runtime.approvals.get(id))) done();
  });
}
