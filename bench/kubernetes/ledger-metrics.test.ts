/**
 * The benchmark's reading of airlock's ledger metrics, on the exposition of airlock's own
 * registry (src/server/metrics.ts): the mean wait and the share of slow appends between two scrapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/server/metrics.js';
import { describeLedger, parseLedgerMetrics } from './ledger-metrics.js';

test('the appends between two scrapes are summed up: per request, mean wait, and the share over 1 ms and 2.5 ms', async () => {
  const metrics = createMetrics({ processMetrics: false });
  metrics.ledgerAppendSeconds.observe(0.2); // before the first scrape: not counted
  const before = parseLedgerMetrics(await metrics.registry.metrics());
  for (const seconds of [0.0004, 0.0008, 0.0009, 0.0012, 0.0015, 0.003, 0.0004, 0.0006]) metrics.ledgerAppendSeconds.observe(seconds);
  const after = parseLedgerMetrics(await metrics.registry.metrics());
  assert.ok(before && after);
  assert.equal(after.appends - before.appends, 8);
  assert.equal(
    describeLedger(before, after, 4),
    'airlock ledger: 2.00 durable appends per request, mean wait 1.10 ms each (2.20 ms per request); 37.5% over 1 ms, 12.5% over 2.5 ms',
  );
});

test('no appends, no requests or no histogram: nothing to say', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const scrape = parseLedgerMetrics(await metrics.registry.metrics());
  assert.equal(describeLedger(scrape, scrape, 10), undefined);
  assert.equal(describeLedger(scrape, scrape, 0), undefined);
  assert.equal(parseLedgerMetrics('# no ledger here\n'), undefined);
});
