/**
 * Printing the streams benchmark: one line per timed run, then a summary with the ratios and
 * the targets (≥ 0.5× direct throughput, < 2 ms added per keystroke).
 */
import type { Download } from './channel-client.js';

const MB = 1024 * 1024;

/** One throughput run on one route, with what the airlock process spent on it. */
export interface DownloadRow extends Download {
  route: string;
  mbPerSecond: number;
  /** CPU seconds of the airlock process during the run (all threads / event loop) */
  gatewayCpuS?: number;
  gatewayMainCpuS?: number;
  /** airlock's peak RSS during the run minus its RSS just before, in bytes */
  rssGrowth?: number;
}

export interface LatencyRow {
  route: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** airlock's CPU per keystroke (all threads), milliseconds */
  gatewayCpuMsPerKey?: number;
}

const pad = (s: string, n: number) => s.padStart(n);
/** signed prints a difference with its sign, `+0.31` or `-2.06` */
const signed = (n: number, digits: number) => `${n >= 0 ? '+' : '-'}${fmt(Math.abs(n), digits)}`;
const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function latencyRow(route: string, samples: number[], gatewayCpuMsPerKey?: number): LatencyRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return { route, count: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN, mean, ...(gatewayCpuMsPerKey === undefined ? {} : { gatewayCpuMsPerKey }) };
}

export function downloadHeader(): string {
  return `  ${'route'.padEnd(8)}${pad('MB', 8)}${pad('MB/s', 9)}${pad('1st byte ms', 13)}${pad('stream ms', 11)}${pad('total ms', 10)}${pad('frames', 8)}${pad('masked', 8)}${pad('gw cpu s', 10)}${pad('(loop)', 8)}${pad('gw RSS +MB', 12)}  exit`;
}

export function downloadLine(r: DownloadRow): string {
  const exit = /"reason":"([^"]+)"/.exec(r.status)?.[1] ?? (/"status":"Success"/.test(r.status) ? 'Success' : r.status.slice(0, 40) || 'none');
  return `  ${r.route.padEnd(8)}${pad(fmt(r.stdoutBytes / MB, 1), 8)}${pad(fmt(r.mbPerSecond, 1), 9)}${pad(fmt(r.firstByteMs, 1), 13)}${pad(fmt(r.streamMs, 0), 11)}${pad(fmt(r.totalMs, 0), 10)}${pad(String(r.messages), 8)}${pad(String(r.maskedMessages), 8)}${pad(fmt(r.gatewayCpuS), 10)}${pad(fmt(r.gatewayMainCpuS), 8)}${pad(r.rssGrowth === undefined ? 'n/a' : fmt(r.rssGrowth / MB, 1), 12)}  ${exit}`;
}

export function latencyHeader(): string {
  return `  ${'route'.padEnd(8)}${pad('keys', 6)}${pad('p50 ms', 9)}${pad('p90 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('mean ms', 9)}${pad('gw cpu ms/key', 15)}`;
}

export function latencyLine(r: LatencyRow): string {
  return `  ${r.route.padEnd(8)}${pad(String(r.count), 6)}${pad(fmt(r.p50, 3), 9)}${pad(fmt(r.p90, 3), 9)}${pad(fmt(r.p99, 3), 9)}${pad(fmt(r.max, 3), 9)}${pad(fmt(r.mean, 3), 9)}${pad(fmt(r.gatewayCpuMsPerKey, 3), 15)}`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export interface Results {
  downloads: DownloadRow[];
  latency: LatencyRow[];
  mb: number;
}

/** printSummary prints the headline figures, the ratios and the target checks. */
export function printSummary(r: Results): void {
  console.log('\nsummary');
  const checks: string[] = [];
  if (r.downloads.length) {
    const rate = (route: string) => median(r.downloads.filter((d) => d.route === route).map((d) => d.mbPerSecond));
    const direct = rate('direct');
    const airlock = rate('airlock');
    const ratio = airlock / direct;
    const cpu = median(r.downloads.filter((d) => d.route === 'airlock' && d.gatewayCpuS !== undefined).map((d) => d.gatewayCpuS ?? 0));
    console.log(`  exec stdout, ${r.mb} MB (median of runs): direct ${fmt(direct, 1)} MB/s, airlock ${fmt(airlock, 1)} MB/s, ratio ${fmt(ratio)}x; airlock CPU ${fmt(cpu)} s = ${fmt(r.mb / cpu, 0)} MB per CPU-second`);
    checks.push(`  [${ratio >= 0.5 ? 'met' : 'MISSED'}] exec stdout throughput >= 0.5x direct: ${fmt(ratio)}x`);
    const leaked = r.downloads.filter((d) => d.maskedMessages > 0 || d.stdoutBytes !== r.mb * MB);
    if (leaked.length) checks.push(`  [note] ${leaked.length} run(s) delivered a different byte count or masked something (the output holds no secret)`);
  }
  const direct = r.latency.find((l) => l.route === 'direct');
  const airlock = r.latency.find((l) => l.route === 'airlock');
  if (direct && airlock) {
    const added50 = airlock.p50 - direct.p50;
    const added99 = airlock.p99 - direct.p99;
    console.log(`  keystroke round-trip: direct p50 ${fmt(direct.p50, 3)} / p99 ${fmt(direct.p99, 3)} ms, airlock p50 ${fmt(airlock.p50, 3)} / p99 ${fmt(airlock.p99, 3)} ms; added p50 ${signed(added50, 3)} ms, p99 ${signed(added99, 3)} ms`);
    checks.push(`  [${added50 < 2 ? 'met' : 'MISSED'}] < 2 ms added per keystroke, p50: ${signed(added50, 3)} ms`);
    checks.push(`  [${added99 < 2 ? 'met' : 'MISSED'}] < 2 ms added per keystroke, p99: ${signed(added99, 3)} ms`);
  }
  console.log('\ntargets');
  for (const c of checks) console.log(c);
}
