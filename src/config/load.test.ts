import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAirlockError } from '../errors.js';
import { loadConfigFile, parseConfig } from './load.js';

/** configError parses text expected to be invalid and returns the error's message. */
function configError(text: string, env: Record<string, string> = {}): { code: string; message: string } {
  try {
    parseConfig(text, { file: 'airlock.yaml', env, baseDir: '/srv/airlock' });
  } catch (err) {
    assert.ok(isAirlockError(err), `expected an AirlockError, got ${String(err)}`);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected the configuration to be refused');
}

// Each row: a bad configuration, then the place, field and expectation its error must name.
const errorTable: Array<{ name: string; yaml: string; at: string; field: string; expected: RegExp }> = [
  { name: 'a listener without a port', yaml: 'listen: localhost\n', at: '1:9', field: 'listen', expected: /expected HOST:PORT.*port is missing/ },
  { name: 'a port out of range', yaml: 'listen: 127.0.0.1:70000\n', at: '1:9', field: 'listen', expected: /0 to 65535/ },
  { name: 'an unbracketed IPv6 listener', yaml: 'listen: ::1:8443\n', at: '1:9', field: 'listen', expected: /IPv6 address in brackets/ },
  { name: 'a number where HOST:PORT belongs', yaml: 'listen: 8443\n', at: '1:9', field: 'listen', expected: /expected HOST:PORT/ },
  { name: 'a nested listener without a host', yaml: 'admin:\n  listen: ":8444"\n', at: '2:11', field: 'admin.listen', expected: /host is missing/ },
  { name: 'an admin URL that is not a URL', yaml: 'admin:\n  url: airlock.local\n', at: '2:8', field: 'admin.url', expected: /expected an http or https URL/ },
  { name: 'an unknown log level', yaml: 'log:\n  level: loud\n', at: '2:10', field: 'log.level', expected: /expected one of trace, debug, info, warn, error, fatal, silent/ },
  { name: 'a scalar where a section belongs', yaml: 'log: debug\n', at: '1:6', field: 'log', expected: /expected a map.*got a string/ },
  { name: 'a duration in words', yaml: 'ledger:\n  checkpoint:\n    interval: soon\n', at: '3:15', field: 'ledger.checkpoint.interval', expected: /expected a duration such as/ },
  { name: 'a negative entry count', yaml: 'ledger:\n  checkpoint:\n    entries: -5\n', at: '3:14', field: 'ledger.checkpoint.entries', expected: /whole number of entries, at least 1/ },
  { name: 'a fractional byte limit', yaml: 'ledger:\n  inlineLimit: 1.5\n', at: '2:16', field: 'ledger.inlineLimit', expected: /whole number of bytes/ },
  { name: 'an unknown ledger store', yaml: 'ledger:\n  store: mysql\n', at: '2:10', field: 'ledger.store', expected: /expected one of sqlite, postgres/ },
  { name: 'postgres without a URL', yaml: 'ledger:\n  store: postgres\n', at: '2:3', field: 'ledger.postgres.url', expected: /required when store is postgres/ },
  { name: 'a postgres URL with another scheme', yaml: 'ledger:\n  postgres:\n    url: mysql://db/x\n', at: '3:10', field: 'ledger.postgres.url', expected: /scheme must be postgres or postgresql/ },
  { name: 'an unknown failure mode', yaml: 'ledger:\n  failureMode: maybe\n', at: '2:16', field: 'ledger.failureMode', expected: /expected closed .* or open/ },
  { name: 'a witness with both file and url', yaml: 'ledger:\n  witness:\n    - file: w.jsonl\n      url: https://w.example.com\n', at: '3:7', field: 'ledger.witness[0]', expected: /exactly one of `file` or `url`/ },
  { name: 'headers on a file witness', yaml: 'ledger:\n  witness:\n    - file: w.jsonl\n      headers: { A: b }\n', at: '4:16', field: 'ledger.witness[0].headers', expected: /only applies to a `url` witness/ },
  { name: 'a header name with a space', yaml: 'ledger:\n  witness:\n    - url: https://w.example.com\n      headers: { "x y": b }\n', at: '4:18', field: 'ledger.witness[0].headers["x y"]', expected: /expected an HTTP header name/ },
  { name: 'an issuer without an audience', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: https://idp.example.com\n', at: '3:7', field: 'identity.issuers[0].audience', expected: /missing; expected an audience/ },
  { name: 'an empty audience list', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: https://idp.example.com\n      audience: []\n', at: '5:17', field: 'identity.issuers[0].audience', expected: /expected at least one audience/ },
  { name: 'a plain-http issuer', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: http://idp.example.com\n      audience: airlock\n', at: '4:15', field: 'identity.issuers[0].issuer', expected: /expected an https URL.*allowInsecure/ },
  { name: 'a plain-http JWKS URI', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: https://idp.example.com\n      jwksUri: http://idp.example.com/keys\n      audience: airlock\n', at: '5:16', field: 'identity.issuers[0].jwksUri', expected: /expected an https URL/ },
  { name: 'the none algorithm', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: https://idp.example.com\n      audience: airlock\n      algorithms: [RS256, none]\n', at: '6:27', field: 'identity.issuers[0].algorithms[1]', expected: /`none` is refused/ },
  { name: 'an HMAC algorithm', yaml: 'identity:\n  issuers:\n    - name: corp\n      issuer: https://idp.example.com\n      audience: airlock\n      algorithms: [HS256]\n', at: '6:20', field: 'identity.issuers[0].algorithms[0]', expected: /`HS256` is refused: HMAC/ },
  { name: 'an issuer name with capitals', yaml: 'identity:\n  issuers:\n    - name: Corp\n      issuer: https://idp.example.com\n      audience: airlock\n', at: '3:13', field: 'identity.issuers[0].name', expected: /lower-case letters, digits and dashes/ },
  { name: 'two issuers with one name', yaml: 'identity:\n  issuers:\n    - { name: corp, issuer: "https://a.example.com", audience: x }\n    - { name: corp, issuer: "https://b.example.com", audience: x }\n', at: '4:15', field: 'identity.issuers[1].name', expected: /must be unique; issuers\[0\]/ },
  { name: 'an unknown issuer kind', yaml: 'identity:\n  issuers:\n    - { name: corp, issuer: "https://a.example.com", audience: x, kind: robot }\n', at: '3:73', field: 'identity.issuers[0].kind', expected: /expected one of auto, agent, human/ },
  { name: 'a clock skew in words', yaml: 'identity:\n  issuers:\n    - { name: corp, issuer: "https://a.example.com", audience: x, clockSkew: a bit }\n', at: '3:78', field: 'identity.issuers[0].clockSkew', expected: /expected a duration/ },
  { name: 'an hour of clock skew', yaml: 'identity:\n  issuers:\n    - { name: corp, issuer: "https://a.example.com", audience: x, clockSkew: 1h }\n', at: '3:78', field: 'identity.issuers[0].clockSkew', expected: /at most 5m/ },
  { name: 'a yes/no word for a boolean', yaml: 'identity:\n  builtin:\n    enabled: yes\n', at: '3:14', field: 'identity.builtin.enabled', expected: /expected true or false, got a string/ },
  { name: 'a connection without a type', yaml: 'connections:\n  - name: prod\n', at: '2:5', field: 'connections[0].type', expected: /missing; expected a connection with `type: kubernetes`/ },
  { name: 'two connections with one name', yaml: 'connections:\n  - { name: prod, type: kubernetes, upstream: { inCluster: true } }\n  - { name: prod, type: kubernetes, upstream: { inCluster: true } }\n', at: '3:13', field: 'connections[1].name', expected: /must be unique/ },
  { name: 'a list at the top level', yaml: '- listen: 127.0.0.1:8443\n', at: '1:1', field: '(top level)', expected: /expected a map of settings.*got a list/ },
  { name: 'an empty data path', yaml: 'data: ""\n', at: '1:7', field: 'data', expected: /expected a file path, got an empty string/ },
];

for (const row of errorTable) {
  test(`a config with ${row.name} is refused naming file:line:column, the field and the expectation`, () => {
    const { code, message } = configError(row.yaml);
    assert.equal(code, 'AIRLOCK_CONFIG_INVALID');
    assert.ok(message.includes(`airlock.yaml:${row.at}: ${row.field}: `), `message lacks "airlock.yaml:${row.at}: ${row.field}: "\n${message}`);
    assert.match(message, row.expected);
  });
}

const unknownKeys: Array<[string, string, string, RegExp]> = [
  ['a misspelt top-level key', 'lisen: 127.0.0.1:8443\n', 'airlock.yaml:1:1: lisen: ', /unknown field `lisen`; did you mean `listen`\?/],
  ['a snake_case key', 'identity:\n  issuers:\n    - name: corp\n      issuer: https://a.example.com\n      audience: x\n      jwks_uri: https://a.example.com/k\n', 'airlock.yaml:6:7: identity.issuers[0].jwks_uri: ', /did you mean `jwksUri`\?/],
  ['a mis-cased key', 'ledger:\n  failuremode: open\n', 'airlock.yaml:2:3: ledger.failuremode: ', /did you mean `failureMode`\?/],
  ['a key like nothing known', 'ledger:\n  colour: blue\n', 'airlock.yaml:2:3: ledger.colour: ', /unknown field `colour`; expected one of store, sqlite, postgres, chain/],
];

for (const [name, yaml, place, expected] of unknownKeys) {
  test(`${name} is an error at the key itself, never silently ignored`, () => {
    const { code, message } = configError(yaml);
    assert.equal(code, 'AIRLOCK_CONFIG_INVALID');
    assert.ok(message.includes(place), `message lacks "${place}"\n${message}`);
    assert.match(message, expected);
  });
}

test('every problem in a file is reported, one per line, in file order', () => {
  const { message } = configError('listen: nowhere\nlog:\n  level: loud\nlisen: x\n');
  const lines = message.split('\n');
  assert.match(lines[0] ?? '', /3 problems:$/);
  assert.deepEqual(
    lines.slice(1).map((line) => line.split(': ')[0]),
    ['airlock.yaml:1:9', 'airlock.yaml:3:10', 'airlock.yaml:4:1'],
  );
});

test('a YAML syntax error names the file, line and column', () => {
  const { code, message } = configError('listen: 127.0.0.1:8443\nadmin: : :\n');
  assert.equal(code, 'AIRLOCK_CONFIG_INVALID');
  assert.match(message, /airlock\.yaml:2:\d+: YAML syntax: /);
});

test('a __proto__ key is an unknown field, never a way to lend settings by inheritance', () => {
  const { message } = configError('ledger:\n  __proto__: { failureMode: open }\n');
  assert.match(message, /airlock\.yaml:2:3: ledger\.__proto__: unknown field `__proto__`/);
});

test('a duplicated key is a YAML error rather than the last one silently winning', () => {
  const { message } = configError('ledger:\n  failureMode: closed\n  failureMode: open\n');
  assert.match(message, /airlock\.yaml:3:3: YAML syntax: .*unique/);
});

test('an empty file, or one with only comments, is the default configuration', () => {
  for (const text of ['', '# nothing yet\n', '---\n']) {
    const config = parseConfig(text, { file: 'airlock.yaml', env: {}, baseDir: '/srv/airlock' });
    assert.equal(config.listen, '127.0.0.1:8443');
    assert.deepEqual(config.admin, { listen: '127.0.0.1:8444', url: 'http://127.0.0.1:8444' });
    assert.equal(config.data, resolve('/srv/airlock', '.airlock'));
    assert.equal(config.policy, undefined);
    assert.equal(config.log.level, 'info');
    assert.deepEqual(config.identity.builtin, { enabled: true, audience: 'airlock', maxTtl: 86_400_000 });
    assert.equal(config.ledger.store, 'sqlite');
    assert.equal(config.ledger.sqlite.path, resolve('/srv/airlock', '.airlock', 'ledger.db'));
    assert.deepEqual(config.ledger.checkpoint, { entries: 1000, interval: 60_000 });
    assert.equal(config.ledger.failureMode, 'closed');
    assert.deepEqual(config.connections, []);
  }
});

test('a key with no value means not set: its default applies', () => {
  const config = parseConfig('admin:\n  # listen: 0.0.0.0:8444\npolicy:\nidentity:\n  builtin:\n', { env: {}, baseDir: '/srv' });
  assert.equal(config.admin.listen, '127.0.0.1:8444');
  assert.equal(config.policy, undefined);
  assert.equal(config.identity.builtin.enabled, true);
});

test('durations are normalised to milliseconds and issuer defaults are filled in', () => {
  const config = parseConfig(
    'identity:\n  builtin: { maxTtl: 1h30m }\n  issuers:\n    - { name: corp, issuer: "https://a.example.com", audience: [x, y], clockSkew: 5 }\nledger:\n  checkpoint: { interval: 500ms }\n',
    { env: {} },
  );
  assert.equal(config.identity.builtin.maxTtl, 5_400_000);
  assert.equal(config.ledger.checkpoint.interval, 500);
  const [issuer] = config.identity.issuers;
  assert.deepEqual(issuer, {
    name: 'corp',
    issuer: 'https://a.example.com',
    audience: ['x', 'y'],
    groupsClaim: 'groups',
    subjectClaim: 'sub',
    subjectPrefix: 'corp:',
    groupsPrefix: '',
    clockSkew: 5_000,
    kind: 'auto',
    allowInsecure: false,
  });
});

test('an http issuer is accepted only with allowInsecure: true', () => {
  const config = parseConfig('identity:\n  issuers:\n    - { name: dev, issuer: "http://127.0.0.1:9000", audience: x, allowInsecure: true }\n', { env: {} });
  assert.equal(config.identity.issuers[0]?.issuer, 'http://127.0.0.1:9000');
});

test('relative paths are resolved against the config file directory; the SQLite path against data', () => {
  const config = parseConfig(
    [
      'data: ./state',
      'policy: policies/main.yaml',
      'identity:',
      '  issuers:',
      '    - { name: corp, issuer: "https://a.example.com", audience: x, caFile: ../ca.pem }',
      'ledger:',
      '  sqlite: { path: chain/ledger.db }',
      '  witness:',
      '    - file: witness.jsonl',
      '    - file: /var/lib/witness/abs.jsonl',
      '',
    ].join('\n'),
    { file: 'conf/airlock.yaml', env: {}, baseDir: '/etc/airlock' },
  );
  assert.equal(config.data, '/etc/airlock/state');
  assert.equal(config.policy, '/etc/airlock/policies/main.yaml');
  assert.equal(config.identity.issuers[0]?.caFile, '/etc/ca.pem');
  assert.equal(config.ledger.sqlite.path, '/etc/airlock/state/chain/ledger.db');
  assert.deepEqual(config.ledger.witness, [{ file: '/etc/airlock/witness.jsonl' }, { file: '/var/lib/witness/abs.jsonl' }]);
});

test('a kubernetes connection gets its defaults and its paths resolved against the file', () => {
  const config = parseConfig('connections:\n  - name: prod\n    type: kubernetes\n    upstream: { url: "https://k8s.example.com", tokenFile: token, ca: ca.crt }\n', { env: {}, baseDir: '/etc/airlock' });
  const [prod] = config.connections;
  assert.equal(prod?.upstream.tokenFile, '/etc/airlock/token');
  assert.equal(prod?.upstream.ca, '/etc/airlock/ca.crt');
  assert.equal(prod?.identity.mode, 'impersonate');
  assert.equal(prod?.maxRequestBody, 3 * 1024 * 1024);
});

test('loadConfigFile resolves paths against the file directory and names the file in errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc'));
  const good = join(dir, 'etc', 'airlock.yaml');
  writeFileSync(good, 'data: ../data\npolicy: policy.yaml\n');
  const config = loadConfigFile(good, { env: {} });
  assert.equal(config.data, join(dir, 'data'));
  assert.equal(config.policy, join(dir, 'etc', 'policy.yaml'));

  const bad = join(dir, 'etc', 'bad.yaml');
  writeFileSync(bad, 'listen: nowhere\n');
  assert.throws(() => loadConfigFile(bad, { env: {} }), (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && err.message.includes(`${bad}:1:9: listen: `));
});

test('a missing file is AIRLOCK_CONFIG_NOT_FOUND naming the path; a directory is refused plainly', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope.yaml');
  assert.throws(() => loadConfigFile(missing), (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_NOT_FOUND') && err.message.includes(missing));
  assert.throws(() => loadConfigFile(dir), (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /is a directory/.test(err.message));
});

test('errors carry structured problems for tools, alongside the message', () => {
  try {
    parseConfig('listen: nowhere\n', { file: 'a.yaml', env: {} });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'));
    assert.deepEqual(err.details?.problems, [
      { file: 'a.yaml', line: 1, column: 9, field: 'listen', message: 'expected HOST:PORT, e.g. 127.0.0.1:8443, 0.0.0.0:8443 or [::1]:8443 (the port is missing)' },
    ]);
  }
});

test('an alias bomb is refused instead of expanding', () => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const { code } = configError(`${lines.join('\n')}\n`);
  assert.equal(code, 'AIRLOCK_CONFIG_INVALID');
});
