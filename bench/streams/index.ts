/**
 * The streams benchmark: what `kubectl exec` costs through airlock, next to the same session
 * straight to the upstream, through `kubectl proxy` (the Go peer) and through a bare Node.js
 * WebSocket relay (the node floor). See README.md in this folder.
 *
 *   npm run bench -- streams [--mb 100] [--runs 3] [--keystrokes 300] [--only throughput,keystroke] [--skip kubectl-proxy,node-floor]
 *   node --import tsx bench/streams/index.ts [same options]
 *
 * Upstream: the fake API server of the tests (a test double serving exec over WebSocket), in
 * its own process. airlock: `airlock start` as a child process with recording and masking on.
 * Client: this process, speaking `v5.channel.k8s.io` with the `ws` package.
 *   keystroke   a `cat` session, one byte on stdin at a time, timed until it is back on stdout
 *               (first, on a fresh airlock);
 *   throughput  `cat` of a generated 100 MB log file: MB/s of stdout on every route.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scrapeRecordingHolds } from '../kubernetes/ledger-metrics.js';
import { cpuSeconds, mainThreadCpuSeconds, rssBytes, sampleRss } from '../kubernetes/proc.js';
import type { Running } from '../kubernetes/processes.js';
import { download, keystrokes, type ExecTarget } from './channel-client.js';
import { downloadHeader, downloadLine, latencyHeader, latencyLine, latencyRow, printSummary, type DownloadRow, type LatencyRow } from './report.js';
import { setUp } from './setup.js';

const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    keystrokes: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '20' },
    key: { type: 'string', default: 'a' },
    only: { type: 'string', default: 'throughput,keystroke' },
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

/** Gateways written in Node.js, whose first thread is the event loop (Go's is not). */
const nodeGateways = new Set(['airlock', 'node floor']);

/** measured runs `work` and, for a route through a gateway, what the gateway process spent on it. */
async function measured<T>(target: ExecTarget, work: () => Promise<T>): Promise<{ result: T; cpuS?: number; mainCpuS?: number; rssGrowth?: number }> {
  const pid = target.pid;
  if (pid === undefined) return { result: await work() };
  const main = nodeGateways.has(target.name);
  const cpu0 = cpuSeconds(pid);
  const main0 = main ? mainThreadCpuSeconds(pid) : undefined;
  const rss0 = rssBytes(pid);
  const sampler = sampleRss(pid);
  const result = await work();
  const peak = sampler.stop();
  const cpu1 = cpuSeconds(pid);
  const main1 = main ? mainThreadCpuSeconds(pid) : undefined;
  return {
    result,
    ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuS: cpu1 - cpu0 } : {}),
    ...(main0 !== undefined && main1 !== undefined ? { mainCpuS: main1 - main0 } : {}),
    ...(rss0 !== undefined && peak !== undefined ? { rssGrowth: peak - rss0 } : {}),
  };
}

async function main(): Promise<void> {
  const mb = Number(values.mb);
  const runs = Number(values.runs);
  const only = new Set(values.only.split(','));
  const key = values.key.charCodeAt(0);
  console.log('Streams benchmark: kubectl exec over v5.channel.k8s.io, direct vs kubectl proxy vs node floor vs airlock (recording and masking on)');
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]?.toFixed(1)} at start\n`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-streams-'));
  const children: Running[] = [];
  try {
    const s = await setUp(dir, mb * MB, children, {
      skip: new Set(values.skip.split(',').filter(Boolean)),
      ...(values.kubectl ? { kubectl: values.kubectl } : {}),
      airlockNodeArgs: values['airlock-node-args'].split(' ').filter(Boolean),
    });
    console.log(`upstream   ${s.fake.url} (fake API server, a test double; pod ${s.fake.namespace}/${s.fake.pod} with ${s.fake.file} of ${(s.fake.fileBytes / MB).toFixed(0)} MB; pid ${s.fakePid})`);
    for (const t of s.targets) {
      if (t.name === 'kubectl proxy') console.log(`proxy      ${t.base} (${s.kubectl} proxy --reject-paths=^$, pid ${t.pid})`);
      if (t.name === 'node floor') console.log(`floor      ${t.base} (node:https + ws on both legs, relaying messages and nothing else; pid ${t.pid})`);
    }
    console.log(`airlock    ${s.airlock.url} (airlock start, pid ${s.airlock.pid}; SQLite ledger, embedded policy, masking, terminal recording)\n`);
    const targets = s.targets;

    // Keystrokes first, on an airlock that is not still appending the recordings of 100 MB
    // sessions nor carrying the heap they grew: the interactive figure is then airlock's own.
    const latency: LatencyRow[] = [];
    if (only.has('keystroke')) {
      const count = Number(values.keystrokes);
      console.log(`keystroke round-trip: cat with stdin, ${count} keystrokes of ${JSON.stringify(values.key[0])} one at a time (after ${values.warmup} untimed)`);
      console.log(latencyHeader());
      for (const t of targets) {
        const m = await measured(t, () => keystrokes(t, count, Number(values.warmup), key));
        const row = latencyRow(t.name, m.result.roundTripsMs, m.cpuS === undefined ? undefined : (m.cpuS * 1000) / (count + Number(values.warmup)));
        latency.push(row);
        console.log(latencyLine(row));
      }
      console.log('');
    }

    const downloads: DownloadRow[] = [];
    if (only.has('throughput')) {
      console.log(`exec stdout: cat of a ${mb} MB log file, ${runs} run(s) per route, alternating, after one untimed run per route`);
      // One untimed session per route first, so that neither route's first timed run pays for
      // JIT compilation, TLS session setup or the first growth of the heap.
      for (const t of targets) await download(t, s.fake.file);
      console.log(downloadHeader());
      for (let run = 0; run < runs; run++) {
        for (const t of targets) {
          const holds0 = t.name === 'airlock' ? await scrapeRecordingHolds(s.airlock.adminUrl) : undefined;
          const m = await measured(t, () => download(t, s.fake.file));
          const holds1 = holds0 === undefined ? undefined : await scrapeRecordingHolds(s.airlock.adminUrl);
          const row: DownloadRow = {
            ...m.result,
            route: t.name,
            mbPerSecond: m.result.stdoutBytes / MB / (m.result.streamMs / 1000),
            ...(m.cpuS === undefined ? {} : { gatewayCpuS: m.cpuS }),
            ...(m.mainCpuS === undefined ? {} : { gatewayMainCpuS: m.mainCpuS }),
            ...(m.rssGrowth === undefined ? {} : { rssGrowth: m.rssGrowth }),
            ...(holds0 === undefined || holds1 === undefined ? {} : { recordingHolds: holds1 - holds0 }),
          };
          downloads.push(row);
          console.log(downloadLine(row));
        }
      }
    }

    await s.airlock.stop();
    console.log(`\nairlock's data directory (ledger, recordings, keys) after the run: ${(dirBytes(join(dir, 'airlock')) / MB).toFixed(1)} MB`);
    printSummary({ downloads, latency, mb });
    console.log(`\nload average ${loadavg()[0]?.toFixed(1)} at the end (${cpus().length} CPUs: above that, wall-clock figures are stretched; gateway CPU is not)`);
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
