import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isAirlockError } from '../errors.js';
import { interpolateString } from './interpolate.js';
import { parseConfig } from './load.js';

const env = { HOST: 'db.example.com', EMPTY: '', PORT: '5432', NESTED: '${HOST}' };

const filled: Array<[string, string, string]> = [
  ['a set variable', 'postgres://${HOST}/airlock', 'postgres://db.example.com/airlock'],
  ['two variables in one value', '${HOST}:${PORT}', 'db.example.com:5432'],
  ['a default for an unset variable', '${NOPE:-fallback}', 'fallback'],
  ['a default for an empty variable (as in the shell)', '${EMPTY:-fallback}', 'fallback'],
  ['the value over the default when set', '${HOST:-fallback}', 'db.example.com'],
  ['an empty default', 'a${NOPE:-}b', 'ab'],
  ['a default with colons and slashes', '${NOPE:-http://x:1/y}', 'http://x:1/y'],
  ['an empty variable without a default', '[${EMPTY}]', '[]'],
  ['an escaped reference kept literally', 'literal $${HOST}', 'literal ${HOST}'],
  ['a dollar that starts no reference', 'pa$$word $5 $HOST', 'pa$$word $5 $HOST'],
  ['text without references', 'plain', 'plain'],
  ['a value that itself looks like a reference, once only', '${NESTED}', '${HOST}'],
];

for (const [name, text, expected] of filled) {
  test(`interpolation fills ${name}`, () => {
    assert.deepEqual(interpolateString(text, env), { value: expected });
  });
}

const refused: Array<[string, string, 'missing' | 'malformed', RegExp]> = [
  ['an unset variable without a default', '${NOPE}', 'missing', /environment variable NOPE is not set/],
  ['an unclosed reference', '${HOST', 'malformed', /not closed/],
  ['an empty reference', '${}', 'malformed', /expected \$\{NAME\}/],
  ['a name with a dash', '${MY-VAR}', 'malformed', /expected \$\{NAME\}/],
  ['a shell default without the colon', '${NOPE-x}', 'malformed', /expected \$\{NAME\}/],
  ['a nested reference in a default', '${NOPE:-${HOST}}', 'malformed', /no nesting/],
];

for (const [name, text, kind, message] of refused) {
  test(`interpolation refuses ${name}`, () => {
    const result = interpolateString(text, env);
    assert.ok('problems' in result);
    assert.equal(result.problems[0]?.kind, kind);
    assert.match(result.problems[0]?.message ?? '', message);
  });
}

test('an unset variable is AIRLOCK_CONFIG_ENV_MISSING naming the variable, the line and the field', () => {
  const text = 'listen: 127.0.0.1:8443\nledger:\n  store: postgres\n  postgres:\n    url: ${AIRLOCK_LEDGER_URL}\n';
  assert.throws(
    () => parseConfig(text, { file: 'airlock.yaml', env: {} }),
    (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_CONFIG_ENV_MISSING') &&
      err.message.includes('airlock.yaml:5:10: ledger.postgres.url: environment variable AIRLOCK_LEDGER_URL is not set'),
  );
});

test('several unset variables are all reported, one per line', () => {
  const text = 'ledger:\n  chain: ${A}\n  witness:\n    - url: https://w.example.com\n      headers: { Authorization: "Bearer ${B}" }\n';
  assert.throws(
    () => parseConfig(text, { file: 'airlock.yaml', env: {} }),
    (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_CONFIG_ENV_MISSING') &&
      /2 problems:\nairlock\.yaml:2:10: ledger\.chain: .*A is not set.*\nairlock\.yaml:5:33: ledger\.witness\[0\]\.headers\.Authorization: .*B is not set/.test(err.message),
  );
});

test('a malformed reference is AIRLOCK_CONFIG_INVALID with its position', () => {
  assert.throws(
    () => parseConfig('ledger:\n  chain: ${oops\n', { file: 'airlock.yaml', env: {} }),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && err.message.includes('airlock.yaml:2:10: ledger.chain: `${` is not closed'),
  );
});

test('interpolated values fill strings, and digits or true/false fill numbers and booleans', () => {
  const config = parseConfig(
    'ledger:\n  chain: ${CHAIN}\n  inlineLimit: ${LIMIT}\n  checkpoint: { interval: "${EVERY:-45s}" }\nidentity:\n  builtin:\n    enabled: ${BUILTIN}\n',
    { env: { CHAIN: 'replica-2', LIMIT: '8192', BUILTIN: 'false' } },
  );
  assert.equal(config.ledger.chain, 'replica-2');
  assert.equal(config.ledger.inlineLimit, 8192);
  assert.equal(config.ledger.checkpoint.interval, 45_000);
  assert.equal(config.identity.builtin.enabled, false);
});

test('an escaped reference reaches the configuration as literal text', () => {
  const config = parseConfig('ledger:\n  witness:\n    - url: https://w.example.com\n      headers: { X-Template: "$${NOT_A_VAR}" }\n', { env: {} });
  assert.deepEqual(config.ledger.witness[0]?.headers, { 'X-Template': '${NOT_A_VAR}' });
});

test('a value cannot inject YAML structure: a newline in a variable stays inside the string', () => {
  const config = parseConfig('ledger:\n  postgres: { url: "${URL}" }\n', { env: { URL: 'postgres://h/db\nfailureMode: open' } });
  assert.equal(config.ledger.failureMode, 'closed');
});

test('keys are never interpolated', () => {
  assert.throws(
    () => parseConfig('${KEY}: 127.0.0.1:8443\n', { env: { KEY: 'listen' } }),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /unknown field `\$\{KEY\}`/.test(err.message),
  );
});

// Every field a secret could be pasted into by mistake, each given an invalid secret value.
const secretSlots = [
  'listen: ${SECRET}',
  'admin:\n  url: ${SECRET}',
  'log:\n  level: ${SECRET}',
  'ledger:\n  postgres:\n    url: ${SECRET}',
  'ledger:\n  checkpoint:\n    interval: ${SECRET}',
  'ledger:\n  chain: "${SECRET}/x"',
  'ledger:\n  inlineLimit: ${SECRET}',
  'ledger:\n  witness:\n    - url: ${SECRET}',
  'ledger:\n  witness:\n    - file: a\n      headers: { Authorization: "Bearer ${SECRET}" }',
  'identity:\n  builtin:\n    enabled: ${SECRET}',
  'identity:\n  issuers:\n    - { name: "${SECRET}", issuer: "${SECRET}", audience: x, algorithms: ["${SECRET}"] }',
];

test('an interpolated value never appears in an error message or its details', () => {
  fc.assert(
    fc.property(fc.constantFrom(...secretSlots), fc.stringMatching(/^[A-Za-z0-9+/=:@._~-]{6,40}$/), (slot, tail) => {
      const secret = `Zq9SECRET${tail}`;
      try {
        parseConfig(`${slot}\n`, { file: 'airlock.yaml', env: { SECRET: secret } });
      } catch (err) {
        assert.ok(isAirlockError(err), String(err));
        assert.ok(!err.message.includes('Zq9SECRET'), err.message);
        assert.ok(!JSON.stringify(err.details).includes('Zq9SECRET'));
        return;
      }
      assert.fail(`expected ${slot} to be refused`);
    }),
    { numRuns: 200 },
  );
});
