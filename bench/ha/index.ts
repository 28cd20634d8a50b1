/**
 * Several replicas on one PostgreSQL ledger (a server the benchmark starts with initdb):
 * 1. ledger throughput with one and with two writers (one chain each), 64 appenders in all;
 * 2. approval to release across replicas: a privileged create held on replica A, approved
 *    through replica B's admin API; the time from sending the approval to A's answer (target
 *    < 100 ms), beside the same approval given on A itself.
 *
 *   npm run bench -- ha [--seconds S] [--runs N]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configSchema } from '../../src/config/index.js';
import { startAirlock, type AirlockRuntime } from '../../src/gateway/runtime.js';
import { openLedger } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/log.js';
import { startFakeApiServer } from '../../test/fixtures/fake-apiserver/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { closedLoop, requestEntry, type RunResult } from '../ledger/workload.js';
import { reviewPolicy } from '../../test/support/review-policy.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '100' } } });
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const APPENDERS = 64;

const POLICY = reviewPolicy();

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const fake = await startFakeApiServer();
  const root = mkdtempSync(join(tmpdir(), 'airlock-bench-ha-'));
  try {
    console.log(`ha: Node ${process.version}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    // 1. Ledger throughput: one writer, then two writers sharing the appenders.
    const throughput = async (writers: number): Promise<RunResult> => {
      const url = await pg.createDatabase(`ha_${writers}`);
      const ledgers = await Promise.all(
        Array.from({ length: writers }, (_, i) => openLedger({ dataDir: join(root, `w${writers}`), store: { kind: 'postgres', url }, chain: `replica-${i}` })),
      );
      await closedLoop(APPENDERS, 0.5, (i) => ledgers[i % writers]!.append(requestEntry(i)));
      const result = await closedLoop(APPENDERS, seconds, (i) => ledgers[i % writers]!.append(requestEntry(i)));
      await Promise.all(ledgers.map((l) => l.close()));
      return result;
    };
    const one = await throughput(1);
    const two = await throughput(2);
    const fmt = (r: RunResult) => `${Math.round(r.perSecond).toLocaleString('en-US')} entries/s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms`;
    console.log(`  ledger, 1 replica  (${APPENDERS} appenders): ${fmt(one)}`);
    console.log(`  ledger, 2 replicas (${APPENDERS} appenders): ${fmt(two)}  ratio ${(two.perSecond / one.perSecond).toFixed(2)}x`);

    // 2. Approval to release, across replicas and on the same replica.
    const ledgerUrl = await pg.createDatabase('ha_approvals');
    const upstreamCa = join(root, 'upstream-ca.crt');
    writeFileSync(upstreamCa, fake.caCert ?? '');
    writeFileSync(join(root, 'policy.yaml'), POLICY);
    const start = (chain: string) =>
      startAirlock(
        configSchema.parse({
          data: join(root, 'data'),
          listen: '127.0.0.1:0',
          admin: { listen: '127.0.0.1:0' },
          log: { level: 'silent' },
          policy: join(root, 'policy.yaml'),
          ledger: { store: 'postgres', postgres: { url: ledgerUrl }, chain },
          review: { holdTimeout: '60s' },
          connections: [{ name: 'sandbox', type: 'kubernetes', upstream: { url: fake.url, token: fake.token, ca: upstreamCa } }],
        }),
        { logger: silentLogger },
      );
    const a = await start('replica-a');
    const b = await start('replica-b');
    try {
      const ca = readFileSync(a.kubernetes!.caFile!, 'utf8');
      const agent = await a.issuer!.mint({ subject: 'agent:bench', groups: [], ttlSeconds: 3600 });
      const approver = await a.issuer!.mint({ subject: 'human:approver', groups: ['airlock:approvers'], ttlSeconds: 3600 });
      const measure = async (approveOn: AirlockRuntime, label: string): Promise<void> => {
        const samples: number[] = [];
        for (let i = -1; i < runs; i++) {
          const requested = new Promise<string>((resolve) => {
            const stop = approveOn.approvals.onApplied((x) => {
              if (x.state === 'pending') {
                stop();
                resolve(x.id);
              }
            });
            if (approveOn === a) {
              stop();
              const off = a.ledger.onEntry((e) => {
                if (e.type === 'approval.requested') {
                  off();
                  setImmediate(() => resolve(String(e.data?.approvalId)));
                }
              });
            }
          });
          const held = new Promise<number>((resolve, reject) => {
            const req = httpsRequest(`${a.kubernetes!.url}/k8s/sandbox/api/v1/namespaces/default/pods`, { method: 'POST', ca, agent: false, headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' } }, (res) => {
              res.resume();
              res.on('end', () => (res.statusCode === 201 ? resolve(performance.now()) : reject(new Error(`held create answered ${res.statusCode}`))));
            });
            req.on('error', reject);
            req.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${approveOn === a ? 'same' : 'across'}-${i + 1}` }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } }));
          });
          const id = await requested;
          const sent = performance.now();
          const res = await fetch(`${approveOn.adminUrl}/api/approvals/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' }, body: '{}' });
          await res.text();
          if (res.status !== 200) throw new Error(`approve answered ${res.status}`);
          const released = await held;
          if (i >= 0) samples.push(released - sent);
        }
        samples.sort((x, y) => x - y);
        console.log(`  approve → release, ${label.padEnd(32)} p50 ${pct(samples, 50).toFixed(1)} ms  p95 ${pct(samples, 95).toFixed(1)} ms  p99 ${pct(samples, 99).toFixed(1)} ms  (n=${samples.length})`);
        if (label.startsWith('across')) console.log(`  [${pct(samples, 99) < 100 ? 'met' : 'MISSED'}] approval on another replica releases within 100 ms: p99 ${pct(samples, 99).toFixed(1)} ms`);
      };
      await measure(a, 'same replica (held and approved on A)');
      await measure(b, 'across replicas (held on A, approved on B)');
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await fake.close();
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
