/**
 * Terminal resize messages: channel 4 carries JSON `{"Width":W,"Height":H}` plus the newline Go's
 * encoder adds (reference §3.3). The kubelet reads the channel as one byte stream with a
 * `json.Decoder`, so a resize may be split across WebSocket messages, or two may share one;
 * ResizeDecoder reads it the same way and passes the split-read matrix.
 *
 * Field matching follows Go's encoding/json, which the kubelet uses: keys match case-insensitively,
 * the last match wins, a missing or null field stays 0, and values are uint16. Known difference:
 * Go refuses `80.0` or `8e1` for a uint16 where JSON.parse yields 80; airlock accepts them as 80.
 * JSON.parse also keeps only the last of two identically spelled keys, so `{"Width":80,"Width":null}`
 * reads as 0 where Go keeps 80. Both only change what is recorded for a client already off-spec.
 * Pure: opens no socket.
 */
import { malformed } from './channel-frame.js';

/** TerminalSize is a terminal's columns (width) and rows (height). */
export interface TerminalSize {
  width: number;
  height: number;
}

/** The longest resize value airlock buffers; a real one is about 30 bytes. */
export const MAX_RESIZE_BYTES = 4096;

/** encodeResize writes a resize exactly as client-go does, newline included. */
export function encodeResize(size: TerminalSize): Uint8Array {
  checkDimension('Width', size.width);
  checkDimension('Height', size.height);
  return Buffer.from(`${JSON.stringify({ Width: size.width, Height: size.height })}\n`, 'utf8');
}

/**
 * parseResize reads one complete resize payload (surrounding whitespace allowed). Throws
 * AIRLOCK_K8S_STREAM_MALFORMED (`bad-resize`) for anything else, including two values.
 */
export function parseResize(payload: Uint8Array): TerminalSize {
  const decoder = new ResizeDecoder();
  const sizes = decoder.push(payload);
  if (sizes.length !== 1 || decoder.pendingBytes !== 0) throw malformed('bad-resize', 'expected exactly one resize JSON object');
  return sizes[0] as TerminalSize;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * ResizeDecoder turns the bytes of one connection's resize channel into sizes. It keeps a
 * partial value (copied) until its closing brace arrives and never emits from a fragment.
 * Throws AIRLOCK_K8S_STREAM_MALFORMED (`bad-resize`) for a value that is not a resize object or
 * grows past MAX_RESIZE_BYTES; after that the channel cannot be trusted, so the caller ends it.
 */
export class ResizeDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** pendingBytes is the length of a value still waiting for more bytes (0 between values). */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** push appends bytes and returns every resize completed by them, in order. */
  push(bytes: Uint8Array): TerminalSize[] {
    let buf = this.#pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#pending, bytes]);
    const sizes: TerminalSize[] = [];
    for (;;) {
      let start = 0;
      while (start < buf.length && isSpace(buf[start] as number)) start++;
      buf = buf.subarray(start);
      if (buf.length === 0) break;
      if (buf[0] !== OPEN) throw malformed('bad-resize', 'a resize message is not a JSON object');
      const end = objectEnd(buf);
      if (end === -1) break;
      sizes.push(toSize(buf.subarray(0, end)));
      buf = buf.subarray(end);
    }
    if (buf.length > MAX_RESIZE_BYTES) throw malformed('bad-resize', `a resize message exceeds ${MAX_RESIZE_BYTES} bytes`);
    // Copy what is kept, so the caller may reuse its buffers.
    this.#pending = Buffer.from(buf);
    return sizes;
  }
}

/** objectEnd is the index just past the brace closing the object at 0, or -1 if not there yet. */
function objectEnd(buf: Buffer): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN || b === 0x5b) depth++;
    else if (b === CLOSE || b === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function toSize(json: Buffer): TerminalSize {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw malformed('bad-resize', 'a resize message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('bad-resize', 'a resize message is not a JSON object');
  }
  const size = { width: 0, height: 0 };
  for (const [key, v] of Object.entries(value)) {
    const field = key.toLowerCase();
    if (field !== 'width' && field !== 'height') continue;
    if (v === null) continue;
    checkDimension(key, v);
    size[field] = v as number;
  }
  return size;
}

function checkDimension(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw malformed('bad-resize', `${name} must be an integer from 0 to 65535`);
  }
}
