/**
 * Formatting the benchmark's table: one row per route and scenario, then the ratios of
 * airlock to the direct route and to kubectl proxy, and the targets met or missed.
 */
import type { DownloadResult, LoopResult } from './load.js';

const MB = 1024 * 1024;

/** A closed-loop scenario's result on one route, with the gateway's CPU time when known. */
export interface LoopRow {
  route: string;
  result: LoopResult;
  /** CPU milliseconds the gateway process spent per request (undefined for the direct route). */
  cpuMsPerRequest?: number;
  /** The gateway's RSS at the end of the scenario. */
  rssAfterBytes?: number;
  /** A line printed under the row (airlock's ledger figures). */
  note?: string;
}

/** A large-list download on one route, with the gateway's memory when known. */
export interface DownloadRow {
  route: string;
  result: DownloadResult;
  /** Bytes the upstream sent (the masked answer through airlock is shorter). */
  inputBytes: number;
  rssBeforeBytes?: number;
  rssPeakBytes?: number;
  cpuSeconds?: number;
}

const n = (v: number | undefined, digits: number, width: number): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits)).padStart(width);
const int = (v: number, width: number): string => Math.round(v).toLocaleString('en-US').padStart(width);
const mb = (bytes: number | undefined, width: number): string => n(bytes === undefined ? undefined : bytes / MB, 1, width);

export function loopHeader(): string {
  return `${'route'.padEnd(15)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'gw cpu ms/req'.padStart(14)} ${'gw RSS MB'.padStart(10)} ${'requests'.padStart(9)} ${'errors'.padStart(7)}`;
}

export function loopLine(row: LoopRow): string {
  const r = row.result;
  const line = `${row.route.padEnd(15)} ${int(r.perSecond, 9)} ${n(r.p50ms, 2, 8)} ${n(r.p99ms, 2, 8)} ${n(row.cpuMsPerRequest, 3, 14)} ${mb(row.rssAfterBytes, 10)} ${int(r.requests, 9)} ${int(r.errors, 7)}`;
  const withError = r.firstError ? `${line}   first error: ${r.firstError}` : line;
  return row.note ? `${withError}\n    ${row.note}` : withError;
}

/** loopRatios compares airlock with a baseline route: throughput ratio and added latency. */
export function loopRatios(airlock: LoopRow, base: LoopRow): string {
  const a = airlock.result;
  const b = base.result;
  const sign = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  return `airlock/${base.route}: ${(a.perSecond / b.perSecond).toFixed(2)}x req/s, p50 ${sign(a.p50ms - b.p50ms)} ms, p99 ${sign(a.p99ms - b.p99ms)} ms`;
}

export function downloadHeader(): string {
  return `${'route'.padEnd(15)} ${'MB in'.padStart(6)} ${'MB out'.padStart(7)} ${'s'.padStart(6)} ${'MB/s'.padStart(7)} ${'gw RSS before'.padStart(14)} ${'peak'.padStart(7)} ${'growth'.padStart(7)} ${'gw cpu s'.padStart(9)} ${'leaked chunks'.padStart(14)}`;
}

export function downloadLine(row: DownloadRow): string {
  const r = row.result;
  const growth = row.rssPeakBytes !== undefined && row.rssBeforeBytes !== undefined ? row.rssPeakBytes - row.rssBeforeBytes : undefined;
  return (
    `${row.route.padEnd(15)} ${mb(row.inputBytes, 6)} ${mb(r.bytes, 7)} ${n(r.seconds, 2, 6)} ${n(row.inputBytes / MB / r.seconds, 0, 7)} ` +
    `${mb(row.rssBeforeBytes, 11)} MB ${mb(row.rssPeakBytes, 7)} ${mb(growth, 7)} ${n(row.cpuSeconds, 2, 9)} ${int(r.leakedChunks, 14)}`
  );
}

/** downloadRatios compares airlock's throughput (upstream bytes per second) with a baseline route's. */
export function downloadRatios(airlock: DownloadRow, base: DownloadRow): string {
  const rate = (r: DownloadRow): number => r.inputBytes / r.result.seconds;
  return `airlock/${base.route}: ${(rate(airlock) / rate(base)).toFixed(2)}x MB/s`;
}

/** verdict prints a target line with `meets` or `MISSES`. */
export function verdict(label: string, ok: boolean | undefined, detail: string): string {
  const word = ok === undefined ? 'n/a' : ok ? 'meets' : 'MISSES';
  return `  ${label.padEnd(68)} ${word.padEnd(6)} (${detail})`;
}
