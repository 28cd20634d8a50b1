/**
 * The /proc readers the benchmark reports gateway memory and CPU with, checked on this
 * process itself (skipped where there is no /proc).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cpuSeconds, mainThreadCpuSeconds, peakRssBytes, rssBytes, sampleRss } from './proc.js';

const linux = existsSync(`/proc/${process.pid}/status`);

test('RSS and peak RSS of a live process are read in bytes, the peak never below the current RSS', { skip: !linux && 'no /proc' }, () => {
  const rss = rssBytes(process.pid);
  const peak = peakRssBytes(process.pid);
  assert.ok(rss !== undefined && rss > 10 * 1024 * 1024, `RSS ${rss}`);
  assert.ok(peak !== undefined && peak >= rss, `peak ${peak}`);
  assert.ok(Math.abs(rss - process.memoryUsage().rss) < 64 * 1024 * 1024, 'close to what node itself reports');
});

test('CPU time grows with work, and the event loop thread accounts for at most the whole process', { skip: !linux && 'no /proc' }, () => {
  const before = cpuSeconds(process.pid) ?? Number.NaN;
  const deadline = performance.now() + 120;
  let x = 0;
  while (performance.now() < deadline) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const total = cpuSeconds(process.pid) ?? Number.NaN;
  const main = mainThreadCpuSeconds(process.pid) ?? Number.NaN;
  assert.ok(total > before, `${before} -> ${total}`);
  assert.ok(main <= total, `main ${main} of ${total}`);
});

test('a process that is gone reads as unknown rather than throwing', () => {
  const gone = 2 ** 22 + 12345;
  assert.equal(rssBytes(gone), undefined);
  assert.equal(cpuSeconds(gone), undefined);
  assert.equal(sampleRss(gone).stop(), undefined);
});
