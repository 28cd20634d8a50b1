import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCatalog } from './errors.js';

/** The repository root: the nearest directory with a package.json (works from src/ and dist/src/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

test('every error code in the catalog has a "how to solve" row in docs/errors.md', () => {
  const docs = readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8');
  const missing = Object.keys(errorCatalog).filter((code) => !docs.includes(`| \`${code}\` |`));
  assert.deepEqual(missing, []);
});
