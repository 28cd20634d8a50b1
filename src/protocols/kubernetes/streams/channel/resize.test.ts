import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import { encodeResize, parseResize, ResizeDecoder, MAX_RESIZE_BYTES, type TerminalSize } from './resize.js';
import { splits } from './split-read.test-helper.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');

test('encodeResize writes client-go bytes: Width, Height and a newline', () => {
  assert.equal(Buffer.from(encodeResize({ width: 120, height: 40 })).toString(), '{"Width":120,"Height":40}\n');
});

const good: Array<[string, string, TerminalSize]> = [
  ['client-go form', '{"Width":80,"Height":24}\n', { width: 80, height: 24 }],
  ['no newline', '{"Width":80,"Height":24}', { width: 80, height: 24 }],
  ['lower-case keys (Go matches case-insensitively)', '{"width":100,"height":30}', { width: 100, height: 30 }],
  ['the last duplicate wins', '{"Width":1,"width":2,"Height":3}', { width: 2, height: 3 }],
  ['unknown fields are ignored', '{"Width":80,"Height":24,"x":{"y":"}"}}', { width: 80, height: 24 }],
  ['a missing field is 0', '{"Width":80}', { width: 80, height: 0 }],
  ['null keeps the earlier value', '{"Width":80,"width":null,"Height":1}', { width: 80, height: 1 }],
  ['the largest uint16', '{"Width":65535,"Height":65535}', { width: 65535, height: 65535 }],
  ['whitespace around', ' \r\n{ "Width" : 7 , "Height" : 8 }\n\n', { width: 7, height: 8 }],
];
for (const [label, text, size] of good) {
  test(`parseResize reads ${label}`, () => assert.deepEqual(parseResize(b(text)), size));
}

const bad: Array<[string, string]> = [
  ['not JSON', 'Width=80'],
  ['broken JSON', '{"Width":80,}'],
  ['an array', '[80,24]'],
  ['a negative width', '{"Width":-1,"Height":24}'],
  ['a width past uint16', '{"Width":65536,"Height":24}'],
  ['a fractional width', '{"Width":80.5,"Height":24}'],
  ['a string width', '{"Width":"80","Height":24}'],
  ['two values in one payload', '{"Width":1,"Height":1}{"Width":2,"Height":2}'],
  ['an unfinished value', '{"Width":1'],
  ['empty', ''],
];
for (const [label, text] of bad) {
  test(`parseResize refuses ${label} with bad-resize`, () => {
    assert.throws(() => parseResize(b(text)), (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED') && err.details?.reason === 'bad-resize');
  });
}

test('ResizeDecoder refuses a value that grows past the limit instead of buffering forever', () => {
  const d = new ResizeDecoder();
  assert.throws(() => d.push(b(`{"Width":1,"pad":"${'x'.repeat(MAX_RESIZE_BYTES)}`)), (err: unknown) =>
    isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED'));
});

const values = ['{"Width":80,"Height":24}', '{"Width":120,"Height":40}', '{"width":1,"Height":2,"note":"a \\" } {"}'];
const stream = b(values.map((v) => `${v}\n`).join(''));
const expected: TerminalSize[] = [{ width: 80, height: 24 }, { width: 120, height: 40 }, { width: 1, height: 2 }];
/** The offset just past each value's closing brace: a size may appear only once it is reached. */
const ends = values.map((_, i) => values.slice(0, i + 1).reduce((n, v) => n + Buffer.byteLength(v) + 1, 0) - 1);

test('the resize stream read whole gives every size in order', () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.push(stream), expected);
  assert.equal(d.pendingBytes, 0);
});

for (const [label, chunks] of splits(stream)) {
  test(`resize stream split (${label}) gives the same sizes, never one from a fragment`, () => {
    const d = new ResizeDecoder();
    const out: TerminalSize[] = [];
    let consumed = 0;
    for (const chunk of chunks) {
      consumed += chunk.length;
      out.push(...d.push(chunk));
      assert.equal(out.length, ends.filter((end) => end <= consumed).length);
    }
    assert.deepEqual(out, expected);
  });
}

test('ResizeDecoder copies what it keeps, so the caller may reuse its buffer', () => {
  const d = new ResizeDecoder();
  const buf = Buffer.from('{"Width":9,');
  d.push(buf);
  buf.fill(0x20);
  assert.deepEqual(d.push(b('"Height":9}')), [{ width: 9, height: 9 }]);
});
