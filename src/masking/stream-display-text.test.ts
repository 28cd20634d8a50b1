import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseDisplayText, parseDisplayTextByteByByte, type DisplayText } from './stream-display-text.js';

/** offsets lists byteAt for every index, asked from the end first, then from the start. */
function offsets(dt: DisplayText): number[] {
  const last = dt.text.length;
  const down = Array.from({ length: last + 1 }, (_, i) => dt.byteAt(last - i)).reverse();
  const up = Array.from({ length: last + 1 }, (_, i) => dt.byteAt(i));
  assert.deepEqual(down, up, 'byteAt depends on the order it is asked in');
  return up;
}

function assertSame(buf: Buffer, final: boolean): void {
  const fast = parseDisplayText(buf, final);
  const ref = parseDisplayTextByteByByte(buf, final);
  const what = `${JSON.stringify(buf.toString('latin1'))} final=${final}`;
  assert.equal(fast.text, ref.text, what);
  assert.equal(fast.complete, ref.complete, what);
  assert.deepEqual(fast.escapes, ref.escapes, what);
  assert.deepEqual(offsets(fast), offsets(ref), what);
}

const pieces = [
  'password=Tr0ub4dor&3x ', 'ghp_' + 'Z9y8X7w6V5'.repeat(3) + 'u4T3s2', 'ok ✓ 日本語 🚀 ', 'ünïcödé', 'x'.repeat(60), '\r\n', '\t',
  '\x1b[01;32m', '\x1b[0m', '\x1b]0;root@pod: ~\x07', '\x1b]8;;http://x\x1b\\', '\x1b(B', '\x1b', '\x1b[', '\x1b]0;t',
].map((s) => Buffer.from(s, 'utf8'));
const raw = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x9a], [0x80], [0xed, 0xa0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]].map((b) => Buffer.from(b));
const bytes = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...pieces) },
      { weight: 2, arbitrary: fc.constantFrom(...raw) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s, 'utf8')) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) },
    ),
    { maxLength: 30 },
  )
  .map((a) => Buffer.concat(a));

test('the native shortcuts read exactly what the byte-by-byte parse reads: text, offsets, escapes, fragment', () => {
  fc.assert(
    fc.property(bytes, fc.nat(), fc.boolean(), (buf, cut, final) => {
      assertSame(buf, final);
      // A frame cut anywhere, as the stream delivers it: the fragment rules at the end.
      assertSame(buf.subarray(0, cut % (buf.length + 1)), final);
    }),
    { numRuns: 2000 },
  );
});

test('plain ASCII is its own text, one byte per character', () => {
  const buf = Buffer.from('2026-11-26T14:00:00.000Z INFO request_id=9e3779b1 status=200\n'.repeat(3));
  const dt = parseDisplayText(buf, false);
  assert.equal(dt.text, buf.toString('latin1'));
  assert.equal(dt.complete, buf.length);
  assert.deepEqual(dt.escapes, []);
  assert.equal(dt.byteAt(17), 17);
  assert.equal(dt.byteAt(dt.text.length), buf.length);
});

test('a UTF-8 character cut by the end of the frame is left for the next one, unless final', () => {
  const text = `${'long line of text before it '.repeat(3)}🚀`;
  const buf = Buffer.from(text, 'utf8');
  const cut = buf.subarray(0, buf.length - 2);
  const held = parseDisplayText(cut, false);
  assert.equal(held.complete, buf.length - 4);
  assert.equal(held.text, text.slice(0, -2));
  const read = parseDisplayText(cut, true);
  assert.equal(read.complete, cut.length);
  assert.ok(read.text.endsWith('\ufffd\ufffd'));
});

test('both halves of a surrogate pair map to the first byte of their character', () => {
  const buf = Buffer.from(`${'é'.repeat(30)}a🚀b`, 'utf8');
  const dt = parseDisplayText(buf, false);
  const rocket = dt.text.indexOf('🚀');
  assert.equal(dt.byteAt(rocket), 61);
  assert.equal(dt.byteAt(rocket + 1), 61);
  assert.equal(dt.byteAt(rocket + 2), 65);
});
