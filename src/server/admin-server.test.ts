import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminServer } from './admin-server.js';
import { createMetrics } from './metrics.js';
import { silentLogger } from '../log.js';

function ledgerHealth(writable: boolean) {
  return { health: () => ({ writable, lastSeq: 41, lastCheckpointAt: new Date(Date.now() - 5000).toISOString() }) };
}

test('readyz answers 503 naming the failing check while the ledger cannot write, 200 once it can', async () => {
  let writable = false;
  const metrics = createMetrics({ processMetrics: false });
  const app = buildAdminServer({
    metrics,
    logger: silentLogger,
    readiness: [{ name: 'ledger', check: () => (writable ? { ok: true } : { ok: false, detail: 'disk full' }) }],
  });
  const down = await app.inject('/readyz');
  assert.equal(down.statusCode, 503);
  assert.deepEqual(down.json(), { ready: false, checks: [{ name: 'ledger', ok: false, detail: 'disk full' }] });
  writable = true;
  const up = await app.inject('/readyz');
  assert.equal(up.statusCode, 200);
  assert.equal(up.json().ready, true);
  assert.equal((await app.inject('/healthz')).statusCode, 200);
});

test('metrics expose request counts by decision, ledger latency and checkpoint age', async () => {
  const metrics = createMetrics({ processMetrics: false });
  metrics.watchLedger(ledgerHealth(true));
  metrics.requests.inc({ protocol: 'kubernetes', decision: 'deny' });
  metrics.ledgerAppendSeconds.observe(0.002);
  const app = buildAdminServer({ metrics, logger: silentLogger, readiness: [] });
  const res = await app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/plain/);
  assert.match(res.body, /airlock_requests_total\{protocol="kubernetes",decision="deny"\} 1/);
  assert.match(res.body, /airlock_ledger_append_seconds_count 1/);
  assert.match(res.body, /airlock_ledger_last_sequence 41/);
  const age = Number(/^airlock_ledger_checkpoint_age_seconds (\S+)$/m.exec(res.body)?.[1]);
  assert.ok(age >= 5 && age < 60, `checkpoint age ${age}`);
});

test('unknown admin routes get a JSON 404 with a hint', async () => {
  const app = buildAdminServer({ metrics: createMetrics({ processMetrics: false }), logger: silentLogger, readiness: [] });
  const res = await app.inject('/nope');
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error, 'not found');
});
