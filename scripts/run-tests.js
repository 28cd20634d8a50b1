#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner, in parallel.
// Test files are listed explicitly: node 20 would otherwise treat every .js file under a
// directory named `test` (fixtures included) as a test file.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = collect(join(root, 'dist'), [])
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/ — run `npm run build` first');
  process.exit(1);
}
const concurrency = Math.max(2, availableParallelism() * 2);
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, AIRLOCK_LOG_LEVEL: process.env.AIRLOCK_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
