/**
 * Approval latency: from the moment an approver's `POST /api/approvals/:id/approve` is sent to
 * the moment the held request's answer reaches the caller (target < 50 ms). In the same run,
 * for scale: the same create through airlock with no review (what the released request costs
 * on its own) and the approve call's own round trip.
 *
 * Everything runs in this process: the labelled fake API server from test/fixtures as the
 * cluster, airlock with its default SQLite ledger (every approval step is a durable entry).
 *
 *   npm run bench -- approvals [--runs N]
 */
import { request as httpsRequest } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { startGatewayHarness } from '../../test/support/gateway-harness.js';
import { reviewPolicy } from '../../test/support/review-policy.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 100;

const POLICY = reviewPolicy();

function pod(name: string, privileged: boolean): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged } }] } });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(label: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `  ${label.padEnd(44)} p50 ${percentile(s, 50).toFixed(1)} ms  p95 ${percentile(s, 95).toFixed(1)} ms  p99 ${percentile(s, 99).toFixed(1)} ms  (n=${s.length})`;
}

async function main(): Promise<void> {
  const h = await startGatewayHarness({ policy: POLICY, review: { holdTimeout: '60s' } });
  try {
    const agent = await h.mintToken('agent:bench', ['ci'], 3600);
    const approver = await h.mintToken('human:approver', ['airlock:approvers'], 3600);
    const url = new URL(`${h.gatewayUrl}/api/v1/namespaces/default/pods`);
    /** create posts a pod and resolves with the status and when the answer arrived. */
    const create = (body: string) =>
      new Promise<{ status: number; at: number }>((resolve, reject) => {
        const req = httpsRequest(url, { method: 'POST', ca: h.caCert, headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, at: performance.now() }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const approve = async (id: string) => {
      const res = await fetch(`${h.runtime.adminUrl}/api/approvals/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' }, body: '{}' });
      await res.text();
      if (res.status !== 200) throw new Error(`approve answered ${res.status}`);
    };

    const plain: number[] = [];
    const releases: number[] = [];
    const approveCalls: number[] = [];
    // One untimed round of each, then the timed runs.
    for (let i = -1; i < runs; i++) {
      const t0 = performance.now();
      const direct = await create(pod(`plain-${i + 1}`, false));
      if (direct.status !== 201) throw new Error(`a plain create answered ${direct.status}`);
      if (i >= 0) plain.push(direct.at - t0);

      const requested = h.waitForEntry((e) => e.type === 'approval.requested' && (e.data?.approval as { request?: { summary?: string } })?.request?.summary === `create pods "held-${i + 1}" in default`, 'the approval request');
      const held = create(pod(`held-${i + 1}`, true));
      const entry = await requested;
      const id = String(entry.data?.approvalId);
      const sent = performance.now();
      await approve(id);
      const answered = performance.now();
      const released = await held;
      if (released.status !== 201) throw new Error(`the held create answered ${released.status}`);
      if (i >= 0) {
        releases.push(released.at - sent);
        approveCalls.push(answered - sent);
      }
    }

    console.log(`approvals: ${runs} runs, Node ${process.version}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(summary('create through airlock, no review', plain));
    console.log(summary('approve call (POST …/approve → 200)', approveCalls));
    console.log(summary('approve sent → held request answered', releases));
    const p99 = percentile([...releases].sort((a, b) => a - b), 99);
    const p50 = percentile([...releases].sort((a, b) => a - b), 50);
    console.log(`  ratio: release p50 ${(p50 / percentile([...plain].sort((a, b) => a - b), 50)).toFixed(2)}x a plain create`);
    console.log(`  [${p99 < 50 ? 'met' : 'MISSED'}] approve → release < 50 ms: p99 ${p99.toFixed(1)} ms`);
  } finally {
    await h.close();
  }
}

await main();
