#!/usr/bin/env node
// `npm run bench -- NAME [args]` builds the project and runs dist/bench/NAME/index.js.
// Benchmarks print their figures and ratios; BENCHMARKS.md records them with this command.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const [name, ...args] = process.argv.slice(2);
const available = existsSync(`${root}bench`)
  ? readdirSync(`${root}bench`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
  : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
  process.exit(2);
}
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);
const result = spawnSync(process.execPath, ['--expose-gc', `${root}dist/bench/${name}/index.js`, ...args], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, AIRLOCK_LOG_LEVEL: process.env.AIRLOCK_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
