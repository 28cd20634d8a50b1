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

// The ledger's PostgreSQL tests start a real server (initdb into a temp dir). Install the
// server binaries when they are missing and we may (root with apt), so a fresh machine passes.
function ensurePostgres() {
  const found = spawnSync('sh', ['-c', 'command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1'], { stdio: 'ignore' });
  if (found.status === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
    console.error('PostgreSQL server binaries are missing: install the postgresql package (the ledger tests start a real server).');
    return;
  }
  console.error('installing PostgreSQL server binaries for the tests (apt-get install postgresql)…');
  spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null'], { stdio: 'inherit' });
}
ensurePostgres();

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
