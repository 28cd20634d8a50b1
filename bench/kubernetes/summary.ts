/**
 * The end of a run: one table with every scenario on every route and the ratios of airlock
 * to the direct route and to kubectl proxy, then the targets, each met or missed.
 */
import type { Mix } from './objects.js';
import { verdict, type DownloadRow, type LoopRow } from './report.js';

const MB = 1024 * 1024;
const TARGET_RATIO_TO_PROXY = 1.0;
const TARGET_ADDED_P99_MS = 2;
const TARGET_MASKED_MB_PER_SECOND = 100;
const TARGET_RSS_GROWTH_MB = 50;

/** Results by scenario title; `latency` names the loop whose added p99 is the latency target. */
export interface RunResults {
  loops: Map<string, LoopRow[]>;
  latency?: string;
  downloads: Map<Mix, DownloadRow[]>;
  largeMb: number;
}

interface Line {
  label: string;
  /** Value per route name. */
  values: Map<string, number>;
  format(v: number): string;
  /** How airlock compares with a baseline value: a ratio (throughput) or a difference (latency). */
  compare(airlock: number, base: number): string;
}

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
const added = (a: number, b: number): string => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(2)} ms`;

function lines(r: RunResults): Line[] {
  const out: Line[] = [];
  for (const [title, rows] of r.loops) {
    const perSecond = new Map(rows.map((row) => [row.route, row.result.perSecond]));
    out.push({ label: `${title}: req/s`, values: perSecond, format: (v) => Math.round(v).toLocaleString('en-US'), compare: ratio });
    if (title === r.latency) {
      const p99 = new Map(rows.map((row) => [row.route, row.result.p99ms]));
      out.push({ label: `${title}: p99 ms`, values: p99, format: (v) => v.toFixed(2), compare: added });
    }
  }
  for (const [mix, rows] of r.downloads) {
    const rate = new Map(rows.map((row) => [row.route, row.inputBytes / MB / row.result.seconds]));
    out.push({ label: `LIST ${r.largeMb} MB Secrets, ${mix} mix: MB/s`, values: rate, format: (v) => v.toFixed(0), compare: ratio });
  }
  return out;
}

/** printOverview prints the one-table summary of the run. */
export function printOverview(r: RunResults, routes: string[]): void {
  const rows = lines(r);
  if (rows.length === 0) return;
  const bases = routes.filter((name) => name === 'direct' || name === 'kubectl proxy');
  const width = Math.max(...rows.map((l) => l.label.length));
  const head = [...routes.map((name) => name.padStart(13)), ...bases.map((b) => `airlock/${b}`.padStart(21))].join(' ');
  console.log('summary');
  console.log(`  ${''.padEnd(width)} ${head}`);
  for (const l of rows) {
    const cells = routes.map((name) => {
      const v = l.values.get(name);
      return (v === undefined ? 'n/a' : l.format(v)).padStart(13);
    });
    const a = l.values.get('airlock');
    const compared = bases.map((b) => {
      const v = l.values.get(b);
      return (a === undefined || v === undefined ? 'n/a' : l.compare(a, v)).padStart(21);
    });
    console.log(`  ${l.label.padEnd(width)} ${[...cells, ...compared].join(' ')}`);
  }
  console.log('');
}

/** printTargets prints each target of the issue with `meets` or `MISSES`. */
export function printTargets(r: RunResults): void {
  console.log('targets');
  const pick = (rows: LoopRow[] | undefined, route: string) => rows?.find((row) => row.route === route)?.result;
  for (const [title, rows] of r.loops) {
    const a = pick(rows, 'airlock');
    const p = pick(rows, 'kubectl proxy');
    const x = a && p ? a.perSecond / p.perSecond : undefined;
    console.log(verdict(`${title}: airlock >= ${TARGET_RATIO_TO_PROXY.toFixed(1)}x kubectl proxy req/s`, x === undefined ? undefined : x >= TARGET_RATIO_TO_PROXY, x === undefined ? 'no kubectl proxy route' : `${x.toFixed(2)}x`));
  }
  const latency = r.latency ? r.loops.get(r.latency) : undefined;
  const a1 = pick(latency, 'airlock');
  const d1 = pick(latency, 'direct');
  if (a1 && d1) {
    const more = a1.p99ms - d1.p99ms;
    console.log(verdict(`${r.latency}: airlock adds <= ${TARGET_ADDED_P99_MS} ms p99 over direct`, more <= TARGET_ADDED_P99_MS, added(a1.p99ms, d1.p99ms)));
  }
  for (const [mix, rows] of r.downloads) {
    const a = rows.find((row) => row.route === 'airlock');
    if (!a) continue;
    const rate = a.inputBytes / MB / a.result.seconds;
    const growth = a.rssPeakBytes !== undefined && a.rssBeforeBytes !== undefined ? (a.rssPeakBytes - a.rssBeforeBytes) / MB : undefined;
    const label = `large list, ${mix} mix`;
    console.log(verdict(`${label}: masked >= ${TARGET_MASKED_MB_PER_SECOND} MB/s through airlock`, rate >= TARGET_MASKED_MB_PER_SECOND, `${rate.toFixed(0)} MB/s`));
    console.log(verdict(`${label}: airlock RSS growth <= ${TARGET_RSS_GROWTH_MB} MB`, growth === undefined ? undefined : growth <= TARGET_RSS_GROWTH_MB, growth === undefined ? 'no /proc' : `${growth.toFixed(1)} MB`));
    console.log(verdict(`${label}: no clear Secret value left airlock`, a.result.leakedChunks === 0, `${a.result.leakedChunks} leaked chunks`));
  }
}
