/**
 * `npm run bench -- exports [--entries N] [--sessions S] [--evidence]`
 *
 * Fills a temporary SQLite ledger with N entries shaped like the gateway's (requests, most
 * followed by their response within a few entries, some refused), then exports them as CSV to
 * /dev/null the way `airlock export sessions` does, and reports rows and entries per second,
 * wall time and the peak growth of the process's resident memory during the export. Target:
 * 1,000,000 entries in under 30 s, with memory that does not grow with the ledger. With
 * `--evidence` it then writes the evidence bundle of the whole ledger and verifies it
 * (`airlock evidence export` / `verify`), with the same two figures for each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeLines } from '../../src/cli/export.js';
import { csvHeader, csvLine } from '../../src/evidence/export-formats.js';
import { requestRows } from '../../src/evidence/request-rows.js';
import { openLedger, openLedgerReader, type EntryInput } from '../../src/ledger/index.js';
import { exportEvidenceBundle, verifyEvidenceBundle } from '../../src/evidence/bundle.js';
import { loadLedgerSigningKey } from '../../src/ledger/signing-key.js';

const TARGET_SECONDS = 30;

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    sessions: { type: 'string', default: '200' },
    evidence: { type: 'boolean', default: false },
    // Internal: the fill runs in a child process, so the export's memory is measured on its own.
    'fill-into': { type: 'string' },
  },
});
const total = Number(values.entries);
const sessions = Number(values.sessions);
if (!Number.isInteger(total) || total < 2 || !Number.isInteger(sessions) || sessions < 1) {
  console.error('usage: npm run bench -- exports [--entries N] [--sessions S] [--evidence]');
  process.exit(2);
}

const verbs = ['get', 'list', 'get', 'watch', 'create', 'patch', 'delete'] as const;
const resources = ['pods', 'deployments', 'configmaps', 'secrets', 'services'] as const;

/** The entries of request i: the request, and (unless refused) its response, possibly a little later. */
function requestPair(i: number): { request: EntryInput; response?: EntryInput } {
  const session = `ses_${String(i % sessions).padStart(24, '0')}`;
  const identity = { subject: `agent:bot-${i % sessions}`, groups: ['agents', 'ci'], issuer: 'https://airlock.local', kind: 'agent' as const, tokenId: `tok-${i % sessions}`, via: 'builtin' };
  const verb = verbs[i % verbs.length]!;
  const resource = resources[i % resources.length]!;
  const refused = i % 20 === 0;
  const id = `01900000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
  const name = verb === 'list' || verb === 'watch' || verb === 'create' ? undefined : `obj-${i % 997}`;
  const target = `/api/v1/namespaces/ns-${i % 13}/${resource}${name ? `/${name}` : ''}`;
  const request: EntryInput = {
    id,
    type: 'request',
    sessionId: session,
    identity,
    connection: 'prod',
    action: { protocol: 'kubernetes', connection: 'prod', verb, resource, apiGroup: '', apiVersion: 'v1', namespace: `ns-${i % 13}`, ...(name ? { name } : {}) },
    decision: refused ? { effect: 'deny', rules: ['no-deletes-in-prod'], message: 'deletes in prod go through the release pipeline' } : { effect: 'allow', rules: ['agents-read'], message: 'reads are allowed' },
    data: {
      protocol: 'kubernetes',
      method: verb === 'create' ? 'POST' : verb === 'patch' ? 'PATCH' : verb === 'delete' ? 'DELETE' : 'GET',
      userAgent: 'kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef0',
      remoteAddress: '10.0.0.7',
      target,
      ...(refused ? { outcome: 'refused', status: 403, reason: 'policy-denied', message: 'denied by rule no-deletes-in-prod' } : { outcome: 'forwarded' }),
    },
  };
  if (refused) return { request };
  return {
    request,
    response: { type: 'response', sessionId: session, identity, connection: 'prod', data: { requestId: id, status: 200, durationMs: 3.25 + (i % 17), bytes: 512 } },
  };
}

async function fill(dataDir: string): Promise<{ requests: number; entries: number; seconds: number }> {
  const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' }, checkpoint: { entries: 1_000_000_000, intervalMs: 3_600_000 } });
  const started = process.hrtime.bigint();
  let entries = 0;
  let requests = 0;
  // Answers are held back up to 3 requests, as a write's answer follows other traffic.
  const held: EntryInput[][] = [[], [], [], []];
  let batch: EntryInput[] = [];
  const flush = async () => {
    await Promise.all(batch.map((e) => ledger.append(e)));
    batch = [];
  };
  while (entries < total) {
    const { request, response } = requestPair(requests);
    const slot = requests % held.length;
    batch.push(request);
    entries++;
    requests++;
    if (response && entries < total) {
      held[(slot + (requests % 4)) % held.length]!.push(response);
    }
    const due = held[slot]!;
    while (due.length > 0 && entries < total) {
      batch.push(due.shift()!);
      entries++;
    }
    due.length = 0;
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  await ledger.close();
  return { requests, entries, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function exportCsv(dataDir: string): Promise<{ rows: number; seconds: number; peakRssGrowthMiB: number; rssBeforeMiB: number; largestWindow: number }> {
  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  let rows = 0;
  let largestWindow = 0;
  const started = process.hrtime.bigint();
  try {
    await writeLines('/dev/null', process.stdout, async function* () {
      yield csvHeader();
      for await (const row of requestRows(reader, { onWindow: (n) => (largestWindow = n > largestWindow ? n : largestWindow) })) {
        rows++;
        if (rows % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        yield csvLine(row);
      }
    });
  } finally {
    await reader.close();
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const MiB = 1024 * 1024;
  return { rows, seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssGrowthMiB: (peak - rssBefore) / MiB, rssBeforeMiB: rssBefore / MiB, largestWindow };
}

/** measured runs `work`, sampling the process's RSS every 20 ms: seconds and peak growth (MiB). */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRssGrowthMiB: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssGrowthMiB: (peak - before) / (1024 * 1024) };
  } finally {
    clearInterval(sampler);
  }
}

/** evidenceRoundTrip writes the whole ledger's evidence bundle, then verifies it offline. */
async function evidenceRoundTrip(dataDir: string, out: string): Promise<void> {
  const key = loadLedgerSigningKey(dataDir);
  const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  const written = await measured(async () => {
    try {
      return await exportEvidenceBundle({ reader, key: { ...key, publicPem }, out });
    } finally {
      await reader.close();
    }
  });
  console.log(`bundle: ${Number(written.result.summary?.requests ?? 0).toLocaleString('en-US')} requests written in ${written.seconds.toFixed(1)} s, peak RSS growth ${written.peakRssGrowthMiB.toFixed(1)} MiB`);
  const verified = await measured(() => verifyEvidenceBundle(out, { publicKey: key.publicKey }));
  const verdict = verified.result.ok ? 'ok' : `NOT ok (${verified.result.problems.slice(0, 3).join('; ')})`;
  console.log(`verify: ${verdict} in ${verified.seconds.toFixed(1)} s, peak RSS growth ${verified.peakRssGrowthMiB.toFixed(1)} MiB`);
}

/** fillInChild fills the ledger in a separate process and returns what it reports. */
function fillInChild(dir: string): { requests: number; entries: number; seconds: number } {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--fill-into', dir, '--entries', String(total), '--sessions', String(sessions)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`filling the ledger failed (exit ${child.status ?? child.signal})`);
  return JSON.parse(child.stdout) as { requests: number; entries: number; seconds: number };
}

async function main(): Promise<void> {
  if (values['fill-into'] !== undefined) {
    process.stdout.write(JSON.stringify(await fill(values['fill-into'])));
    return;
  }
  console.log(`exports benchmark: ${total.toLocaleString('en-US')} ledger entries, ${sessions} sessions`);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-exports-'));
  try {
    const filled = fillInChild(dir);
    console.log(
      `fill:   ${filled.entries.toLocaleString('en-US')} entries (${filled.requests.toLocaleString('en-US')} requests) in ${filled.seconds.toFixed(1)} s ` +
        `(${Math.round(filled.entries / filled.seconds).toLocaleString('en-US')} entries/s)`,
    );
    const run = await exportCsv(dir);
    const perSecond = filled.entries / run.seconds;
    console.log(
      `export: CSV of ${run.rows.toLocaleString('en-US')} rows to /dev/null in ${run.seconds.toFixed(1)} s: ` +
        `${Math.round(perSecond).toLocaleString('en-US')} entries/s, ${Math.round(run.rows / run.seconds).toLocaleString('en-US')} rows/s`,
    );
    console.log(`memory: RSS ${run.rssBeforeMiB.toFixed(0)} MiB before, peak growth ${run.peakRssGrowthMiB.toFixed(1)} MiB during the export; largest look-ahead window ${run.largestWindow} requests`);
    const met = run.seconds < TARGET_SECONDS;
    console.log(`target: 1,000,000 entries in < ${TARGET_SECONDS} s: ${filled.entries >= 1_000_000 ? (met ? 'met' : 'MISSED') : 'run with --entries 1000000 to check'}`);
    if (values.evidence) await evidenceRoundTrip(dir, join(dir, 'bundle'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
