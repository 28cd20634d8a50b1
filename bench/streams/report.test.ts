import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputText } from './output-text.js';
import { latencyRow, percentile } from './report.js';

describe('streams benchmark helpers', () => {
  for (const [p, expected] of [[50, 50], [90, 90], [99, 99], [100, 100]] as const) {
    it(`percentile ${p} of 1..100 is the nearest-rank value ${expected}`, () => {
      assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), p), expected);
    });
  }

  it('latencyRow sorts its samples and reports an empty run as NaN, not zero', () => {
    const row = latencyRow('x', [3, 1, 2]);
    assert.deepEqual([row.p50, row.max, row.mean], [2, 3, 2]);
    assert.ok(Number.isNaN(latencyRow('x', []).p50));
  });

  for (const bytes of [0, 1, 150, 64 * 1024 + 3]) {
    it(`outputText(${bytes}) is exactly ${bytes} bytes of the same printable text every time`, () => {
      const a = outputText(bytes);
      assert.equal(a.length, bytes);
      assert.ok(a.equals(outputText(bytes)));
      assert.ok(/^[\x20-\x7e\n]*$/.test(a.toString('latin1')));
    });
  }
});
