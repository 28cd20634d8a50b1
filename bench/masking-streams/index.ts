/**
 * Stream masking benchmark: MB/s of a realistic terminal/log stream (ls, ps, kubelet log lines,
 * ANSI colours, UTF-8) with a few planted secrets, cut into 4 KiB frames; the per-keystroke
 * added latency (a 1-byte chunk with no candidate pending); and, for comparison, the
 * secretlint deep scan and @redactpii/node on the same text.
 * Run: node --import tsx bench/masking-streams/index.ts
 */
import { performance } from 'node:perf_hooks';
import { Redactor } from '@redactpii/node';
import { selectDetectors } from '../../src/masking/detectors/registry.js';
import { secretlintScan } from '../../src/masking/detectors/secretlint-deep-scan.js';
import { createStreamMasker } from '../../src/masking/stream-masker.js';

const lines = [
  '\x1b[01;34mdrwxr-xr-x\x1b[0m  5 root root 4096 Jan 12 10:22 \x1b[01;34mconfig\x1b[0m',
  'root         1  0.0  0.1 167728 11896 ?        Ss   10:02   0:03 /sbin/init splash',
  'I0112 10:22:33.123456    1234 kubelet.go:1234] "SyncLoop ADD" source="api" pods=["default/api-7d9f8b6c5-x2x9q"]',
  '{"level":"info","ts":"2024-01-12T10:22:33Z","msg":"request done","status":200,"bytes":5123,"path":"/api/v1/pods"}',
  'ünïcödé ✓ 日本語 — build 3f786850e387550fdab836ed7e6dc881de23001b ok',
];
const planted = ['GITHUB_TOKEN=ghp_' + 'Z9y8X7w6V5'.repeat(3) + 'u4T3s2', 'password = Tr0ub4dor&3x', 'mail carol@example.org'];
function corpus(bytes: number): Buffer {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const l = i % 500 === 250 ? planted[(i / 500) % planted.length | 0] ?? '' : lines[i % lines.length] ?? '';
    out.push(l);
    size += Buffer.byteLength(l) + 2;
  }
  return Buffer.from(out.join('\r\n') + '\r\n');
}

const data = corpus(16 * 1024 * 1024);
const replacement = (kind: string): string => `[masked:${kind}]`;
for (const names of [['secretlint', 'jwt', 'private-key'], ['secretlint', 'jwt', 'private-key', 'pii']]) {
  const m = createStreamMasker({ detectors: selectDetectors(names), replacement });
  const t0 = performance.now();
  for (let i = 0; i < data.length; i += 4096) m.push(data.subarray(i, i + 4096));
  m.flush();
  const s = (performance.now() - t0) / 1000;
  console.log(`stream masker [${names.join(',')}]: ${(data.length / 1048576 / s).toFixed(1)} MiB/s (4 KiB frames)`);
}

{
  const m = createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt', 'private-key']), replacement });
  m.push(data.subarray(0, 4096));
  m.flush();
  const key = Buffer.from('k');
  const n = 20000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) m.push(key);
  console.log(`keystroke (1-byte chunk, no candidate): ${(((performance.now() - t0) * 1000) / n).toFixed(1)} µs`);
}

const sample = data.subarray(0, 2 * 1024 * 1024).toString('utf8');
{
  const t0 = performance.now();
  await secretlintScan(sample);
  console.log(`secretlint deep scan: ${(2 / ((performance.now() - t0) / 1000)).toFixed(1)} MiB/s`);
}
{
  const r = new Redactor();
  const t0 = performance.now();
  const out = r.redact(sample);
  const mibs = 2 / ((performance.now() - t0) / 1000);
  const before = sample.split('\n');
  const changed = out.split('\n').filter((l, i) => l !== before[i]).length;
  console.log(`@redactpii/node: ${mibs.toFixed(1)} MiB/s, lines altered: ${changed} of ${before.length}`);
}
