import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeConfig } from './describe.js';
import { loadConfigFile, parseConfig } from './load.js';

/** The repository root: the nearest ancestor with package.json and examples/ (works from src/ and dist/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples')))) {
    const parent = dirname(dir);
    assert.notEqual(parent, dir, 'repository root not found');
    dir = parent;
  }
  return dir;
}

// What the examples expect from the environment; the values stand in for real secrets.
const env = {
  AIRLOCK_LEDGER_URL: 'postgres://airlock:Zq9-example-SECRET@ledger-db.example.com:5432/airlock?sslmode=verify-full',
  AIRLOCK_REPLICA: 'airlock-0',
  WITNESS_TOKEN: 'Zq9-witness-SECRET',
};

const examplesDir = join(repositoryRoot(), 'examples');
const examples = readdirSync(examplesDir).filter((name) => /^airlock.*\.ya?ml$/.test(name)).sort();

test('the examples directory holds the documented example configurations', () => {
  for (const name of ['airlock.yaml', 'airlock-oidc.yaml', 'airlock-postgres.yaml']) assert.ok(examples.includes(name), name);
});

for (const name of examples) {
  test(`examples/${name} is a valid configuration, and its summary shows no secret`, () => {
    const config = loadConfigFile(join(examplesDir, name), { env });
    const summary = describeConfig(config);
    assert.ok(!summary.includes('SECRET'), summary);
  });
}

test('examples/airlock.yaml spells out the defaults (apart from its witness)', () => {
  const example = loadConfigFile(join(examplesDir, 'airlock.yaml'), { env: {} });
  const defaults = parseConfig('', { env: {}, baseDir: examplesDir });
  assert.deepEqual({ ...example, ledger: { ...example.ledger, witness: [] } }, defaults);
});

test('examples/airlock-postgres.yaml takes its ledger URL and chain from the environment', () => {
  const config = loadConfigFile(join(examplesDir, 'airlock-postgres.yaml'), { env });
  assert.equal(config.ledger.store, 'postgres');
  assert.equal(config.ledger.postgres.url, env.AIRLOCK_LEDGER_URL);
  assert.equal(config.ledger.chain, 'airlock-0');
  assert.equal(config.log.level, 'info');
});
