import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import {
  encodeDataFrame, encodeFrame, encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeSynReply,
  encodeSynStream, encodeHeaders, encodeWindowUpdate,
} from './spdy-frame-encoder.js';
import { SpdyFrameReader } from './spdy-frame-reader.js';
import { decodeFrames, type SpdyFrame } from './spdy-frames.js';

const block = Uint8Array.from([0x78, 0xf9, 1, 2, 3]);
const rows: { name: string; frame: SpdyFrame }[] = [
  { name: 'DATA', frame: { type: 'data', streamId: 5, flags: 0, fin: false, data: Buffer.from('hello') } },
  { name: 'DATA with FIN and no payload', frame: { type: 'data', streamId: 7, flags: 1, fin: true, data: new Uint8Array(0) } },
  { name: 'DATA on the largest stream id', frame: { type: 'data', streamId: 0x7fffffff, flags: 0, fin: false, data: Uint8Array.of(0) } },
  {
    name: 'SYN_STREAM', frame: {
      type: 'syn-stream', streamId: 1, associatedToStreamId: 0, priority: 0, slot: 0, flags: 0, fin: false,
      unidirectional: false, headerBlock: block,
    },
  },
  {
    name: 'SYN_STREAM with FIN, UNIDIRECTIONAL, priority and association', frame: {
      type: 'syn-stream', streamId: 9, associatedToStreamId: 3, priority: 7, slot: 0, flags: 3, fin: true,
      unidirectional: true, headerBlock: block,
    },
  },
  { name: 'SYN_REPLY', frame: { type: 'syn-reply', streamId: 3, flags: 0, fin: false, headerBlock: block } },
  { name: 'SYN_REPLY with FIN', frame: { type: 'syn-reply', streamId: 3, flags: 1, fin: true, headerBlock: block } },
  { name: 'HEADERS', frame: { type: 'headers', streamId: 4, flags: 0, fin: false, headerBlock: block } },
  { name: 'RST_STREAM', frame: { type: 'rst-stream', streamId: 5, status: 5 } },
  { name: 'SETTINGS', frame: { type: 'settings', flags: 0, entries: [{ flags: 1, id: 7, value: 65536 }, { flags: 0, id: 4, value: 100 }] } },
  { name: 'SETTINGS with no entries and CLEAR', frame: { type: 'settings', flags: 1, entries: [] } },
  { name: 'PING', frame: { type: 'ping', id: 1 } },
  { name: 'PING with the largest id', frame: { type: 'ping', id: 0xffffffff } },
  { name: 'GOAWAY', frame: { type: 'goaway', lastGoodStreamId: 7, status: 0 } },
  { name: 'WINDOW_UPDATE for the session', frame: { type: 'window-update', streamId: 0, deltaWindowSize: 65536 } },
  { name: 'WINDOW_UPDATE for a stream', frame: { type: 'window-update', streamId: 3, deltaWindowSize: 0x7fffffff } },
];

/** normalise makes frames comparable with deepEqual (Buffer vs Uint8Array views). */
function normalise(frame: SpdyFrame): unknown {
  return Object.fromEntries(Object.entries(frame).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]));
}

for (const row of rows) {
  test(`a ${row.name} frame survives encode then decode unchanged, bytes included`, () => {
    const bytes = encodeFrame(row.frame);
    const { frames, consumed } = decodeFrames(bytes);
    assert.equal(consumed, bytes.byteLength);
    assert.equal(frames.length, 1);
    assert.deepEqual(normalise(frames[0]!.frame), normalise(row.frame));
    assert.deepEqual(Buffer.from(frames[0]!.raw), Buffer.from(bytes));
    assert.deepEqual(Buffer.from(encodeFrame(frames[0]!.frame)), Buffer.from(bytes));
  });
}

test('frames match the byte layout spdystream writes (control bit, version 3, type, flags, 24-bit length)', () => {
  assert.equal(Buffer.from(encodePing(1)).toString('hex'), '80030006000000040000000' + '1');
  assert.equal(Buffer.from(encodeRstStream(1, 5)).toString('hex'), '800300030000000800000001' + '00000005');
  assert.equal(Buffer.from(encodeGoaway(0)).toString('hex'), '800300070000000800000000' + '00000000');
  assert.equal(Buffer.from(encodeDataFrame(3, Buffer.from('hi'), { fin: true })).toString('hex'), '00000003' + '01000002' + '6869');
  assert.equal(Buffer.from(encodeSynReply(1, Uint8Array.of(0xaa))).toString('hex'), '80030002' + '00000005' + '00000001aa');
  assert.equal(Buffer.from(encodeSynStream({ streamId: 1, headerBlock: Uint8Array.of(0xaa) })).toString('hex'),
    '80030001' + '0000000b' + '00000001' + '00000000' + '0000' + 'aa');
  assert.equal(Buffer.from(encodeHeaders(2, Uint8Array.of(0xaa), { fin: true })).toString('hex'), '80030008' + '01000005' + '00000002aa');
  assert.equal(Buffer.from(encodeWindowUpdate(0, 1)).toString('hex'), '800300090000000800000000' + '00000001');
  assert.equal(Buffer.from(encodeSettings([{ flags: 1, id: 4, value: 9 }])).toString('hex'), '800300040000000c00000001' + '01000004' + '00000009');
});

// The split-read matrix: one byte stream holding every kind of frame, cut everywhere.
const stream = Buffer.concat(rows.map((row) => encodeFrame(row.frame)));
const expected = decodeFrames(stream).frames.map((f) => normalise(f.frame));

function frameEnds(): number[] {
  const ends: number[] = [];
  let at = 0;
  for (const row of rows) ends.push((at += encodeFrame(row.frame).byteLength));
  return ends;
}

test('the frame stream cut at every byte offset gives the same frames, never one from a fragment', () => {
  const ends = frameEnds();
  for (let cut = 0; cut <= stream.byteLength; cut++) {
    const reader = new SpdyFrameReader();
    const firstPart = reader.push(stream.subarray(0, cut));
    assert.equal(firstPart.length, ends.filter((end) => end <= cut).length, `cut at ${cut}`);
    const rest = reader.push(stream.subarray(cut));
    assert.deepEqual([...firstPart, ...rest].map((f) => normalise(f.frame)), expected, `cut at ${cut}`);
    assert.equal(reader.pendingBytes, 0);
  }
});

test('the frame stream fed one byte at a time gives the same frames, each when its last byte arrives', () => {
  const ends = new Set(frameEnds());
  const reader = new SpdyFrameReader();
  const out: unknown[] = [];
  for (let i = 0; i < stream.byteLength; i++) {
    const frames = reader.push(stream.subarray(i, i + 1));
    assert.equal(frames.length, ends.has(i + 1) ? 1 : 0, `byte ${i}`);
    out.push(...frames.map((f) => normalise(f.frame)));
  }
  assert.deepEqual(out, expected);
});

test('the reader copies the fragment it keeps, so the caller may reuse its buffer', () => {
  const bytes = Buffer.from(encodeDataFrame(1, Buffer.from('abcdef')));
  const scratch = Buffer.from(bytes.subarray(0, 10));
  const reader = new SpdyFrameReader();
  assert.deepEqual(reader.push(scratch), []);
  scratch.fill(0);
  const [frame] = reader.push(bytes.subarray(10));
  assert.equal(Buffer.from((frame!.frame as { data: Uint8Array }).data).toString(), 'abcdef');
});

function header(first: number, flagsAndLength: number, body: number[] = []): Uint8Array {
  const out = Buffer.alloc(8 + body.length);
  out.writeUInt32BE(first >>> 0, 0);
  out.writeUInt32BE(flagsAndLength >>> 0, 4);
  Buffer.from(body).copy(out, 8);
  return out;
}
const control = (type: number, version = 3): number => (0x80000000 | (version << 16) | type) >>> 0;
const u32 = (n: number): number[] => [n >>> 24 & 0xff, n >>> 16 & 0xff, n >>> 8 & 0xff, n & 0xff];

const malformed: { name: string; bytes: Uint8Array; code: 'AIRLOCK_SPDY_FRAME_INVALID' | 'AIRLOCK_SPDY_FRAME_TOO_LARGE'; reason: string }[] = [
  { name: 'a control frame of version 2', bytes: header(control(6, 2), 4, u32(1)), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-version' },
  { name: 'a control frame of version 4, refused from its header alone', bytes: header(control(1, 4), 100), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-version' },
  { name: 'the removed NOOP type (5)', bytes: header(control(5), 0), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'unknown-type' },
  { name: 'a CREDENTIAL frame (10)', bytes: header(control(10), 0), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'unknown-type' },
  { name: 'an unknown type (0xffff)', bytes: header(control(0xffff), 0), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'unknown-type' },
  { name: 'a control frame over the control limit', bytes: header(control(1), (1 << 20) + 1), code: 'AIRLOCK_SPDY_FRAME_TOO_LARGE', reason: 'too-large' },
  { name: 'DATA on stream 0', bytes: header(0, 1, [0]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'zero-stream-id' },
  { name: 'SYN_STREAM on stream 0', bytes: header(control(1), 10, [...u32(0), ...u32(0), 0, 0]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'zero-stream-id' },
  { name: 'SYN_STREAM shorter than its fixed part', bytes: header(control(1), 6, [...u32(1), 0, 0]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'SYN_REPLY shorter than a stream id', bytes: header(control(2), 2, [0, 1]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'RST_STREAM of 12 bytes', bytes: header(control(3), 12, [...u32(1), ...u32(5), ...u32(0)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'RST_STREAM with status 0', bytes: header(control(3), 8, [...u32(1), ...u32(0)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'zero-status' },
  { name: 'RST_STREAM on stream 0', bytes: header(control(3), 8, [...u32(0), ...u32(5)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'zero-stream-id' },
  { name: 'SETTINGS whose count does not match its length', bytes: header(control(4), 12, [...u32(2), ...u32(1), ...u32(1)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'PING of 8 bytes', bytes: header(control(6), 8, [...u32(1), ...u32(1)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'PING with flags', bytes: header(control(6), 0x01000004, u32(1)), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-flags' },
  { name: 'PING with id 0', bytes: header(control(6), 4, u32(0)), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'zero-stream-id' },
  { name: 'GOAWAY of 4 bytes (SPDY/2 layout)', bytes: header(control(7), 4, u32(1)), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-length' },
  { name: 'WINDOW_UPDATE with flags', bytes: header(control(9), 0x01000008, [...u32(1), ...u32(1)]), code: 'AIRLOCK_SPDY_FRAME_INVALID', reason: 'bad-flags' },
];

for (const row of malformed) {
  test(`${row.name} is refused with ${row.code} (${row.reason}), not a crash`, () => {
    assert.throws(() => decodeFrames(row.bytes), (err: unknown) => {
      assert.ok(isAirlockError(err, row.code), String(err));
      assert.equal(err.details?.reason, row.reason);
      return true;
    });
  });
}

test('a frame over a configured limit is refused before its body arrives', () => {
  const bytes = encodeDataFrame(1, Buffer.alloc(100));
  assert.throws(() => new SpdyFrameReader({ maxDataFrameLength: 99 }).push(bytes.subarray(0, 8)),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_FRAME_TOO_LARGE'));
  assert.equal(new SpdyFrameReader({ maxDataFrameLength: 100 }).push(bytes).length, 1);
});

test('a reader that refused a frame keeps refusing: nothing after a bad frame is trusted', () => {
  const reader = new SpdyFrameReader();
  assert.throws(() => reader.push(header(control(6, 2), 4, u32(1))));
  assert.throws(() => reader.push(encodePing(1)), (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_FRAME_INVALID'));
});

test('valid frames before a bad one in the same chunk do not hide the error', () => {
  const bytes = Buffer.concat([encodePing(1), header(control(0xffff), 0)]);
  assert.throws(() => decodeFrames(bytes), (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_FRAME_INVALID'));
});

const badEncodes: { name: string; run: () => unknown }[] = [
  { name: 'DATA on stream 0', run: () => encodeDataFrame(0, new Uint8Array(0)) },
  { name: 'DATA on a 32-bit stream id', run: () => encodeDataFrame(0x80000000, new Uint8Array(0)) },
  { name: 'DATA above 16 MiB', run: () => encodeDataFrame(1, new Uint8Array(0x1000000)) },
  { name: 'RST_STREAM status 0', run: () => encodeRstStream(1, 0) },
  { name: 'PING id 0', run: () => encodePing(0) },
  { name: 'SYN_STREAM priority 8', run: () => encodeSynStream({ streamId: 1, headerBlock: block, priority: 8 }) },
  { name: 'WINDOW_UPDATE delta 0', run: () => encodeWindowUpdate(1, 0) },
  { name: 'a setting id above 24 bits', run: () => encodeSettings([{ flags: 0, id: 0x1000000, value: 1 }]) },
];

for (const row of badEncodes) {
  test(`encoding ${row.name} is refused with a typed error`, () => {
    assert.throws(row.run, (err: unknown) => isAirlockError(err) && err.code.startsWith('AIRLOCK_SPDY_'));
  });
}
