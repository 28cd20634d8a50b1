/**
 * Policy decisions per second and per-decision latency for a realistic 50-rule policy, on
 * one core: the engine as shipped (rule index + closures + early exit) and, in the same
 * run, the naive baseline that sends every rule through cel-js. See README.md.
 *
 *   npm run bench -- policy [--seconds N]
 */
import { cpus, loadavg } from 'node:os';
import { compilePolicy } from '../../src/policy/compile.js';
import type { Decision } from '../../src/policy/decision.js';
import { evaluatePolicy, evaluatePolicyReference, type PolicyInput } from '../../src/policy/evaluate.js';
import type { CompiledPolicy } from '../../src/policy/compiled-policy.js';
import { benchPolicySource } from './bench-policy.js';
import { requestMix } from './requests.js';

type Evaluate = (policy: CompiledPolicy, input: PolicyInput) => Decision;

const target = 1_000_000;
const batch = 64;
const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;

interface Result {
  /** Decisions per second of wall-clock time. */
  perSecond: number;
  /** Decisions per second of this process's CPU time: what one core does, whatever else runs. */
  perCpuSecond: number;
  p50: number;
  p99: number;
}

/**
 * measure runs `evaluate` over the inputs, round-robin, in batches of `batch` decisions
 * timed with hrtime. Throughput is decisions over the total time; the percentiles are of
 * the per-decision time of each batch (a single decision is too short to time alone).
 */
function measure(evaluate: Evaluate, policy: CompiledPolicy, inputs: PolicyInput[], budgetSeconds: number): Result {
  const samples: number[] = [];
  let sink = 0;
  let i = 0;
  let decisions = 0;
  const budget = BigInt(Math.round(budgetSeconds * 1e9));
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let now = start;
  while (now - start < budget) {
    const t0 = now;
    for (let k = 0; k < batch; k++) {
      sink += evaluate(policy, inputs[i] as PolicyInput).rules.length;
      i = i + 1 === inputs.length ? 0 : i + 1;
    }
    now = process.hrtime.bigint();
    samples.push(Number(now - t0) / batch);
    decisions += batch;
  }
  const elapsed = Number(now - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink); // keep the work observable
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return {
    perSecond: decisions / elapsed,
    perCpuSecond: decisions / ((cpu.user + cpu.system) / 1e6),
    p50: at(0.5),
    p99: at(0.99),
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;

function main(): void {
  const policy = compilePolicy(benchPolicySource, { file: 'bench-policy.yaml' });
  const inputs = requestMix(4096);

  // The benchmark is only meaningful if both evaluators agree on every request.
  const effects: Record<string, number> = {};
  for (const input of inputs) {
    const fast = evaluatePolicy(policy, input);
    if (JSON.stringify(fast) !== JSON.stringify(evaluatePolicyReference(policy, input))) {
      throw new Error(`fast and naive evaluation disagree on ${JSON.stringify(input.request)}`);
    }
    effects[fast.effect] = (effects[fast.effect] ?? 0) + 1;
  }

  const gc = (globalThis as { gc?: () => void }).gc;
  measure(evaluatePolicy, policy, inputs, 0.5); // warm up both paths
  measure(evaluatePolicyReference, policy, inputs, 0.5);
  gc?.();
  const fast = measure(evaluatePolicy, policy, inputs, seconds);
  gc?.();
  const naive = measure(evaluatePolicyReference, policy, inputs, seconds);

  const mix = Object.entries(effects)
    .map(([e, n]) => `${e} ${((100 * n) / inputs.length).toFixed(0)}%`)
    .join(', ');
  console.log(`policy: ${policy.rules.length} rules, ${inputs.length} distinct requests (${mix})`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, load ${loadavg()[0]?.toFixed(2)}, one thread, ${seconds}s per run`);
  console.log('');
  console.log('                           decisions/s   decisions/CPU-s   p50/decision   p99/decision');
  const row = (name: string, r: Result) =>
    console.log(`${name.padEnd(26)} ${fmt(r.perSecond).padStart(11)}   ${fmt(r.perCpuSecond).padStart(15)}   ${us(r.p50).padStart(12)}   ${us(r.p99).padStart(12)}`);
  row('engine (index + closures)', fast);
  row('naive (every rule, cel-js)', naive);
  console.log('');
  console.log(`ratio (engine / naive)     ${(fast.perCpuSecond / naive.perCpuSecond).toFixed(1)}x per CPU-second, ${(naive.p50 / fast.p50).toFixed(1)}x at p50`);
  const met = fast.perCpuSecond >= target;
  console.log(`target                     >= ${fmt(target)} decisions per CPU-second on one core: ${met ? 'met' : 'NOT met'}`);
}

main();
