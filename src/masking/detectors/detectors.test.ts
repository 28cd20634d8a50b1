import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildTriggerHold, findWithRules, type Detector, type RegexRule } from './detector.js';
import { isJwtHeader, jwtDetector } from './jwt-detector.js';
import { luhnValid, piiDetector } from './pii-detector.js';
import { privateKeyDetector } from './private-key-detector.js';
import { DEFAULT_DETECTORS, selectDetectors } from './registry.js';
import { secretPatternsDetector } from './secret-patterns-detector.js';
import { secretlintScan } from './secretlint-deep-scan.js';
import { isAirlockError } from '../../errors.js';
import { isPlaceholder } from '../placeholder.js';

// Built at run time so no scanner flags this file; none of these is a real credential.
const GH = 'ghp_' + 'A1b2C3d4E5'.repeat(3) + 'f6G7h8';
const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPL2';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
const SLACK = 'xoxb-' + '1234567890-0987654321-' + 'AbCdEfGhIjKlMnOpQrStUvWx';
const B64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${B64({ alg: 'RS256', kid: 'k1' })}.${B64({ sub: 'system:serviceaccount:default:x', exp: 1 })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
const PEM = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK', '-----END RSA PRIVATE KEY-----'].join('\n');

const ORDINARY = [
  'total 48\ndrwxr-xr-x  5 root root 4096 Jan 12 10:22 .\n-rw-r--r--  1 app  app  1873 Feb  3 09:01 package-lock.json',
  'USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\nroot         1  0.0  0.1 167728 11896 ?        Ss   10:02   0:03 /sbin/init splash',
  'commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev <dev@example.invalid>\n    Merge pull request #1234',
  'a1b2c3d4-e5f6-7890-abcd-ef1234567890 550e8400-e29b-41d4-a716-446655440000',
  'pod/api-7d9f8b6c5-x2x9q   1/1   Running   0   3d4h\nreplicaset.apps/api-7d9f8b6c5   3   3   3   12d',
  'sha256:9b2f1c1a5b0e7c9d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d',
  'Jan 12 10:22:33.123456 kubelet[1234]: I0112 10:22:33.123456 1234 kubelet.go:1234] "SyncLoop" pods=1234567890',
  'dGhpcyBpcyBqdXN0IHNvbWUgcmFuZG9tIGJpbmFyeSBkYXRhIGVuY29kZWQgaW4gYmFzZTY0IQ==',
  '2024-01-12T10:22:33Z  version=1.29.3  duration=12345ms bytes=4111111111',
  'Type:  kubernetes.io/service-account-token\nData\n====\nca.crt:     1066 bytes\nnamespace:  7 bytes',
];

interface Row { readonly name: string; readonly detector: Detector; readonly text: string; readonly secret?: string; readonly kind?: string }

const positive: Row[] = [
  { name: 'AWS access key id', detector: secretPatternsDetector, text: `id=${AWS_ID} ok`, secret: AWS_ID, kind: 'aws-access-key-id' },
  { name: 'AWS secret key in an env line', detector: secretPatternsDetector, text: `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}\n`, secret: AWS_SECRET },
  { name: 'GitHub classic token', detector: secretPatternsDetector, text: `token ${GH}\n`, secret: GH, kind: 'github-token' },
  { name: 'GitHub fine-grained token', detector: secretPatternsDetector, text: `github_pat_${'11ABCDEFG0'.repeat(5)}x `, secret: `github_pat_${'11ABCDEFG0'.repeat(5)}x` },
  { name: 'Slack bot token', detector: secretPatternsDetector, text: `SLACK=${SLACK}`, secret: SLACK },
  { name: 'database URL password', detector: secretPatternsDetector, text: 'DATABASE_URL=postgres://app:S3cr3tPw@db:5432/app', secret: 'S3cr3tPw', kind: 'database-password' },
  { name: 'password assignment with blanks', detector: secretPatternsDetector, text: 'password = hunter2hunter\n', secret: 'hunter2hunter' },
  // The first assignment's "value" is the name of the second: both values are masked.
  { name: 'assignment whose value names another credential', detector: secretPatternsDetector, text: 'password= DB_PASSWORD = hunter2hunter\n', secret: 'hunter2hunter' },
  // Only a whole placeholder is left be: a value dressed up as one is still a value.
  { name: 'a value that only starts like a placeholder', detector: secretPatternsDetector, text: 'password=airlock-masked:RealSecretValue\n', secret: 'airlock-masked:RealSecretValue' },
  { name: 'JSON client_secret', detector: secretPatternsDetector, text: '{"client_secret": "abcdEFGH1234"}', secret: 'abcdEFGH1234' },
  { name: 'JWT', detector: jwtDetector, text: `Authorization: Bearer ${JWT}\n`, secret: JWT, kind: 'jwt' },
  { name: 'PEM block across lines', detector: privateKeyDetector, text: `key:\n${PEM}\nafter`, secret: PEM, kind: 'private-key' },
  { name: 'PEM with escaped newlines (GCP service account JSON)', detector: privateKeyDetector, text: `{"private_key": "${PEM.replaceAll('\n', '\\n')}"}`, secret: PEM.replaceAll('\n', '\\n') },
  { name: 'OpenSSH key', detector: privateKeyDetector, text: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----', secret: 'b3BlbnNzaC1rZXk' },
  { name: 'email', detector: piiDetector, text: 'contact alice.smith+ops@example.co.uk today', secret: 'alice.smith+ops@example.co.uk', kind: 'email' },
  { name: 'international phone', detector: piiDetector, text: 'call +44 20 7946 0958.', secret: '+44 20 7946 0958', kind: 'phone' },
  { name: 'US phone', detector: piiDetector, text: 'tel (555) 123-4567', secret: '(555) 123-4567', kind: 'phone' },
  { name: 'card with Luhn', detector: piiDetector, text: 'card 4111 1111 1111 1111 exp', secret: '4111 1111 1111 1111', kind: 'card-number' },
  { name: 'SSN', detector: piiDetector, text: 'ssn 123-45-6789', secret: '123-45-6789', kind: 'ssn' },
];

for (const row of positive) {
  test(`detector ${row.detector.name} finds ${row.name} and covers the whole value`, () => {
    const found = row.detector.find(row.text);
    assert.ok(found.length > 0, 'nothing found');
    const secret = row.secret ?? '';
    const at = row.text.indexOf(secret);
    assert.ok(found.some((f) => f.start <= at && f.end >= at + secret.length), JSON.stringify(found));
    if (row.kind) assert.ok(found.some((f) => f.kind === row.kind));
  });
}

const negative: Array<readonly [string, string]> = [
  ['card number that fails Luhn', '4111 1111 1111 1112'],
  ['JWT-shaped text whose header has no alg', `${B64({ typ: 'x' })}.${B64({ a: 1 })}.sig`],
  ['dotted names', 'apps.v1.deployments eyJunk.eyJunk.x'],
  ['placeholder assignment', 'password=${DB_PASSWORD} token: null'],
  ['managedFields naming a password field', '{"f:data":{"f:username":{},"f:password":{}}}}],"annotations":{}'],
  ["airlock's own placeholders, plain and base64", 'token=airlock-masked:0123456789ab "password": "YWlybG9jay1tYXNrZWQ6MDEyMzQ1Njc4OWFi"'],
  ['PUBLIC key block', '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----'],
];
for (const [name, text] of [...negative, ...ORDINARY.map((t, i) => [`ordinary shell output #${i + 1}`, t] as const)]) {
  test(`no detector fires on ${name}`, () => {
    for (const d of selectDetectors(['secretlint', 'jwt', 'private-key'])) assert.deepEqual(d.find(text), [], d.name);
  });
}

test('the PII detector does not fire on ordinary shell output other than the planted e-mail', () => {
  for (const text of ORDINARY) {
    const kinds = piiDetector.find(text).map((f) => f.kind);
    assert.ok(kinds.every((k) => k === 'email'), `${text}: ${kinds.join(',')}`);
  }
});

test('luhnValid accepts test card numbers and refuses altered ones', () => {
  assert.equal(luhnValid('4111111111111111'), true);
  assert.equal(luhnValid('5500 0000 0000 0004'), true);
  assert.equal(luhnValid('4111111111111112'), false);
  assert.equal(luhnValid('0000000000000000'), false);
});

test('an unterminated PEM block is found to the end (fail closed)', () => {
  const text = 'x\n-----BEGIN PRIVATE KEY-----\nMIIEv';
  assert.deepEqual(privateKeyDetector.find(text), [{ start: 2, end: text.length, kind: 'private-key' }]);
});

test('pendingStart holds a trigger prefix but releases ordinary keystrokes', () => {
  const rows: Array<readonly [Detector, string, number]> = [
    [secretPatternsDetector, 'ls', 2],
    [secretPatternsDetector, 'echo gh', 5],
    [secretPatternsDetector, 'x=AKI', 2],
    [secretPatternsDetector, 'password = hun', 0],
    [jwtDetector, 'Bearer eyJhb', 7],
    [privateKeyDetector, 'k\n-----BEGIN RSA PRI', 2],
    [piiDetector, 'mail bob@exa', 5],
  ];
  for (const [d, text, want] of rows) assert.equal(d.pendingStart?.(text), want, `${d.name} ${text}`);
});

test('a case-insensitive hold starts at its trigger even after characters that lower-case to two (İ)', () => {
  const hold = buildTriggerHold(['password', 'token'], true);
  assert.equal(hold('İİİİpassword'), 4, 'the key is held from its first letter');
  assert.equal(hold('x İİİİİİİİİİPASSWORD'), 12);
  assert.equal(hold('İİİİİİİİİİİİİİİİİİİİtok'), 20, 'and so is a key still being typed');
  assert.equal(hold('İİİİ done'), 9, 'text without a trigger is released');
});

test('selectDetectors refuses an unknown name with a config error', () => {
  assert.equal(selectDetectors(DEFAULT_DETECTORS).length, 3);
  assert.throws(() => selectDetectors(['secretlint', 'nope']), (e) => isAirlockError(e, 'AIRLOCK_CONFIG_INVALID'));
});

test('the secretlint deep scan finds what its preset covers, as ranges', async () => {
  const text = `one\nGITHUB=${GH}\nAWS_ACCESS_KEY_ID=${AWS_ID}\n`;
  const found = await secretlintScan(text);
  assert.ok(found.some((f) => text.slice(f.start, f.end).includes(GH)), JSON.stringify(found));
});

// The secret patterns as plainly written: one regex per rule, each scanning the whole text. The
// detector runs faster forms (a shared trigger before the token scans, the database URL found
// from its `://`, the assignment's lookbehind checked outside its regex); they must find the
// very same ranges, in the same order.
const ASSIGN_KEYS = 'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth';
const plainRules: readonly RegexRule[] = [
  { kind: 'aws-access-key-id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])/dg },
  { kind: 'aws-secret-access-key', pattern: /aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi, group: 1 },
  { kind: 'github-token', pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])/dg },
  { kind: 'github-token', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/dg },
  { kind: 'slack-token', pattern: /(?<![A-Za-z0-9-])xox[baprsoe]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/dg },
  { kind: 'slack-token', pattern: /(?<![A-Za-z0-9-])xapp-\d-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/dg },
  { kind: 'slack-webhook', pattern: /hooks\.slack\.com\/(?:services|workflows)\/([A-Za-z0-9+/_-]{20,})/dg, group: 1 },
  { kind: 'gcp-api-key', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/dg },
  { kind: 'stripe-key', pattern: /(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{20,247}(?![A-Za-z0-9_])/dg },
  { kind: 'npm-token', pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/dg },
  {
    kind: 'database-password',
    pattern: /(?<![A-Za-z0-9+.-])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|clickhouse|jdbc:[a-z]+):\/\/[^\s:/@]+:([^\s@/]+)@/dg,
    group: 1,
  },
  {
    kind: 'credential-assignment',
    pattern: new RegExp(`(?<![A-Za-z])(?:${ASSIGN_KEYS})[A-Za-z0-9_.-]*["']?[ \\t]*[:=][ \\t]*["']?([^\\s"'\`,;]{6,})`, 'dgi'),
    group: 1,
    accept: (v) => !/^(?:<?masked|\*+|x+|null|none|true|false|undefined|\$\{?[A-Za-z_]+\}?)$/i.test(v) && !/^[{[]/.test(v) && !isPlaceholder(v),
  },
];

const fragments = [
  GH, AWS_ID, AWS_SECRET, SLACK, `github_pat_${'11ABCDEFG0'.repeat(3)}`, `AIza${'x1_-'.repeat(9).slice(1)}`, `sk_live_${'a1'.repeat(12)}`, `npm_${'N0'.repeat(18)}`,
  'xapp-1-ABCDEFGHIJKL', 'hooks.slack.com/services/T000/B000/abcdefghijklmnopqrstuv', 'ASIA', 'AIza', 'ghp_', 'xox', 'npm_',
  'postgres://app:S3cr3tPw@db', 'jdbc:mysql://u:pw@h', 'mongodb+srv://a:b@c', 'rediss://u:p:q@h/', 'https://user:pw@host', 'x.redis://u:p@h', '://', ':', '@', '/',
  'password=hunter2hunter', 'DB_PASSWORD = Tr0ub4dor&3x', '"client_secret": "abcdEFGH1234"', 'token: null', 'Authorization: Bearer abcdefgh', 'xpassword=notakey1',
  'aws_secret_access_key=', 'key', 'secret', 'auth', 'AWS_SECRET_KEY: ', 'paſſword=', 'api\u212Aey=', JWT, `x${JWT}`, `-${JWT}`, 'eyJ', '.eyJ', '=', ' ', '\n', '\t', '"', "'", '_', '-', '.', 'a', 'Z', '9', 'é', '日本', '🚀',
];
const text = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fragments) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), { maxLength: 30 })
  .map((a) => a.join(''));

const plainJwt: RegexRule = {
  kind: 'jwt',
  pattern: /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{4,})\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?![A-Za-z0-9_.-])/dg,
  accept: (v) => isJwtHeader(v.slice(0, v.indexOf('.'))),
};

test('the fast forms of the secret patterns and the JWT pattern find exactly what the plain regexes find', () => {
  const same = (t: string): void => {
    assert.deepEqual(secretPatternsDetector.find(t), findWithRules(t, plainRules), JSON.stringify(t));
    assert.deepEqual(jwtDetector.find(t), findWithRules(t, [plainJwt]), JSON.stringify(t));
  };
  fc.assert(fc.property(text, same), { numRuns: 3000 });
  for (const t of ['', ORDINARY.join('\n'), ...positive.map((r) => r.text), ...negative.map(([, t]) => t)]) same(t);
});

test('a rule whose trigger is absent is skipped; rules sharing a trigger test it once per text', () => {
  let tested = 0;
  const trigger = /zz/;
  const counting = { test: (s: string) => (tested++, trigger.test(s)) } as unknown as RegExp;
  const rules: RegexRule[] = [
    { kind: 'a', pattern: /z+/dg, trigger: counting },
    { kind: 'b', pattern: /zz+y/dg, trigger: counting },
    { kind: 'c', pattern: /q/dg },
  ];
  assert.deepEqual(findWithRules('z q z', rules), [{ start: 2, end: 3, kind: 'c' }]);
  assert.equal(tested, 1);
  assert.deepEqual(findWithRules('zzy', rules), [
    { start: 0, end: 2, kind: 'a' },
    { start: 0, end: 3, kind: 'b' },
  ]);
  assert.equal(tested, 2);
});

test('a boundary rejects a match where the lookbehind fails and the scan goes on from the next position', () => {
  const rule: RegexRule = { kind: 'k', pattern: /ab+/dg, boundary: /(?<![a-z])/y };
  assert.deepEqual(findWithRules('xab ab', [rule]), [{ start: 4, end: 6, kind: 'k' }]);
  assert.deepEqual(findWithRules('x-abb', [rule]), [{ start: 2, end: 5, kind: 'k' }]);
});

test('a masked value is read again only when short: a crafted run of assignments stays one finding', () => {
  // `password= DB_PASSWORD = x` needs the value read again as a key; a long run must not be
  // re-read from every `=` (that would be quadratic in what an agent prints).
  const run = 'password='.repeat(10_000);
  assert.equal(secretPatternsDetector.find(run).length, 1);
  const found = secretPatternsDetector.find('password= DB_PASSWORD = hunter2hunter');
  assert.deepEqual(found.map((f) => f.kind), ['credential-assignment', 'credential-assignment']);
});
