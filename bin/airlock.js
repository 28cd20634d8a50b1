#!/usr/bin/env node
// The airlock command. The TypeScript sources are compiled to dist/ by `npm ci` (the
// package's `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('airlock: dist/ is missing; run `npm run build` (or `npm ci`) in the airlock checkout first.');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
