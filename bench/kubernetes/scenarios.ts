/**
 * The scenarios, each run on every route in turn with the same client settings: a preflight
 * that checks what each route answers, closed loops (GET, LIST) and the large-list download.
 * Each prints its rows as it goes, so a long run shows progress.
 */
import { describeLedger, scrapeLedger } from './ledger-metrics.js';
import { closedLoop, download, fetchOnce, openPool, type Route } from './load.js';
import { CLEAR_NEEDLE, paths, type Mix } from './objects.js';
import { cpuSeconds, mainThreadCpuSeconds, peakRssBytes, resetPeakRss, rssBytes, sampleRss } from './proc.js';
import { downloadHeader, downloadLine, downloadRatios, loopHeader, loopLine, loopRatios, type DownloadRow, type LoopRow } from './report.js';
import { bigListPath } from './upstream.js';

export interface LoopOptions {
  concurrency: number;
  seconds: number;
  /** Unmeasured seconds first, on the same connections: TLS handshakes, JIT, first allocations. */
  warmup: number;
}

/**
 * preflight checks that every route answers the same objects before anything is timed, and
 * that only airlock masks: a benchmark of a route that answers errors would measure nothing.
 */
export async function preflight(routes: Route[], listItems: number): Promise<void> {
  for (const route of routes) {
    const pool = openPool(route, 1);
    try {
      const cm = await fetchOnce(pool, route, paths.configMap);
      if (cm.status !== 200) throw new Error(`${route.name}: GET ConfigMap answered ${cm.status}: ${cm.body.toString().slice(0, 300)}`);
      const list = await fetchOnce(pool, route, paths.secretList);
      if (list.status !== 200) throw new Error(`${route.name}: LIST Secrets answered ${list.status}: ${list.body.toString().slice(0, 300)}`);
      const items = (JSON.parse(list.body.toString()) as { items: unknown[] }).items.length;
      if (items !== listItems) throw new Error(`${route.name}: LIST Secrets returned ${items} items, expected ${listItems}`);
      const clear = list.body.includes(CLEAR_NEEDLE);
      if (clear !== (route.name !== 'airlock')) throw new Error(`${route.name}: Secret values are ${clear ? 'clear' : 'masked'}, which is not what this route should do`);
    } finally {
      await pool.close();
    }
  }
  console.log(`checks     every route answers the ConfigMap and ${listItems} Secrets; only airlock masks their values\n`);
}

/**
 * measured runs one timed loop and adds what the gateway process spent: CPU per request, RSS
 * after, and for airlock where the CPU went (event loop or other threads) and how long its
 * ledger appends waited.
 */
async function measured(route: Route, run: () => Promise<LoopRow['result']>): Promise<LoopRow> {
  const pid = route.pid;
  const ledger0 = route.adminUrl ? await scrapeLedger(route.adminUrl) : undefined;
  const cpu0 = pid ? cpuSeconds(pid) : undefined;
  const main0 = pid ? mainThreadCpuSeconds(pid) : undefined;
  const result = await run();
  const cpu1 = pid ? cpuSeconds(pid) : undefined;
  const main1 = pid ? mainThreadCpuSeconds(pid) : undefined;
  const ledger1 = route.adminUrl ? await scrapeLedger(route.adminUrl) : undefined;
  const perRequest = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b !== undefined && result.requests > 0 ? ((b - a) * 1000) / result.requests : undefined;
  const cpuMs = perRequest(cpu0, cpu1);
  const mainMs = perRequest(main0, main1);
  const notes: string[] = [];
  if (route.adminUrl && cpuMs !== undefined && mainMs !== undefined) {
    notes.push(`airlock cpu: event loop ${mainMs.toFixed(3)} ms/req, other threads (ledger writer, GC) ${(cpuMs - mainMs).toFixed(3)} ms/req`);
  }
  const ledger = describeLedger(ledger0, ledger1, result.requests);
  if (ledger) notes.push(ledger);
  const rss = pid ? rssBytes(pid) : undefined;
  return {
    route: route.name,
    result,
    ...(cpuMs !== undefined ? { cpuMsPerRequest: cpuMs } : {}),
    ...(rss !== undefined ? { rssAfterBytes: rss } : {}),
    ...(notes.length > 0 ? { note: notes.join('\n    ') } : {}),
  };
}

/** loopScenario runs a closed loop of GETs of `path` on every route and prints the rows and ratios. */
export async function loopScenario(title: string, routes: Route[], path: string, o: LoopOptions): Promise<LoopRow[]> {
  console.log(`${title} (concurrency ${o.concurrency}, ${o.seconds} s per route after ${o.warmup} s warm-up)`);
  console.log(`  ${loopHeader()}`);
  const rows: LoopRow[] = [];
  for (const route of routes) {
    const pool = openPool(route, o.concurrency);
    try {
      await closedLoop(pool, route, path, o.concurrency, o.warmup);
      const row = await measured(route, () => closedLoop(pool, route, path, o.concurrency, o.seconds));
      rows.push(row);
      console.log(`  ${loopLine(row)}`);
    } finally {
      await pool.close();
    }
  }
  const airlock = rows.find((r) => r.route === 'airlock');
  for (const base of rows.filter((r) => r.route !== 'airlock')) if (airlock) console.log(`  ${loopRatios(airlock, base)}`);
  console.log('');
  return rows;
}

/**
 * downloadScenario reads the large SecretList of `mix` once per route, sampling the gateway's
 * RSS while it flows (and its VmHWM, reset just before), and counting clear values received.
 */
export async function downloadScenario(routes: Route[], mix: Mix, largeMb: number): Promise<DownloadRow[]> {
  console.log(`LIST ${largeMb} MB SecretList, ${mix} mix (one request per route; growth = peak RSS - RSS before)`);
  console.log(`  ${downloadHeader()}`);
  const rows: DownloadRow[] = [];
  for (const route of routes) {
    const pool = openPool(route, 1);
    try {
      const pid = route.pid;
      const direct = rows.find((r) => r.route === 'direct');
      const hwmReset = pid !== undefined && resetPeakRss(pid);
      const rssBefore = pid !== undefined ? rssBytes(pid) : undefined;
      const cpu0 = pid !== undefined ? cpuSeconds(pid) : undefined;
      const sampler = pid !== undefined ? sampleRss(pid) : undefined;
      const result = await download(pool, route, bigListPath(mix), CLEAR_NEEDLE);
      const sampled = sampler?.stop();
      const hwm = hwmReset && pid !== undefined ? peakRssBytes(pid) : undefined;
      const cpu1 = pid !== undefined ? cpuSeconds(pid) : undefined;
      const peak = hwm !== undefined && sampled !== undefined ? Math.max(hwm, sampled) : (hwm ?? sampled);
      if (result.status !== 200) throw new Error(`${route.name}: the large list answered ${result.status}`);
      const row: DownloadRow = {
        route: route.name,
        result,
        // The direct route (always first) receives exactly what the upstream sends.
        inputBytes: direct?.result.bytes ?? result.bytes,
        ...(rssBefore !== undefined ? { rssBeforeBytes: rssBefore } : {}),
        ...(peak !== undefined ? { rssPeakBytes: peak } : {}),
        ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuSeconds: cpu1 - cpu0 } : {}),
      };
      rows.push(row);
      console.log(`  ${downloadLine(row)}`);
    } finally {
      await pool.close();
    }
  }
  const airlock = rows.find((r) => r.route === 'airlock');
  for (const base of rows.filter((r) => r.route !== 'airlock')) if (airlock) console.log(`  ${downloadRatios(airlock, base)}`);
  console.log('');
  return rows;
}
