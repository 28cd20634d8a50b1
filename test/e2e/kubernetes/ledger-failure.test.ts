/**
 * Fail closed: when the ledger cannot record, airlock refuses traffic with a clear error,
 * nothing reaches the cluster, /readyz says why — and once the ledger can write again,
 * traffic resumes by itself and the outage is itself recorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startGatewayHarness } from '../../support/gateway-harness.js';

test('a locked ledger refuses writes with 503 and a plain message, /readyz reports it, and both recover when it can write again', async (t) => {
  const h = await startGatewayHarness({ ledger: { sqlite: { busyTimeout: '200ms' } } });
  t.after(() => h.close());
  const token = await h.mintToken('agent:writer', ['ci']);
  const configMap = (name: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: 'v' } });
  const create = (name: string) =>
    h.request(`/k8s/${h.connection}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: configMap(name),
    });

  // Another process holds SQLite's write lock: every commit waits busyTimeout, then fails.
  const blocker = new Database(h.ledgerFile);
  blocker.exec('BEGIN IMMEDIATE');
  try {
    h.fake.clearReceived();
    const refused = await create('while-locked');
    assert.equal(refused.status, 503);
    const status = JSON.parse(refused.body);
    assert.equal(status.kind, 'Status');
    assert.match(status.message, /cannot record this request, so it was not forwarded/);
    assert.ok(refused.headers['retry-after'], 'the client is told when to retry');
    assert.ok(!h.fake.received.some((r) => r.method === 'POST'), 'nothing reached the cluster');
    const ready = await fetch(`${h.runtime.adminUrl}/readyz`);
    assert.equal(ready.status, 503);
    const checks = ((await ready.json()) as { checks: { name: string; ok: boolean }[] }).checks;
    assert.deepEqual(checks.map((c) => [c.name, c.ok]), [['ledger', false]]);
  } finally {
    blocker.exec('ROLLBACK');
    blocker.close();
  }

  const accepted = await create('after-recovery');
  assert.equal(accepted.status, 201, accepted.body);
  assert.equal((await fetch(`${h.runtime.adminUrl}/readyz`)).status, 200);
  const entries = await h.entries();
  assert.ok(entries.some((e) => e.type === 'request' && e.action?.verb === 'create' && e.data?.outcome === 'forwarded'));
  assert.ok(!entries.some((e) => e.type === 'request' && JSON.stringify(e.request ?? {}).includes('while-locked')), 'the refused request could not be recorded, and was not forwarded');
  assert.equal((await h.verify()).ok, true);
});
