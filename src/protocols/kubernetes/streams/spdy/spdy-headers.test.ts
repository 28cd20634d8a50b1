import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createDeflate, createInflate, deflateRawSync, type Deflate, type Inflate } from 'node:zlib';
import { isAirlockError } from '../../../../errors.js';
import { spdyDictionary, spdyDictionaryId } from './spdy-dictionary.js';
import { encodeHeaderBlock, HeaderDeflater, HeaderInflater, parseHeaderBlock } from './spdy-headers.js';

/** plain drops the null prototype header maps carry (a `__proto__` header must stay a header). */
const plain = (headers: object): object => ({ ...headers });

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

test('the SPDY/3 dictionary is the exact 1423 bytes peers prime zlib with', () => {
  assert.equal(spdyDictionary.byteLength, 1423);
  assert.equal(adler32(spdyDictionary), spdyDictionaryId);
  assert.equal(createHash('sha256').update(spdyDictionary).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  assert.equal(spdyDictionary.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.equal(spdyDictionary.subarray(-6).toString('latin1'), 'enq=0.');
});

// Header blocks of the first four SYN_STREAM frames kubectl 1.27 sent for `exec -i` (captured
// by spdy-kubectl.test.ts): one zlib stream, each block sync-flushed, later ones leaning on earlier.
const kubectlBlocks = [
  '78f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff',
  'c22e555c92929907000000ffff',
  'c22ac5565c92925f5a02000000ffff',
  'c229975a5404000000ffff',
].map((hex) => Buffer.from(hex, 'hex'));

test('kubectl 1.27 header blocks inflate, in order, to the Kubernetes stream types', () => {
  const inflater = new HeaderInflater();
  const types = kubectlBlocks.map((block) => plain(inflater.inflate(block)));
  assert.deepEqual(types, [{ streamtype: ['error'] }, { streamtype: ['stdin'] }, { streamtype: ['stdout'] }, { streamtype: ['stderr'] }]);
});

test('a header block cannot be read without the blocks before it (one zlib stream per direction)', () => {
  const inflater = new HeaderInflater();
  assert.throws(() => inflater.inflate(kubectlBlocks[1]!), (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_HEADERS_INVALID'));
  const skipping = new HeaderInflater();
  skipping.inflate(kubectlBlocks[0]!);
  let read: unknown;
  try {
    read = skipping.inflate(kubectlBlocks[2]!);
  } catch (err) {
    read = err;
  }
  assert.notDeepEqual(read, { streamtype: ['stdout'] }, 'skipping a block must not read the next one correctly');
});

/** A persistent zlib writer flushed per block, as Go's compress/zlib is in spdystream. */
async function referenceDeflate(blocks: Buffer[]): Promise<Buffer[]> {
  const deflate: Deflate = createDeflate({ dictionary: spdyDictionary, level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const out: Buffer[] = [];
  for (const block of blocks) {
    deflate.write(block);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  deflate.destroy();
  return out;
}

/** A persistent zlib reader, as Go's is: it must accept HeaderDeflater's blocks one by one. */
async function referenceInflate(blocks: Buffer[]): Promise<Buffer[]> {
  const inflate: Inflate = createInflate({ dictionary: spdyDictionary });
  const chunks: Buffer[] = [];
  inflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const out: Buffer[] = [];
  for (const block of blocks) {
    inflate.write(block);
    await new Promise<void>((resolve) => inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  inflate.destroy();
  return out;
}

/** Port-forward-like headers, repeated so later blocks refer back, and long enough to slide the window. */
function manyHeaderSets(count: number): Record<string, string>[] {
  return Array.from({ length: count }, (_, i) => ({
    streamtype: i % 2 === 0 ? 'data' : 'error', port: String(8000 + (i % 7)), requestid: String(i),
    'x-filler': `value-${i}-`.repeat(40),
  }));
}

test('blocks from a persistent zlib writer inflate correctly across a window that slides past 32 KiB', async () => {
  const sets = manyHeaderSets(120);
  const compressed = await referenceDeflate(sets.map((h) => encodeHeaderBlock(h)));
  assert.ok(sets.reduce((n, h) => n + encodeHeaderBlock(h).byteLength, 0) > 32 * 1024);
  const inflater = new HeaderInflater();
  for (const [i, block] of compressed.entries()) {
    assert.deepEqual(plain(inflater.inflate(block)), Object.fromEntries(Object.entries(sets[i]!).map(([k, v]) => [k, [v]])), `block ${i}`);
  }
});

test('HeaderDeflater blocks are read by a persistent zlib reader, block by block', async () => {
  const sets = manyHeaderSets(120);
  const deflater = new HeaderDeflater();
  const blocks = sets.map((h) => deflater.compress(h));
  assert.equal(blocks[0]!.subarray(0, 6).toString('hex'), '78f9e3c6a7c2', 'the stream names the SPDY/3 dictionary');
  const inflated = await referenceInflate(blocks);
  for (const [i, raw] of inflated.entries()) assert.deepEqual(parseHeaderBlock(raw), parseHeaderBlock(encodeHeaderBlock(sets[i]!)), `block ${i}`);
});

test('HeaderDeflater and HeaderInflater agree, and repeated headers compress to a few bytes', () => {
  const deflater = new HeaderDeflater();
  const inflater = new HeaderInflater();
  const sizes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const block = deflater.compress({ streamtype: 'stdout', multi: ['a', 'b'] });
    sizes.push(block.byteLength);
    assert.deepEqual(plain(inflater.inflate(block)), { streamtype: ['stdout'], multi: ['a', 'b'] });
  }
  assert.ok(sizes[4]! < sizes[0]! / 2, `later blocks reuse the history: ${sizes.join(',')}`);
});

function rawBlock(parts: (number | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => {
    if (typeof p === 'string') return Buffer.from(p, 'latin1');
    const b = Buffer.alloc(4);
    b.writeUInt32BE(p);
    return b;
  }));
}

/** compressFirst compresses `block` as the first block of a valid SPDY header stream. */
function compressFirst(block: Buffer): Buffer {
  return Buffer.concat([Buffer.from('78f9e3c6a7c2', 'hex'), deflateRawSync(block, { dictionary: spdyDictionary, finishFlush: constants.Z_SYNC_FLUSH })]);
}

const malformed: { name: string; compressed: Buffer; reason: string }[] = [
  { name: 'a truncated header block (count says 2, one pair follows)', compressed: compressFirst(rawBlock([2, 1, 'a', 1, 'b'])), reason: 'truncated' },
  { name: 'a block cut inside a value', compressed: compressFirst(rawBlock([1, 1, 'a', 10, 'abc'])), reason: 'truncated' },
  { name: 'a block shorter than its count', compressed: compressFirst(Buffer.from([0, 0])), reason: 'truncated' },
  { name: 'bytes after the last header', compressed: compressFirst(rawBlock([1, 1, 'a', 1, 'b', 'zz'])), reason: 'trailing-bytes' },
  { name: 'an upper-case header name', compressed: compressFirst(rawBlock([1, 10, 'streamType', 5, 'stdin'])), reason: 'uppercase-name' },
  { name: 'a duplicate header name', compressed: compressFirst(rawBlock([2, 1, 'a', 1, 'b', 1, 'a', 1, 'c'])), reason: 'duplicate-name' },
  { name: 'an empty header name', compressed: compressFirst(rawBlock([1, 0, 1, 'b'])), reason: 'empty-name' },
  { name: 'a zlib stream without the dictionary flag', compressed: Buffer.concat([Buffer.from('78da', 'hex'), deflateRawSync(rawBlock([0]), { finishFlush: constants.Z_SYNC_FLUSH })]), reason: 'bad-dictionary' },
  { name: 'a zlib stream naming another dictionary', compressed: Buffer.from('78f900000001000000ffff', 'hex'), reason: 'bad-dictionary' },
  { name: 'bytes that are not a zlib header', compressed: Buffer.from('0102030405060708', 'hex'), reason: 'bad-zlib-header' },
  { name: 'invalid deflate data', compressed: Buffer.from('78f9e3c6a7c2ffffffffff', 'hex'), reason: 'bad-deflate' },
  {
    name: 'a final deflate block that ends the zlib stream',
    compressed: Buffer.concat([Buffer.from('78f9e3c6a7c2', 'hex'), deflateRawSync(rawBlock([0]), { dictionary: spdyDictionary })]),
    reason: 'stream-ended',
  },
];

for (const row of malformed) {
  test(`${row.name} is refused with AIRLOCK_SPDY_HEADERS_INVALID (${row.reason})`, () => {
    assert.throws(() => new HeaderInflater().inflate(row.compressed), (err: unknown) => {
      assert.ok(isAirlockError(err, 'AIRLOCK_SPDY_HEADERS_INVALID'), String(err));
      assert.equal(err.details?.reason, row.reason);
      return true;
    });
  });
}

test('a header block that inflates past the limit is refused before it is buffered (zlib bomb)', () => {
  const bomb = compressFirst(rawBlock([1, 1, 'a', 4_000_000, 'x'.repeat(4_000_000)]));
  assert.ok(bomb.byteLength < 10_000);
  assert.throws(() => new HeaderInflater({ maxHeaderBlockBytes: 64 * 1024 }).inflate(bomb), (err: unknown) =>
    isAirlockError(err, 'AIRLOCK_SPDY_HEADERS_INVALID') && err.details?.reason === 'too-large');
});

test('an inflater that refused a block keeps refusing, since later blocks depend on it', () => {
  const inflater = new HeaderInflater();
  assert.throws(() => inflater.inflate(Buffer.from('0102', 'hex')));
  assert.throws(() => inflater.inflate(kubectlBlocks[0]!), (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_HEADERS_INVALID'));
});

test('NUL-separated values arrive as several values, as spdystream splits them', () => {
  assert.deepEqual(plain(parseHeaderBlock(rawBlock([1, 1, 'a', 3, 'x\0y']))), { a: ['x', 'y'] });
  assert.deepEqual(plain(parseHeaderBlock(rawBlock([0]))), {});
});

test('a header named __proto__ is an ordinary header, not a prototype change', () => {
  const headers = parseHeaderBlock(rawBlock([2, 9, '__proto__', 1, 'x', 10, 'streamtype', 5, 'stdin']));
  assert.deepEqual(headers.__proto__, ['x']);
  assert.deepEqual(headers.streamtype, ['stdin']);
  assert.equal(Object.getPrototypeOf(headers), null);
});
