import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig, redactConfig, redactUrl } from './describe.js';
import { parseConfig } from './load.js';

const secret = 'Zq9-hunter2-SECRET';

const configWithSecrets = parseConfig(
  [
    'ledger:',
    '  store: postgres',
    '  postgres:',
    '    url: postgres://airlock:${PW}@db.example.com:5432/airlock?sslmode=require&sslpassword=${PW}',
    '  witness:',
    '    - url: https://witness.example.com/checkpoints?token=${PW}',
    '      headers: { Authorization: "Bearer ${PW}", X-Api-Key: "${PW}" }',
    '    - file: /var/lib/witness/checkpoints.jsonl',
    'identity:',
    '  issuers:',
    '    - { name: corp, issuer: "https://login.example.com/realms/corp", audience: airlock }',
    'connections:',
    '  - name: prod',
    '    type: kubernetes',
    '    upstream:',
    '      url: "https://k8s.example.com:6443/?token=${PW}"',
    '      token: "${PW}"',
    '',
  ].join('\n'),
  { file: 'airlock.yaml', env: { PW: secret }, baseDir: '/etc/airlock' },
);

test('the loaded configuration does hold the secret (so the checks below are meaningful)', () => {
  assert.ok(JSON.stringify(configWithSecrets).includes(secret));
});

test('describeConfig never prints a password, a credential parameter or a header value', () => {
  const summary = describeConfig(configWithSecrets);
  assert.ok(!summary.includes(secret), summary);
  assert.match(summary, /postgres postgres:\/\/airlock:REDACTED@db\.example\.com:5432\/airlock\?sslmode=require&sslpassword=REDACTED schema airlock/);
  assert.match(summary, /url https:\/\/witness\.example\.com\/checkpoints\?token=REDACTED \(Authorization: \[redacted\], X-Api-Key: \[redacted\]\)/);
  assert.match(summary, /file \/var\/lib\/witness\/checkpoints\.jsonl/);
  assert.match(summary, /OIDC: corp \(https:\/\/login\.example\.com\/realms\/corp\)/);
  assert.match(summary, /connections +prod \(kubernetes\)/);
});

test('redactConfig keeps the shape but no secret, including in pass-through connection fields', () => {
  const safe = redactConfig(configWithSecrets);
  assert.ok(!JSON.stringify(safe).includes(secret), JSON.stringify(safe));
  assert.equal(safe.ledger.store, 'postgres');
  assert.deepEqual(safe.ledger.witness[0]?.headers, { Authorization: '[redacted]', 'X-Api-Key': '[redacted]' });
  assert.equal(safe.connections[0]?.upstream.token, '[redacted]');
  assert.equal(safe.connections[0]?.upstream.url, 'https://k8s.example.com:6443/?token=REDACTED');
});

test('describeConfig summarises the defaults in a few readable lines', () => {
  const summary = describeConfig(parseConfig('', { env: {}, baseDir: '/srv' }));
  assert.deepEqual(summary.split('\n').map((line) => line.split(/ {2,}/)), [
    ['data', '/srv/.airlock'],
    ['listen', '127.0.0.1:8443'],
    ['admin', '127.0.0.1:8444 (http://127.0.0.1:8444)'],
    ['log level', 'info'],
    ['policy', 'embedded default policy'],
    ['identity', 'built-in issuer (audience airlock, tokens up to 1d); no OIDC issuers'],
    ['ledger', 'sqlite /srv/.airlock/ledger.db; chain main; checkpoint every 1000 entries or 1m; fails closed'],
    ['witnesses', 'none'],
    ['connections', 'none'],
  ]);
});

const urls: Array<[string, string, string]> = [
  ['a URL without credentials is unchanged', 'https://login.example.com/realms/corp', 'https://login.example.com/realms/corp'],
  ['a user without a password is kept', 'postgres://airlock@db/airlock', 'postgres://airlock@db/airlock'],
  ['a password is replaced', 'postgres://u:p%40ss@db/x', 'postgres://u:REDACTED@db/x'],
  ['a credential query parameter is replaced', 'https://w.example.com/?access_token=abc&x=1', 'https://w.example.com/?access_token=REDACTED&x=1'],
  ['user-info without a scheme is hidden whole', 'user:pw@host', '[redacted]'],
  ['unparseable text with an @ is hidden whole', 'pw@host:5432/db', '[redacted]'],
];

for (const [name, input, expected] of urls) {
  test(`redactUrl: ${name}`, () => {
    assert.equal(redactUrl(input), expected);
  });
}
