/**
 * The benchmark's workload: a request-shaped ledger entry (identity, Kubernetes action,
 * decision, a small masked response body) and a closed-loop driver that keeps N appenders
 * busy for a fixed time, recording each append's latency.
 */
import type { EntryInput } from '../../src/ledger/index.js';

/** requestEntry is what the gateway records for one `kubectl get pod` answered from upstream. */
export function requestEntry(i: number): EntryInput {
  return {
    type: 'request',
    sessionId: `sess-${i % 97}`,
    identity: {
      subject: 'agent:deploy-bot',
      groups: ['agents', 'team-payments'],
      issuer: 'https://issuer.example.com',
      kind: 'agent',
      tokenId: 'b5d1c9e0a3f24e7b',
      via: 'builtin',
    },
    connection: 'prod-cluster',
    action: {
      protocol: 'kubernetes',
      connection: 'prod-cluster',
      verb: 'get',
      resource: 'pods',
      namespace: 'payments',
      name: `api-7c9f8d6b5-${(i % 1000).toString(36)}`,
      apiVersion: 'v1',
      method: 'GET',
      path: `/api/v1/namespaces/payments/pods/api-7c9f8d6b5-${(i % 1000).toString(36)}`,
    },
    decision: { effect: 'allow', rules: ['agents-read-payments'], message: 'agents may read payments pods' },
    response: {
      contentType: 'application/json',
      body: JSON.stringify({
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: `api-${i}`, namespace: 'payments', labels: { app: 'api', tier: 'backend' }, resourceVersion: String(100000 + i) },
        spec: { containers: [{ name: 'api', image: 'registry.example.com/payments/api:1.42.0', env: [{ name: 'DB_PASSWORD', value: '***' }] }] },
        status: { phase: 'Running', podIP: '10.0.3.17' },
      }),
    },
    data: { status: 200, durationMs: 3.2, bytes: 612 },
  };
}

export interface RunResult {
  entries: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

/**
 * closedLoop runs `appenders` concurrent loops, each awaiting `append(i)` then issuing the
 * next, until `seconds` have passed.
 */
export async function closedLoop(appenders: number, seconds: number, append: (i: number) => Promise<unknown>): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await append(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return summarize(latencies, elapsed);
}

export function summarize(latencies: number[], seconds: number): RunResult {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { entries: latencies.length, seconds, perSecond: latencies.length / seconds, p50ms: at(0.5), p99ms: at(0.99) };
}
