import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asciiLowerCase, findWithRules, tailTokenStart, type Detector, type RegexRule } from './detector.js';
import { jwtDetector, jwtRule } from './jwt-detector.js';
import { pemDetector, privateKeyDetector } from './private-key-detector.js';
import { secretPatternRules, secretPatternsDetector } from './secret-patterns-detector.js';

// The detectors skip work where a cheap test says nothing can be found: a rule's trigger (a
// literal every match contains), the PEM detector's `BEGIN`, a hold that scans from the last
// line break, a blank test only for characters that may be blank. Here each runs against its
// plain form (every rule's regex on every text, the holds as they read without the shortcuts),
// on text made of the pieces the shortcuts look for, in every case and next to characters that
// change length or turn into ASCII when lowercased or cut to one byte (İ, K, ß, Ő).

const withoutTriggers = (rules: readonly RegexRule[]): RegexRule[] => rules.map(({ trigger: _, ...rule }) => rule);

function plainTailTokenStart(text: string, limit = 512): number {
  let i = text.length;
  const floor = Math.max(0, text.length - limit);
  while (i > floor && !/\s/.test(text[i - 1] ?? ' ')) i--;
  return i;
}

function plainTriggerHold(triggers: readonly string[], caseInsensitive = false): (text: string) => number {
  const norm = (s: string): string => (caseInsensitive ? asciiLowerCase(s) : s);
  const list = triggers.map(norm);
  const prefixes = new Set(list.flatMap((t) => [...t].map((_, k) => t.slice(0, k)).slice(1)));
  const longest = Math.max(...list.map((t) => t.length));
  return (text) => {
    const tokenStart = plainTailTokenStart(text);
    const tail = norm(text.slice(tokenStart));
    let best = text.length;
    for (const t of list) {
      const at = tail.indexOf(t);
      if (at >= 0) best = Math.min(best, tokenStart + at);
    }
    if (best < text.length) return best;
    for (let k = Math.min(longest - 1, tail.length); k >= 1; k--) {
      const pos = text.length - k;
      if (!prefixes.has(tail.slice(tail.length - k))) continue;
      if (pos === 0 || !/[A-Za-z0-9]/.test(text[pos - 1] ?? '')) return pos;
    }
    return text.length;
  };
}

function plainEndAnchoredHold(pattern: RegExp, window = 512): (text: string) => number {
  return (text) => {
    const from = Math.max(0, text.length - window);
    const m = pattern.exec(from === 0 ? text : text.slice(from));
    return m ? from + m.index : text.length;
  };
}

// The holds of secret-patterns-detector.ts, private-key-detector.ts and jwt-detector.ts.
const ASSIGN_KEYS = 'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth';
const plainSecretHolds = [
  plainTriggerHold([
    'AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'ANPA', 'ANVA', 'APKA',
    'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'xapp-', 'hooks.slack.com/',
    'AIza', 'sk_live_', 'rk_live_', 'npm_', '://',
  ]),
  plainEndAnchoredHold(new RegExp(`(?<![A-Za-z])(?:${ASSIGN_KEYS})[A-Za-z0-9_.-]*["']?[ \\t]*(?:[:=][ \\t]*["']?[^\\s"'\`,;]*)?$`, 'i')),
  plainTriggerHold(['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'api_key', 'api-key', 'apikey',
    'access_key', 'access-key', 'accesskey', 'private_key', 'client_secret', 'auth', 'aws_secret', 'awssecret'], true),
];
const plainPem = pemDetector();
const plainPemHolds = [plainTriggerHold(['-----BEGIN']), plainEndAnchoredHold(/-----BEGIN(?: [A-Z0-9 ]*)?-{0,5}$/)];

const plain: Array<readonly [Detector, Required<Detector>]> = [
  [secretPatternsDetector, {
    name: 'secretlint',
    find: (t) => findWithRules(t, withoutTriggers(secretPatternRules)),
    pendingStart: (t) => Math.min(...plainSecretHolds.map((h) => h(t))),
  }],
  [jwtDetector, { name: 'jwt', find: (t) => findWithRules(t, withoutTriggers([jwtRule])), pendingStart: plainTriggerHold(['eyJ']) }],
  [privateKeyDetector, {
    name: 'private-key',
    find: (t) => plainPem.find(t),
    pendingStart: (t) => Math.min(plainPem.find(t).find((f) => f.end === t.length)?.start ?? t.length, ...plainPemHolds.map((h) => h(t))),
  }],
];

// Built at run time so no scanner flags this file; none of these is a real credential.
const B64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${B64({ alg: 'HS256' })}.${B64({ sub: 'x' })}.c2ln`;
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
const KEYS = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'api_key', 'api-key', 'apikey', 'access_key', 'accesskey', 'private-key',
  'client_secret', 'clientsecret', 'auth', 'authorization', 'aws_secret_access_key', 'awssecretkey', 'db_password', 'tokens'];
const PIECES = [
  'pass', 'word', 'wd', 'phr', 'cret', 'ke', 'uth', 'tok', 'key', 'sec', 'au',
  'hunter2hunter', 'abcdEFGH1234', AWS_SECRET, 'null', '${X}', '12',
  'ASIA', 'AKIA', 'AIza' + 'x1_-'.repeat(9).slice(1), 'AIza', 'ghp_' + 'A1b2C3d4E5'.repeat(3) + 'f6G7h8', 'ghp_', 'gh',
  'github_pat_' + '11ABCDEFG0'.repeat(3), 'xoxb-' + '1234567890-abcdef12', 'xox', 'xapp-1-ABCDEFGHIJKL', 'xapp-',
  'hooks.slack.com/services/T000/B000/0123456789abcdefZZZZ', 'hooks.slack.com/', 'k.com/', 'sk_live_' + 'a1'.repeat(12), 'k_live', 'npm_' + 'N0'.repeat(18), 'npm_',
  'postgres://app:S3cr3tPw@db', 'jdbc:mysql://u:pw@h', 'redis', '://', '@',
  JWT, 'eyJ', '.eyJ', 'eyJhbGciOiJub25lIn0',
  '-----BEGIN', '-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----\nMIIEv', 'BEGIN', ' PRIVATE KEY', '-----', '-',
  '=', ':', ' = ', ': ', '"', "'", '`', ',', ';', ' ', '\t', '\n', '\r\n', '_', '.', '/', 'a', 'Z', '9',
  'İ', '\u212A', 'ß', 'ſ', 'é', '\u0150', '\u016B', '🚀', '日本', '─', '\u00A0', '\u2028', '\u3000', '\uFEFF', '\v',
];
/** A key in a random mix of cases: the any-case trigger must find `PassWord` as `password`. */
const anyCaseKey = fc
  .tuple(fc.constantFrom(...KEYS), fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }))
  .map(([k, up]) => [...k].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const awsKeyId = fc
  .constantFrom('AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'ANPA', 'ANVA', 'APKA')
  .map((prefix) => prefix + 'IOSFODNN7EXAMPL2');
const assignment = fc
  .tuple(anyCaseKey, fc.constantFrom('=', ': ', ' = ', '":"'), fc.constantFrom('hunter2hunter', AWS_SECRET, 'null'))
  .map((a) => a.join(''));
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 2, arbitrary: anyCaseKey },
  { weight: 1, arbitrary: assignment },
  { weight: 1, arbitrary: awsKeyId },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const text = fc.array(piece, { maxLength: 14 }).map((a) => a.join(''));
// Long text too: literals across the first 2 KiB, where the any-case trigger splits its search,
// and tails longer than the holds' windows.
const filler = fc.constantFrom(' ', '.', '0', 'é', '─', 'x\n');
const longText = fc.oneof(
  fc.tuple(filler, fc.integer({ min: 1990, max: 2060 }), text, fc.constantFrom('', 'y'.repeat(600))).map(([f, n, t, tail]) => f.repeat(n).slice(0, n) + t + tail),
  fc.tuple(filler, fc.integer({ min: 2030, max: 2050 }), anyCaseKey).map(([f, n, k]) => `${f.repeat(n).slice(0, n)}${k}=hunter2hunter`),
);

function same(t: string): void {
  for (const [fast, ref] of plain) {
    assert.deepEqual(fast.find(t), ref.find(t), `${fast.name} find ${JSON.stringify(t)}`);
    assert.equal(fast.pendingStart?.(t), ref.pendingStart(t), `${fast.name} pendingStart ${JSON.stringify(t)}`);
  }
}

test('the detectors with their prefilters find exactly what every rule finds without them, and hold the same', () => {
  fc.assert(fc.property(text, same), { numRuns: 6000 });
  fc.assert(fc.property(longText, same), { numRuns: 1500 });
});

test('tailTokenStart agrees with /\\s/ on every character', () => {
  const chars = fc.constantFrom('a', '~', '!', ' ', '\t', '\n', '\v', '\f', '\r', '\x7f', '\x85', '\u00A0', '\u1680', '\u2000', '\u200A', '\u200B', '\u2028', '\u202F', '\u3000', '\uFEFF', 'é', '🚀');
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 40 }), fc.integer({ min: 0, max: 50 }), (a, limit) => {
      const t = a.join('');
      assert.equal(tailTokenStart(t, limit), plainTailTokenStart(t, limit));
    }),
    { numRuns: 3000 },
  );
});

test('the generated text makes every kind of finding, so a trigger that skipped one would be seen', () => {
  const kinds = new Set<string>();
  for (const t of fc.sample(text, 3000)) for (const [fast] of plain) for (const f of fast.find(t)) kinds.add(f.kind);
  const want = [...secretPatternRules.map((r) => r.kind), 'jwt', 'private-key'];
  assert.deepEqual(want.filter((k) => !kinds.has(k)), []);
});
