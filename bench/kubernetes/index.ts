/**
 * The Kubernetes gateway benchmark. See README.md in this folder.
 *
 *   npm run bench -- kubernetes [--seconds 3] [--only large,get,list] [--large-mb 200]
 *   node --import tsx bench/kubernetes/index.ts [same options]
 *
 * One run, one upstream, the same workload on every route to it:
 *   direct         the client talks to the upstream itself (the floor);
 *   kubectl proxy  the Go L7 proxy that ships with kubectl (the peer), adding the token;
 *   node floor     node:https + an undici Pool and nothing else: what any Node.js proxy pays;
 *   airlock        `airlock start` as a child process: authentication, policy, Secret
 *                  masking and the durable ledger record before every response.
 * Workloads: one large (200 MB) SecretList per Secret mix, where airlock's RSS and MB/s are
 * measured (first, on a fresh process); GET of a small ConfigMap at concurrency 16 and 1; a
 * LIST of 1,000 Secrets.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { paths, type Mix } from './objects.js';
import type { Running } from './processes.js';
import type { DownloadRow, LoopRow } from './report.js';
import { downloadScenario, loopScenario, preflight } from './scenarios.js';
import { setUp } from './setup.js';
import { printOverview, printTargets } from './summary.js';
import type { UpstreamStatsMessage } from './upstream-process.js';

const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    'list-items': { type: 'string', default: '1000' },
    'list-concurrency': { type: 'string', default: '4' },
    'large-mb': { type: 'string', default: '200' },
    only: { type: 'string', default: 'large,get,list' },
    skip: { type: 'string', default: '' },
    kubectl: { type: 'string' },
    'airlock-node-args': { type: 'string', default: '' },
  },
});

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const only = new Set(values.only.split(','));
  const listItems = Number(values['list-items']);
  const largeMb = Number(values['large-mb']);
  console.log('Kubernetes gateway benchmark: direct vs kubectl proxy vs airlock');
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]?.toFixed(1)} at start\n`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-k8s-'));
  const children: Running[] = [];
  try {
    const { routes, upstream, airlock, airlockDataDir } = await setUp(
      {
        dir,
        listItems,
        largeBytes: largeMb * MB,
        skip: new Set(values.skip.split(',').filter(Boolean)),
        ...(values.kubectl ? { kubectl: values.kubectl } : {}),
        airlockNodeArgs: values['airlock-node-args'].split(' ').filter(Boolean),
      },
      children,
    );
    await preflight(routes, listItems);

    // The large lists run first, on a fresh airlock: its RSS growth is then measured from a
    // small heap, not hidden inside one that earlier scenarios already grew.
    const downloads = new Map<Mix, DownloadRow[]>();
    if (only.has('large')) {
      for (const mix of ['cluster', 'credentials'] as const) downloads.set(mix, await downloadScenario(routes, mix, largeMb));
    }
    const loops = new Map<string, LoopRow[]>();
    const latency = 'GET ConfigMap, concurrency 1';
    if (only.has('get')) {
      const concurrency = Number(values.concurrency);
      loops.set(`GET ConfigMap, concurrency ${concurrency}`, await loopScenario('GET ConfigMap (~1 KiB)', routes, paths.configMap, { concurrency, seconds, warmup }));
      loops.set(latency, await loopScenario('GET ConfigMap (~1 KiB)', routes, paths.configMap, { concurrency: 1, seconds, warmup }));
    }
    if (only.has('list')) {
      const concurrency = Number(values['list-concurrency']);
      const title = `LIST ${listItems} Secrets, concurrency ${concurrency}`;
      loops.set(title, await loopScenario(`LIST ${listItems} Secrets (masked through airlock)`, routes, paths.secretList, { concurrency, seconds, warmup }));
    }

    const { stats } = await upstream.request<UpstreamStatsMessage>({ kind: 'stats' });
    console.log(`upstream saw ${stats.requests.toLocaleString('en-US')} requests, ${stats.impersonated.toLocaleString('en-US')} of them impersonating the airlock caller, ${stats.unauthorized} unauthorized`);
    await airlock.stop();
    console.log(`airlock's data directory (ledger, keys) after the run: ${(dirBytes(airlockDataDir) / MB).toFixed(1)} MB\n`);
    const results = { loops, latency, downloads, largeMb };
    printOverview(results, routes.map((r) => r.name));
    printTargets(results);
    console.log(`\nload average ${loadavg()[0]?.toFixed(1)} at the end (${cpus().length} CPUs: above that, wall-clock figures are stretched; cpu ms/req is not)`);
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
