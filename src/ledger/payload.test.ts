import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { buildPayload, hasLoneSurrogate, hasLoneSurrogateScan, payloadMatches } from './payload.js';

const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('bodies up to the inline limit stay inline; larger or non-utf-8 ones go to the blob store', () => {
  const cases: { name: string; body: string | Uint8Array; limit: number; inline: boolean }[] = [
    { name: 'small text', body: '{"kind":"Pod"}', limit: 4096, inline: true },
    { name: 'exactly the limit', body: 'x'.repeat(16), limit: 16, inline: true },
    { name: 'one byte over', body: 'x'.repeat(17), limit: 16, inline: false },
    { name: 'multi-byte text counted in bytes', body: 'é'.repeat(9), limit: 16, inline: false },
    { name: 'empty body', body: '', limit: 16, inline: true },
    { name: 'utf-8 bytes', body: new TextEncoder().encode('hello'), limit: 16, inline: true },
    { name: 'binary bytes', body: Uint8Array.from([0xff, 0xfe, 0x00]), limit: 16, inline: false },
    { name: 'lone surrogate (cannot round-trip)', body: 'a\ud800b', limit: 16, inline: false },
    { name: 'limit 0 sends everything non-empty to blobs', body: 'a', limit: 0, inline: false },
  ];
  for (const c of cases) {
    const { payload, blob } = buildPayload({ body: c.body }, c.limit);
    const bytes = typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
    assert.equal(payload.size, bytes.byteLength, c.name);
    assert.equal(payload.sha256, sha(bytes), c.name);
    assert.equal(payload.inline !== undefined, c.inline, c.name);
    assert.equal(payload.blob === true, !c.inline, c.name);
    assert.equal(blob !== undefined, !c.inline, c.name);
    if (blob) assert.deepEqual(Buffer.from(blob.data), Buffer.from(bytes), c.name);
    assert.ok(payloadMatches(payload), c.name);
  }
});

test('caller metadata (content type, size and digest of a truncated body) is kept', () => {
  const { payload } = buildPayload({ body: 'head', contentType: 'text/plain', fullSize: 10_000, fullSha256: 'ab'.repeat(32) }, 4096);
  assert.deepEqual(payload, { size: 4, sha256: sha('head'), contentType: 'text/plain', fullSize: 10_000, fullSha256: 'ab'.repeat(32), inline: 'head' });
});

test('an inline body that disagrees with its digest is detected', () => {
  const { payload } = buildPayload({ body: 'token=***' }, 4096);
  assert.equal(payloadMatches({ ...payload, inline: 'token=abc' }), false);
  assert.equal(payloadMatches({ ...payload, size: payload.size + 1 }), false);
});

test('the native lone-surrogate check agrees with the scan on any UTF-16 text', () => {
  const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff }));
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 40 }), (units) => {
      const s = String.fromCharCode(...units);
      assert.equal(hasLoneSurrogate(s), hasLoneSurrogateScan(s));
    }),
    { numRuns: 2000 },
  );
  assert.equal(hasLoneSurrogate('ok \u{1F600}'), false);
  assert.equal(hasLoneSurrogate('bad \ud83d'), true);
});

test('a text body is stored as its UTF-8 bytes whatever its characters (ASCII, Latin-1, astral, lone surrogates)', () => {
  const unit = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 0x100, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff }));
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 60 }), (units) => {
      const s = String.fromCharCode(...units);
      const utf8 = Buffer.from(s, 'utf8');
      const { payload, blob } = buildPayload({ body: s }, 0);
      assert.equal(payload.size, utf8.byteLength);
      assert.equal(payload.sha256, sha(utf8));
      if (blob) assert.ok(Buffer.from(blob.data).equals(utf8));
      const inline = buildPayload({ body: s }, 4096).payload;
      assert.equal(inline.inline === undefined, hasLoneSurrogate(s));
      assert.ok(payloadMatches(inline));
    }),
    { numRuns: 3000 },
  );
});
