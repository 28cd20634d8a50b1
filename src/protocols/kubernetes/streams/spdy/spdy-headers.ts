/**
 * SPDY/3 header blocks: the name/value format and its zlib compression (SPDY draft 3.1 §2.6.10).
 *
 * Why state: each direction of a session is ONE zlib stream, primed with the SPDY/3 dictionary
 * and flushed (Z_SYNC_FLUSH) after every header block. A block may point back into any earlier
 * block of the same direction, so a block cannot be read alone, and a reader that missed one
 * block reads every later one wrongly. Hence one HeaderInflater per direction per session, fed
 * every header block in order, and a fatal error on the first block it cannot read.
 *
 * How, on Node 20 without private APIs: node:zlib's sync functions close their engine after one
 * call, and its streams are asynchronous. A sync flush ends every block on a byte boundary with
 * no open deflate block, so the only state a reader carries from one block to the next is the
 * 32 KiB history window (dictionary, then everything inflated so far). Each block is therefore
 * inflated as raw deflate with that window as the dictionary, and the window is kept here. The
 * deflater does the same in reverse, so its output is valid for any peer's persistent inflater.
 *
 * Boundaries: opens no socket; never sees frame boundaries (spdy-frames.ts does).
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { AirlockError } from '../../../../errors.js';
import { spdyDictionary, spdyDictionaryId } from './spdy-dictionary.js';

/** Header names and values; a value sent NUL-separated arrives as several (spdystream splits). */
export type SpdyHeaders = Readonly<Record<string, readonly string[]>>;

/** zlib's window: back-references reach at most 32 KiB into the history. */
const windowSize = 32 * 1024;
/** An empty, non-final stored block. Appended after a block to prove the zlib stream is still open. */
const openStreamProbe = Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff);

export type HeaderErrorReason =
  | 'bad-zlib-header' | 'bad-dictionary' | 'bad-deflate' | 'stream-ended' | 'too-large'
  | 'truncated' | 'trailing-bytes' | 'uppercase-name' | 'duplicate-name' | 'empty-name';

function headerError(reason: HeaderErrorReason, detail: string, cause?: unknown): AirlockError {
  return new AirlockError('AIRLOCK_SPDY_HEADERS_INVALID', detail, { cause, details: { reason } });
}

/** parseHeaderBlock reads an uncompressed block: count, then (len, name, len, value) pairs. */
export function parseHeaderBlock(block: Uint8Array): SpdyHeaders {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let at = 0;
  const u32 = (what: string): number => {
    if (at + 4 > block.byteLength) throw headerError('truncated', `header block ends inside ${what}`);
    const value = view.getUint32(at);
    at += 4;
    return value;
  };
  const text = (what: string): string => {
    const length = u32(`the length of ${what}`);
    if (at + length > block.byteLength) throw headerError('truncated', `header block ends inside ${what}`);
    const value = Buffer.from(block.buffer, block.byteOffset + at, length).toString('latin1');
    at += length;
    return value;
  };
  const count = u32('the header count');
  const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i < count; i++) {
    const name = text('a header name');
    // spdystream fails the session on these too, so refusing them keeps airlock's view and the
    // peer's view the same (no header read one way here and another way there).
    if (name === '') throw headerError('empty-name', 'a header name is empty');
    if (name !== name.toLowerCase()) throw headerError('uppercase-name', `header name ${JSON.stringify(name)} is not lower-case`);
    if (Object.hasOwn(headers, name)) throw headerError('duplicate-name', `header ${JSON.stringify(name)} appears twice`);
    headers[name] = text(`the value of ${name}`).split('\0');
  }
  if (at !== block.byteLength) throw headerError('trailing-bytes', `${block.byteLength - at} bytes follow the last header`);
  return headers;
}

/** encodeHeaderBlock writes headers uncompressed; names are lower-cased, several values NUL-joined. */
export function encodeHeaderBlock(headers: Readonly<Record<string, string | readonly string[]>>): Buffer {
  const parts: Buffer[] = [u32be(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name.toLowerCase(), 'latin1');
    const valueBytes = Buffer.from(typeof value === 'string' ? value : value.join('\0'), 'latin1');
    parts.push(u32be(nameBytes.byteLength), nameBytes, u32be(valueBytes.byteLength), valueBytes);
  }
  return Buffer.concat(parts);
}

function u32be(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** slide appends output to the history and keeps its last 32 KiB. */
function slide(window: Buffer, output: Buffer): Buffer {
  if (output.byteLength === 0) return window;
  return Buffer.concat([window, output]).subarray(-windowSize);
}

/** The zlib stream header every header stream opens with: deflate, 32 KiB window, FDICT, DICTID. */
function zlibPreamble(): Buffer {
  const out = Buffer.alloc(6);
  out[0] = 0x78; // CM 8 (deflate), CINFO 7 (32 KiB window)
  out[1] = 0xf9; // FLEVEL 3, FDICT, FCHECK so that 0x78f9 % 31 === 0 (what Go's zlib writes)
  out.writeUInt32BE(spdyDictionaryId, 2);
  return out;
}

export interface InflateLimits {
  /** Largest uncompressed header block accepted (a zlib bomb stops here). Default 256 KiB. */
  readonly maxHeaderBlockBytes?: number;
}

/**
 * HeaderInflater reads the header blocks of one direction of one session, in order. After any
 * error it stays failed, because every later block depends on the ones before.
 */
export class HeaderInflater {
  private window: Buffer = spdyDictionary;
  private started = false;
  private failed: unknown = undefined;
  private readonly maxBytes: number;

  constructor(limits: InflateLimits = {}) {
    this.maxBytes = limits.maxHeaderBlockBytes ?? 256 * 1024;
  }

  /** inflate decompresses and parses the next block; it throws AIRLOCK_SPDY_HEADERS_INVALID. */
  inflate(compressed: Uint8Array): SpdyHeaders {
    if (this.failed !== undefined) throw this.failed;
    try {
      return parseHeaderBlock(this.decompress(compressed));
    } catch (err) {
      this.failed = err;
      throw err;
    }
  }

  /** decompress returns the raw block and advances the window; exported for tests via inflate. */
  private decompress(compressed: Uint8Array): Buffer {
    let body = Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
    if (!this.started) {
      body = this.skipPreamble(body);
      this.started = true;
    }
    const input = Buffer.concat([body, openStreamProbe]);
    let result: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      result = inflateRawSync(input, {
        dictionary: this.window, finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: this.maxBytes, info: true,
      }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw headerError('too-large', `a header block inflates beyond ${this.maxBytes} bytes`, err);
      }
      throw headerError('bad-deflate', `a header block is not valid deflate data: ${(err as Error).message}`, err);
    }
    // A final deflate block ends the zlib stream; the probe then stays unread. spdystream would
    // fail on the next block, so the session is over here too.
    if (result.engine.bytesWritten !== input.byteLength) {
      throw headerError('stream-ended', 'a header block ended the zlib stream');
    }
    this.window = slide(this.window, result.buffer);
    return result.buffer;
  }

  private skipPreamble(body: Buffer): Buffer {
    if (body.byteLength < 2) throw headerError('bad-zlib-header', 'the first header block is shorter than a zlib header');
    const cmf = body[0] ?? 0;
    const flg = body[1] ?? 0;
    if ((cmf & 0x0f) !== 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 !== 0) {
      throw headerError('bad-zlib-header', 'the first header block does not start a zlib stream');
    }
    if ((flg & 0x20) === 0 || body.byteLength < 6) {
      throw headerError('bad-dictionary', 'the header zlib stream does not name the SPDY/3 dictionary');
    }
    const dictId = body.readUInt32BE(2);
    if (dictId !== spdyDictionaryId) {
      throw headerError('bad-dictionary', `the header zlib stream names dictionary 0x${dictId.toString(16)}, not SPDY/3's`);
    }
    return body.subarray(6);
  }
}

/**
 * HeaderDeflater writes the header blocks of one direction of one session. Use it only where
 * airlock is the sole writer of that direction's header blocks (a leg it terminates): blocks
 * injected into a relayed direction would shift the receiver's window under the sender's.
 */
export class HeaderDeflater {
  private window: Buffer = spdyDictionary;
  private started = false;

  /** compress returns the compressed block for `headers`, ready for a SYN_STREAM/SYN_REPLY/HEADERS. */
  compress(headers: Readonly<Record<string, string | readonly string[]>>): Buffer {
    const block = encodeHeaderBlock(headers);
    const body = deflateRawSync(block, { dictionary: this.window, finishFlush: constants.Z_SYNC_FLUSH, level: 9 });
    this.window = slide(this.window, block);
    if (this.started) return body;
    this.started = true;
    return Buffer.concat([zlibPreamble(), body]);
  }
}
