/**
 * Fail closed: when the ledger cannot record, airlock refuses traffic with a clear error,
 * nothing reaches the cluster, /readyz says why — and once the ledger can write again,
 * traffic resumes by itself and the outage is itself recorded. A stream whose recording fails
 * midway is ended with the reason rather than left running unrecorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startGatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

test('a locked ledger refuses writes, and then reads, with 503 and a plain message before the cluster is asked; /readyz reports it; both recover when it can write again', async (t) => {
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
    // The ledger is now known not to write: a read is refused too, before the cluster is asked
    // (its answer could not be released, and the cluster's audit log would show an unrecorded read).
    const read = await h.request(`/k8s/${h.connection}/api/v1/namespaces/default/configmaps`, { token });
    assert.equal(read.status, 503, read.body);
    assert.match(JSON.parse(read.body).message, /cannot record this request, so it was not forwarded/);
    assert.ok(read.headers['retry-after'], 'the client is told when to retry');
    assert.deepEqual(h.fake.received.map((r) => r.method), [], 'nothing reached the cluster');
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

test('an exec whose recording the ledger refuses mid-session is ended with the reason (fail closed), over WebSocket and SPDY', { skip: missingKubectl(33) }, async (t) => {
  const h = await startGatewayHarness({ ledger: { sqlite: { busyTimeout: '200ms' } } });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-unrecorded-'));
  t.after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:operator', groups: ['ci'] });
  const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
  for (const transport of ['websocket', 'spdy'] as const) {
    const env: Record<string, string> = transport === 'spdy' ? { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : {};
    const cat = kubectl.start(['exec', '-i', 'web-7d4b9c6f5-k2x8p', '--', 'cat'], { stdin: true, env });
    const blocker = new Database(h.ledgerFile);
    try {
      cat.child.stdin!.write(`recorded-${transport}\n`);
      await cat.waitFor(new RegExp(`recorded-${transport}`));
      // Another process takes SQLite's write lock: the session's next batch cannot be recorded.
      blocker.exec('BEGIN IMMEDIATE');
      cat.child.stdin!.write(`not-recorded-${transport}\n`);
      // The session ends within a batch interval and a busy timeout; a deadline turns "it never
      // ends" (the session going on unrecorded) into a failure instead of a hang.
      const code = await new Promise<number | null | 'still running'>((resolve) => {
        const deadline = setTimeout(() => resolve('still running'), 20_000);
        cat.child.once('close', (c) => {
          clearTimeout(deadline);
          resolve(c);
        });
      });
      assert.notEqual(code, 'still running', `the ${transport} session went on while the ledger could not record it`);
      assert.notEqual(code, 0, `kubectl (${transport}) must not end as if all went well`);
      if (transport === 'websocket') assert.match(cat.output(), /could not record it \(the ledger cannot write\)/);
    } finally {
      if (blocker.inTransaction) blocker.exec('ROLLBACK');
      blocker.close();
      await cat.stop();
    }
  }
  // Once the ledger can write again, so can sessions.
  const again = await kubectl.run(['exec', 'web-7d4b9c6f5-k2x8p', '--', 'echo', 'back']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'back\n');
  assert.equal((await h.verify()).ok, true);
});
