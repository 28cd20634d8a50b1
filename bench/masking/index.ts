/**
 * Streaming Secret masking: throughput and memory. See README.md in this folder.
 *
 *   node --import tsx bench/masking/index.ts [--size-mb 200] [--naive-mb 50]
 *   npm run bench -- masking [--size-mb 200] [--naive-mb 50]
 *
 * Each scenario runs in its own child process (clean heap, its own RSS). Prints MB/s (wall
 * and per CPU second), peak RSS growth and leaks found in the output, for both Secret mixes,
 * then the ratios against the direct pass-through and against the naive whole-body parse.
 */
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Mix } from './generate.js';
import { runScenario, type ScenarioName, type ScenarioResult } from './scenarios.js';

const TARGET_MB_PER_SECOND = 100;
const TARGET_RSS_GROWTH_MB = 50;
const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '200' },
    'naive-mb': { type: 'string', default: '50' },
    scenario: { type: 'string' },
    mix: { type: 'string' },
    bytes: { type: 'string' },
  },
});

/** inChild runs one scenario in a fresh process that inherits the loader (tsx or none). */
function inChild(name: ScenarioName, mix: Mix, bytes: number): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : [...process.execArgv, '--expose-gc'];
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', name, '--mix', mix, '--bytes', String(bytes)], { execArgv });
    child.once('message', (message) => resolve(message as ScenarioResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`scenario ${name} exited with ${code}`)));
  });
}

const wall = (r: ScenarioResult): number => r.inputBytes / MB / r.seconds;
const perCpu = (r: ScenarioResult): number => r.inputBytes / MB / r.cpuSeconds;

function line(r: ScenarioResult): string {
  const label = `${r.name} (${r.mix})`.padEnd(26);
  return (
    `${label} ${(r.inputBytes / MB).toFixed(0).padStart(4)} MB  ${r.seconds.toFixed(2).padStart(6)} s  ` +
    `${wall(r).toFixed(0).padStart(5)} MB/s  ${perCpu(r).toFixed(0).padStart(5)} MB/cpu-s  ` +
    `RSS +${(r.rssGrowthBytes / MB).toFixed(1).padStart(6)} MB  leaked chunks ${r.leakedChunks}`
  );
}

async function main(): Promise<void> {
  const size = Number(values['size-mb']) * MB;
  const naiveSize = Number(values['naive-mb']) * MB;
  console.log(`masking benchmark: ${values['size-mb']} MB per streamed run, naive baseline on ${values['naive-mb']} MB`);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}\n`);

  const results: ScenarioResult[] = [];
  const run = async (name: ScenarioName, mix: Mix, bytes: number): Promise<ScenarioResult> => {
    const r = await inChild(name, mix, bytes);
    console.log(line(r));
    results.push(r);
    return r;
  };
  const direct = await run('direct', 'cluster', size);
  const list = await run('masked-list', 'cluster', size);
  const watch = await run('masked-watch', 'cluster', size);
  const listWorst = await run('masked-list', 'credentials', size);
  const watchWorst = await run('masked-watch', 'credentials', size);
  const listSmall = await run('masked-list', 'cluster', naiveSize);
  const naive = await run('naive', 'cluster', naiveSize);

  const masked = [list, watch, listWorst, watchWorst];
  const meets = (ok: boolean): string => (ok ? 'meets' : 'MISSES');
  const rates = (rs: ScenarioResult[]): string =>
    `wall ${Math.min(...rs.map(wall)).toFixed(0)} MB/s, cpu ${Math.min(...rs.map(perCpu)).toFixed(0)} MB/cpu-s`;
  const target = (rs: ScenarioResult[]): string => meets(Math.min(...rs.map(perCpu)) >= TARGET_MB_PER_SECOND);
  console.log('');
  console.log(`masked list / direct throughput (cluster):   ${(wall(list) / wall(direct)).toFixed(2)}`);
  console.log(`naive / streaming RSS growth (${values['naive-mb']} MB):      ${(naive.rssGrowthBytes / Math.max(listSmall.rssGrowthBytes, 1)).toFixed(1)}x`);
  console.log(`target >= ${TARGET_MB_PER_SECOND} MB/s per CPU second (slowest of list and watch):`);
  console.log(`  cluster mix:      ${target([list, watch])} (${rates([list, watch])})`);
  console.log(`  credentials mix:  ${target([listWorst, watchWorst])} (${rates([listWorst, watchWorst])})`);
  console.log(`target RSS growth <= ${TARGET_RSS_GROWTH_MB} MB (every streamed run): ${meets(Math.max(...masked.map((r) => r.rssGrowthBytes)) <= TARGET_RSS_GROWTH_MB * MB)}`);
  const leaks = results.filter((r) => r.name !== 'direct').reduce((n, r) => n + r.leakedChunks, 0);
  console.log(`no clear value in masked output:             ${meets(leaks === 0 && direct.leakedChunks > 0)}`);
}

if (values.scenario) {
  const result = await runScenario(values.scenario as ScenarioName, values.mix as Mix, Number(values.bytes));
  process.send?.(result);
} else {
  await main();
}
