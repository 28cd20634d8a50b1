import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { containsMarker, containsMarkerBytes, createPlaceholder, memoized, PLACEHOLDER_PREFIX } from './placeholder.js';

const key = Buffer.alloc(32, 1);
const placeholder = createPlaceholder(key);

describe('createPlaceholder', () => {
  it('a marker is the prefix and 12 hex digits, and its base64 form decodes to it', () => {
    const marker = placeholder.marker('password', 'aHVudGVyMg==');
    assert.match(marker, /^airlock-masked:[0-9a-f]{12}$/);
    assert.equal(Buffer.from(placeholder.base64('password', 'aHVudGVyMg=='), 'base64').toString(), marker);
  });

  it('the digest is standard HMAC-SHA256 keyed with hex(SHA-256(mask key)), so an auditor can recompute it', () => {
    const hmacKey = createHash('sha256').update(key).digest('hex');
    for (const [name, clear] of [['password', 'aHVudGVyMg=='], ['ключ', 'значение ü'], ['big', 'x'.repeat(10_000)]] as const) {
      const expected = createHmac('sha256', hmacKey).update(`${name}\0${clear}`, 'utf8').digest('hex').slice(0, 12);
      assert.equal(placeholder.marker(name, clear), PLACEHOLDER_PREFIX + expected);
    }
  });

  it('both forms carry the HMAC digits for any value (every digit pattern the encoding tables hold)', () => {
    const hmacKey = createHash('sha256').update(key).digest('hex');
    for (let i = 0; i < 2000; i++) {
      const clear = `value-${i}`;
      const expected = PLACEHOLDER_PREFIX + createHmac('sha256', hmacKey).update(`k\0${clear}`, 'utf8').digest('hex').slice(0, 12);
      assert.equal(placeholder.marker('k', clear), expected);
      assert.equal(Buffer.from(placeholder.base64('k', clear), 'base64').toString('latin1'), expected);
    }
  });

  it('a memoized placeholder gives the same markers in both forms, and tells changed values apart', () => {
    const memo = memoized(placeholder);
    assert.equal(memo.base64('k', 'v1'), placeholder.base64('k', 'v1'));
    assert.equal(memo.base64('k', 'v1'), placeholder.base64('k', 'v1'));
    assert.equal(memo.marker('k', 'v1'), placeholder.marker('k', 'v1'));
    assert.equal(memo.marker('k', 'v2'), placeholder.marker('k', 'v2'));
    assert.equal(memo.base64('k', 'v2'), placeholder.base64('k', 'v2'));
    assert.notEqual(memo.base64('k', 'v1'), memo.base64('k', 'v2'));
  });

  const rows: { name: string; a: [string, string]; b: [string, string]; same: boolean }[] = [
    { name: 'the same key and value give the same marker (reads can be compared)', a: ['k', 'v'], b: ['k', 'v'], same: true },
    { name: 'a changed value gives another marker', a: ['k', 'v1'], b: ['k', 'v2'], same: false },
    { name: 'the same value under another key gives another marker', a: ['k1', 'v'], b: ['k2', 'v'], same: false },
    { name: 'the key/value boundary matters', a: ['ab', 'c'], b: ['a', 'bc'], same: false },
  ];
  for (const r of rows) {
    it(r.name, () => {
      assert.equal(placeholder.marker(...r.a) === placeholder.marker(...r.b), r.same);
    });
  }

  it('another installation key gives another marker', () => {
    assert.notEqual(createPlaceholder(Buffer.alloc(32, 2)).marker('k', 'v'), placeholder.marker('k', 'v'));
  });

  it('a marker shows nothing of the clear value', () => {
    const clear = 'correct-horse-battery-staple';
    assert.ok(!placeholder.marker('k', clear).includes(clear));
    assert.ok(!placeholder.base64('k', Buffer.from(clear).toString('base64')).includes(Buffer.from(clear).toString('base64')));
  });

  it('a short masking key is refused at setup', () => {
    assert.throws(() => createPlaceholder('short'), (e: unknown) => isAirlockError(e, 'AIRLOCK_CONFIG_INVALID'));
  });
});

describe('containsMarker finds a placeholder in every form it travels in', () => {
  const marker = placeholder.marker('k', 'v');
  const b64 = Buffer.from(marker).toString('base64');
  const rows: { name: string; text: string; found: boolean }[] = [
    { name: 'clear text', text: marker, found: true },
    { name: 'base64', text: b64, found: true },
    { name: 'base64 after one leading byte', text: Buffer.from('x' + marker).toString('base64'), found: true },
    { name: 'base64 after two leading bytes', text: Buffer.from('xy' + marker).toString('base64'), found: true },
    { name: 'base64 wrapped over lines', text: b64.slice(0, 10) + '\n' + b64.slice(10), found: true },
    { name: 'base64url', text: Buffer.from('??' + marker).toString('base64url'), found: true },
    { name: 'base64 of base64 (pasted into --from-literal)', text: Buffer.from(b64).toString('base64'), found: true },
    { name: 'inside JSON text', text: JSON.stringify({ data: { k: b64 } }), found: true },
    { name: 'an ordinary value', text: Buffer.from('hunter2-but-longer-than-twenty').toString('base64'), found: false },
    { name: 'the word airlock alone', text: 'airlock-is-a-gateway', found: false },
  ];
  for (const r of rows) {
    it(`${r.name} → ${r.found ? 'found' : 'not found'}`, () => {
      assert.equal(containsMarker(r.text), r.found);
    });
  }

  it('raw bytes (a protobuf body) carry the marker in clear or base64', () => {
    const proto = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x10]), Buffer.from(marker), Buffer.from([0x12, 0x00])]);
    assert.ok(containsMarkerBytes(proto));
    assert.ok(containsMarkerBytes(Buffer.from(`data:\n  k: ${b64}\n`)));
    assert.ok(!containsMarkerBytes(Buffer.from('data:\n  k: aHVudGVyMg==\n')));
    assert.ok(PLACEHOLDER_PREFIX.length % 3 === 0, 'the prefix encodes to clean base64');
  });
});
