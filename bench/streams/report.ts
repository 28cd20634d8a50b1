/**
 * Printing the streams benchmark: one line per timed run, then a summary with the ratios (every
 * route against direct, airlock against kubectl proxy and the node floor) and the issue's
 * targets (≥ 0.5× direct throughput, < 2 ms added per keystroke).
 */
import type { Download } from './channel-client.js';

const MB = 1024 * 1024;

/** One throughput run on one route, with what the airlock process spent on it. */
export interface DownloadRow extends Download {
  route: string;
  mbPerSecond: number;
  /** CPU seconds of the gateway process during the run (all threads / event loop of a Node.js gateway) */
  gatewayCpuS?: number;
  gatewayMainCpuS?: number;
  /** the gateway's peak RSS during the run minus its RSS just before, in bytes */
  rssGrowth?: number;
  /** airlock only: times the relay stopped reading because the recording was behind the disk (`airlock_stream_recording_holds_total`) */
  recordingHolds?: number;
}

export interface LatencyRow {
  route: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** the gateway's CPU per keystroke (all threads), milliseconds */
  gatewayCpuMsPerKey?: number;
}

const pad = (s: string, n: number) => s.padStart(n);
/** ROUTE is the width of the route column: `kubectl proxy` and a space. */
const ROUTE = 14;
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
  return `  ${'route'.padEnd(ROUTE)}${pad('MB', 8)}${pad('MB/s', 9)}${pad('1st byte ms', 13)}${pad('stream ms', 11)}${pad('total ms', 10)}${pad('frames', 8)}${pad('masked', 8)}${pad('gw cpu s', 10)}${pad('(loop)', 8)}${pad('gw RSS +MB', 12)}${pad('holds', 7)}  exit`;
}

export function downloadLine(r: DownloadRow): string {
  const exit = /"reason":"([^"]+)"/.exec(r.status)?.[1] ?? (/"status":"Success"/.test(r.status) ? 'Success' : r.status.slice(0, 40) || 'none');
  return `  ${r.route.padEnd(ROUTE)}${pad(fmt(r.stdoutBytes / MB, 1), 8)}${pad(fmt(r.mbPerSecond, 1), 9)}${pad(fmt(r.firstByteMs, 1), 13)}${pad(fmt(r.streamMs, 0), 11)}${pad(fmt(r.totalMs, 0), 10)}${pad(String(r.messages), 8)}${pad(String(r.maskedMessages), 8)}${pad(fmt(r.gatewayCpuS), 10)}${pad(fmt(r.gatewayMainCpuS), 8)}${pad(r.rssGrowth === undefined ? 'n/a' : fmt(r.rssGrowth / MB, 1), 12)}${pad(r.recordingHolds === undefined ? 'n/a' : String(r.recordingHolds), 7)}  ${exit}`;
}

export function latencyHeader(): string {
  return `  ${'route'.padEnd(ROUTE)}${pad('keys', 6)}${pad('p50 ms', 9)}${pad('p90 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('mean ms', 9)}${pad('gw cpu ms/key', 15)}`;
}

export function latencyLine(r: LatencyRow): string {
  return `  ${r.route.padEnd(ROUTE)}${pad(String(r.count), 6)}${pad(fmt(r.p50, 3), 9)}${pad(fmt(r.p90, 3), 9)}${pad(fmt(r.p99, 3), 9)}${pad(fmt(r.max, 3), 9)}${pad(fmt(r.mean, 3), 9)}${pad(fmt(r.gatewayCpuMsPerKey, 3), 15)}`;
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
    const routes = [...new Set(r.downloads.map((d) => d.route))];
    const rate = (route: string) => median(r.downloads.filter((d) => d.route === route).map((d) => d.mbPerSecond));
    const cpu = (route: string) => median(r.downloads.filter((d) => d.route === route && d.gatewayCpuS !== undefined).map((d) => d.gatewayCpuS ?? 0));
    const direct = rate('direct');
    console.log(`  exec stdout, ${r.mb} MB (median of runs):`);
    for (const route of routes) {
      const perCpu = route === 'direct' ? '' : `; gateway CPU ${fmt(cpu(route))} s = ${fmt(r.mb / cpu(route), 0)} MB per CPU-second`;
      console.log(`    ${route.padEnd(ROUTE)}${pad(fmt(rate(route), 1), 8)} MB/s  ${fmt(rate(route) / direct)}x direct${perCpu}`);
    }
    const airlock = rate('airlock');
    for (const peer of ['kubectl proxy', 'node floor'].filter((p) => routes.includes(p))) {
      console.log(`    airlock / ${peer}: ${fmt(airlock / rate(peer))}x MB/s, ${fmt(cpu('airlock') / cpu(peer), 1)}x the CPU per byte`);
    }
    const ratio = airlock / direct;
    checks.push(`  [${ratio >= 0.5 ? 'met' : 'MISSED'}] exec stdout throughput >= 0.5x direct: ${fmt(ratio)}x`);
    const leaked = r.downloads.filter((d) => d.maskedMessages > 0 || d.stdoutBytes !== r.mb * MB);
    if (leaked.length) checks.push(`  [note] ${leaked.length} run(s) delivered a different byte count or masked something (the output holds no secret)`);
  }
  const direct = r.latency.find((l) => l.route === 'direct');
  if (direct) {
    console.log(`  keystroke round-trip, added to direct (p50 ${fmt(direct.p50, 3)} ms, p99 ${fmt(direct.p99, 3)} ms):`);
    for (const l of r.latency.filter((x) => x !== direct)) {
      console.log(`    ${l.route.padEnd(ROUTE)}p50 ${signed(l.p50 - direct.p50, 3)} ms, p99 ${signed(l.p99 - direct.p99, 3)} ms`);
    }
  }
  const airlock = r.latency.find((l) => l.route === 'airlock');
  if (direct && airlock) {
    const added50 = airlock.p50 - direct.p50;
    const added99 = airlock.p99 - direct.p99;
    checks.push(`  [${added50 < 2 ? 'met' : 'MISSED'}] < 2 ms added per keystroke, p50: ${signed(added50, 3)} ms`);
    checks.push(`  [${added99 < 2 ? 'met' : 'MISSED'}] < 2 ms added per keystroke, p99: ${signed(added99, 3)} ms`);
  }
  console.log('\ntargets');
  for (const c of checks) console.log(c);
}
