import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { selectDetectors } from './detectors/registry.js';
import { parseDisplayText } from './stream-display-text.js';
import { createStreamMasker, type StreamMasker } from './stream-masker.js';

// Planted, synthetic secrets; none is a real credential.
const GH = 'ghp_' + 'Z9y8X7w6V5'.repeat(3) + 'u4T3s2';
const AWS_ID = 'AKIA' + 'ZZZZEXAMPLE12345';
const B64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${B64({ alg: 'ES256' })}.${B64({ sub: 'agent' })}.AAAABBBBCCCC`;
const PEM_BODY = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun';
const PEM = `-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY}\n-----END EC PRIVATE KEY-----`;
const PW = 'Tr0ub4dor&3x';
const EMAIL = 'carol@example.org';
// GH.slice(1): what a terminal shows of `ESC ghp_…` (it swallows the `g` as an escape's final byte).
const SECRETS = [GH, AWS_ID, JWT, PEM_BODY, PW, EMAIL, GH.slice(0, 12), GH.slice(1), PEM_BODY.slice(20, 40)];

const replacement = (kind: string): string => `«${kind}»`;
const all = (): StreamMasker => createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt', 'private-key', 'pii']), replacement });

/** CORPUS is a terminal session: prompts, colours, OSC title, UTF-8, and planted secrets. */
const CORPUS = Buffer.from(
  [
    '\x1b]0;root@pod: ~\x07\x1b[01;32mroot@pod\x1b[00m:\x1b[01;34m~\x1b[00m# env | grep -i tok\r\n',
    `GITHUB_TOKEN=${GH}\r\n`,
    `aws id \x1b[1m${AWS_ID}\x1b[0m — ok ✓ 日本語 🚀\r\n`,
    `Authorization: Bearer ${JWT}\r\n`,
    `${PEM}\r\n`,
    `DB_PASSWORD = ${PW}\r\nnotify ${EMAIL} done\r\n`,
    `\x1b7saved\x1b8 printf '\\033%s' $GITHUB_TOKEN\r\n\x1b${GH}\r\n`,
    'ls -l\r\ntotal 0\r\n\x1b[?2004h# ',
  ].join(''),
  'utf8',
);

function runChunks(chunks: Buffer[], make = all): { out: Buffer; emitted: Buffer[] } {
  const m = make();
  const emitted: Buffer[] = [];
  for (const c of chunks) emitted.push(m.push(c));
  emitted.push(m.flush());
  return { out: Buffer.concat(emitted), emitted };
}

function assertClean(emitted: Buffer[]): void {
  for (const e of emitted) {
    const s = e.toString('utf8');
    for (const secret of SECRETS) assert.ok(!s.includes(secret), `an emitted chunk carries ${secret.slice(0, 6)}…`);
  }
}

test('whole-input masking hides every planted secret and keeps the rest', () => {
  const { out, emitted } = runChunks([CORPUS]);
  assertClean(emitted);
  const s = out.toString('utf8');
  for (const kept of ['\x1b]0;root@pod: ~\x07', '\x1b[01;32m', '✓ 日本語 🚀', 'GITHUB_TOKEN=', 'DB_PASSWORD = ', '\x1b[?2004h# ', '«private-key»', '«jwt»', '«email»']) {
    assert.ok(s.includes(kept), `missing ${JSON.stringify(kept)}`);
  }
});

test('split-read matrix: a cut at every offset gives the same output and no emitted chunk carries a secret', () => {
  const whole = runChunks([CORPUS]).out;
  for (let cut = 1; cut < CORPUS.length; cut++) {
    const { out, emitted } = runChunks([CORPUS.subarray(0, cut), CORPUS.subarray(cut)]);
    assert.ok(out.equals(whole), `cut at ${cut}`);
    assertClean(emitted);
  }
});

test('split-read matrix: one byte at a time gives the same output, and nothing is emitted from a fragment', () => {
  const whole = runChunks([CORPUS]).out;
  const bytes = [...CORPUS].map((b) => Buffer.from([b]));
  const { out, emitted } = runChunks(bytes);
  assert.ok(out.equals(whole));
  assertClean(emitted);
  for (const e of emitted.slice(0, -1)) {
    // Each pushed chunk is whole: valid UTF-8 and no half escape sequence.
    assert.equal(parseDisplayText(e, false).complete, e.length, JSON.stringify(e.toString('latin1')));
    assert.ok(!e.toString('utf8').includes('\ufffd'));
  }
});

test('split-read matrix holds with the secret detectors only (the interactive-shell setting)', () => {
  const make = (): StreamMasker => createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt', 'private-key']), replacement });
  const whole = runChunks([CORPUS], make).out;
  for (let cut = 1; cut < CORPUS.length; cut++) {
    const { out } = runChunks([CORPUS.subarray(0, cut), CORPUS.subarray(cut)], make);
    assert.ok(out.equals(whole), `cut at ${cut}`);
  }
  assert.ok(runChunks([...CORPUS].map((b) => Buffer.from([b])), make).out.equals(whole));
});

test('a secret with a colour code inside it is masked and the colour codes are kept', () => {
  const input = Buffer.from(`x ${GH.slice(0, 10)}\x1b[31m${GH.slice(10)}\x1b[0m y\n`);
  const s = runChunks([input]).out.toString();
  assert.equal(s, 'x «github-token»\x1b[31m\x1b[0m y\n');
});

test('an ESC glued to a secret does not hide it: the token is masked whole and the ESC goes with it', () => {
  // A terminal reads `ESC g` as an escape sequence and shows `hp_…`: without care the detectors
  // would miss the token and all but its first character would reach the screen and the ledger.
  for (const input of [`\x1b${GH}\n`, `x \x1b${GH} y\n`, `\x1b[1m\x1b${GH}\x1b[0m\n`]) {
    const whole = runChunks([Buffer.from(input)]).out.toString();
    assert.ok(!whole.includes(GH.slice(1)), JSON.stringify(whole));
    assert.equal(whole, input.replace(`\x1b${GH}`, '«github-token»'));
    const bytes = runChunks([...Buffer.from(input)].map((b) => Buffer.from([b]))).out.toString();
    assert.equal(bytes, whole, 'byte by byte');
  }
  // Two-byte sequences with nothing to mask pass through unchanged (save/restore cursor, reverse index).
  const plain = Buffer.from('\x1b7status\x1b8 \x1bM\x1bc done\n');
  assert.ok(runChunks([plain]).out.equals(plain));
});

test('ordinary keystroke echo is released at once; only a trigger prefix waits for the next byte', () => {
  const m = createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt', 'private-key']), replacement });
  const rows: Array<readonly [string, string]> = [
    ['l', 'l'], ['s', 's'], [' ', ' '], ['-', ''], ['l', '-l'], ['\r\n', '\r\n'], ['k', 'k'], ['u', 'u'], ['b', 'b'],
  ];
  for (const [typed, echoed] of rows) assert.equal(m.push(Buffer.from(typed)).toString(), echoed, JSON.stringify(typed));
});

test('a held trigger prefix is released by the next byte that settles it, or by flush on idle', () => {
  const m = createStreamMasker({ detectors: selectDetectors(['secretlint']), replacement });
  assert.equal(m.push(Buffer.from('g')).toString(), '');
  assert.equal(m.push(Buffer.from('o')).toString(), 'go');
  assert.equal(m.push(Buffer.from(' gh')).toString(), ' ');
  assert.equal(m.flush().toString(), 'gh');
  assert.equal(m.flush().length, 0);
});

test('holdback is bounded: a PEM block with no END is masked whole once the bound is passed', () => {
  const m = createStreamMasker({ detectors: selectDetectors(['private-key']), replacement, holdback: 4096 });
  const out: Buffer[] = [m.push(Buffer.from('-----BEGIN PRIVATE KEY-----\n'))];
  let pushed = 28;
  while (Buffer.concat(out).length === 0) {
    out.push(m.push(Buffer.from(`${PEM_BODY}\n`)));
    pushed += PEM_BODY.length + 1;
    assert.ok(pushed <= 4096 + PEM_BODY.length + 1, 'held past the bound');
  }
  const s = Buffer.concat(out).toString();
  assert.equal(s, '«overflow»'); // fail closed: the held block is masked whole
});

test('UTF-8 split inside a character is never emitted half', () => {
  const input = Buffer.from('ünïcödé ✓ 🚀\n');
  for (let cut = 1; cut < input.length; cut++) {
    const { out, emitted } = runChunks([input.subarray(0, cut), input.subarray(cut)]);
    assert.ok(out.equals(input));
    assert.ok(emitted.every((e) => !e.toString('utf8').includes('\ufffd')), `cut ${cut}`);
  }
});

test('invalid UTF-8 and a trailing half escape pass through unchanged at flush', () => {
  const input = Buffer.from([0x61, 0xff, 0x62, 0x1b, 0x5b, 0x33]);
  assert.ok(runChunks([input]).out.equals(input));
});

// Random sessions: log lines, colours, UTF-8 and invalid bytes around the planted secrets, cut
// into random frames. Plain ASCII frames, frames with escapes or UTF-8, and frames that hold a
// candidate take different paths through the masker; the output must not depend on which.
const noise = [
  '2026-11-26T14:00:07.259Z INFO request_id=9e3779b19e3779b1 method=GET path=/api/orders status=200 duration_ms=7\n',
  'payload=b3JkZXIgMTAgb2YgY2FydCA5ZTM3Nzli\n', '\x1b[01;32mroot@pod\x1b[00m:\x1b[01;34m~\x1b[00m# ', '\x1b]0;title\x07', 'ok ✓ 日本語 🚀 ',
  ' ', '\r\n', '=', ': ', 'x'.repeat(70), 'ünïcödé ', 'gh', 'eyJ', '-----BEGIN', 'password', 'AKI', '://', '\x1b7', '\x1b8', '\x1b',
];
const planted = [GH, AWS_ID, JWT, PEM, `DB_PASSWORD = ${PW}`, `mail ${EMAIL} `, `postgres://app:${PW}@db`, `\x1b${GH}`];
const session = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...noise).map((s) => Buffer.from(s, 'utf8')) },
      { weight: 2, arbitrary: fc.constantFrom(...planted).map((s) => Buffer.from(` ${s}\n`, 'utf8')) },
      { weight: 1, arbitrary: fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80]).map((b) => Buffer.from(b)) },
    ),
    { maxLength: 25 },
  )
  .map((a) => Buffer.concat(a));

test('random sessions cut into random frames give the output of one push, and what it hides no frame shows', () => {
  fc.assert(
    fc.property(session, fc.array(fc.nat(), { maxLength: 10 }), (input, cuts) => {
      const whole = runChunks([input]).out;
      const at = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
      const chunks = [...at, input.length].map((end, i) => input.subarray(i === 0 ? 0 : at[i - 1], end));
      const { out, emitted } = runChunks(chunks);
      assert.ok(out.equals(whole), JSON.stringify(input.toString('latin1')));
      const hidden = SECRETS.filter((secret) => !whole.toString('utf8').includes(secret));
      for (const e of emitted) for (const secret of hidden) assert.ok(!e.toString('utf8').includes(secret), `a frame carries ${secret.slice(0, 6)}…`);
    }),
    { numRuns: 500 },
  );
});

test('output with nothing to mask is the input, byte for byte, frame by frame', () => {
  const candidates = ['gh', 'eyJ', '-----BEGIN', 'password', 'AKI', '://'];
  // (A frame ending in ESC is held until the next byte tells which escape it starts.)
  const frames = noise.filter((s) => !candidates.some((c) => s.includes(c)) && !s.endsWith('\x1b')).map((s) => Buffer.from(s, 'utf8'));
  assert.ok(frames.length > 10);
  const m = createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt', 'private-key']), replacement });
  for (const f of frames) assert.ok(m.push(f).equals(f), JSON.stringify(f.toString()));
});
