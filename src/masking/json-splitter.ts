/**
 * JsonSplitter: a byte scanner that cuts a stream of Kubernetes JSON into pieces small enough
 * to parse one at a time, so masking a 200 MB SecretList or an hour-long watch keeps memory
 * bounded by the largest single object, never by the response.
 *
 * It tracks only what it needs: string boundaries (jumping over string bodies with indexOf),
 * nesting depth, and which key a top-level member has. From that it reports:
 *
 * - `onValue`: a complete top-level value (a `get` answer, one watch event);
 * - `onEnvelope`: the start of a list or Table, up to and including `"items":[` or `"rows":[`,
 *   with the members before that key already parsed (kind, apiVersion, ListMeta);
 * - `onElement`: one complete element of that array;
 * - `onRaw`: bytes that carry no value and pass through as they are (whitespace and commas
 *   between elements and values, `]` and the validated rest of a list after its array).
 *
 * A piece is reported only once its last byte has arrived and never from a fragment, so the
 * output does not depend on how the input was cut (the split-read matrix in the tests), and a
 * watch event is reported in the same `push` that completes it.
 *
 * Fail closed: bytes that are not JSON, a value larger than `maxValueBytes`, or a stream that
 * ends inside a value throw an AirlockError; the splitter then refuses all further input. A
 * list whose top-level members include Secret fields (`data`, `stringData`, `object`) before
 * its array is not streamed but parsed whole; after the array such members are refused, since
 * the bytes before them were already passed on. Error details give offsets only: a message
 * that quoted the input could quote a Secret.
 *
 * Boundaries: no parsing of elements, no masking, no I/O. Buffers given to the sink are valid
 * only during the call.
 */
import { AirlockError } from '../errors.js';
import { checkMembersAfter, checkMembersBetween, invalid, readEnvelope } from './list-members.js';

/** The top-level arrays streamed element by element: list items and Table rows. */
export type ContainerKey = 'items' | 'rows';

/** SplitSink receives the pieces, in stream order. */
export interface SplitSink {
  onRaw(bytes: Buffer): void;
  onValue(bytes: Buffer): void;
  onEnvelope(bytes: Buffer, envelope: Record<string, unknown>, key: ContainerKey): void;
  onElement(bytes: Buffer, key: ContainerKey): void;
}

/** SplitOptions fix what the stream may contain. */
export interface SplitOptions {
  /** streamContainers reports `items`/`rows` element by element instead of the whole value. */
  streamContainers: boolean;
  /** multipleValues accepts a sequence of top-level values (a watch stream). */
  multipleValues: boolean;
  /** maxValueBytes caps any piece the splitter holds: a whole value or one element. */
  maxValueBytes: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

type Phase = 'between' | 'done' | 'value' | 'container' | 'element' | 'segment';

/** JsonSplitter holds the scan state of one response; create one per response. */
export class JsonSplitter {
  private phase: Phase = 'between';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private keyString = false;
  private keyText = '';
  private keyFrom = 0;
  /** What the top-level object expects next: a key, its colon, its value, or a comma. */
  private expect: 'key' | 'colon' | 'value' | 'comma' = 'key';
  private pendingKey: ContainerKey | undefined;
  private lastKeyOffset = 0;
  private topIsObject = false;
  private fallback = false;
  private containerKey: ContainerKey = 'items';
  private element: 'first' | 'comma' | 'next' = 'first';
  private pieces: Buffer[] = [];
  private captured = 0;
  private captureFrom = 0;
  private rawFrom = 0;
  private nextQuote = -1;
  private nextBackslash = -1;
  private offset = 0;
  private failure: AirlockError | undefined;

  constructor(
    private readonly options: SplitOptions,
    private readonly sink: SplitSink,
  ) {}

  /** push scans one chunk and reports every piece it completes; it throws on bad input. */
  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    try {
      this.scan(chunk);
      this.offset += chunk.length;
    } catch (err) {
      this.failure = err instanceof AirlockError ? err : new AirlockError('AIRLOCK_INTERNAL', 'json splitter failed');
      throw this.failure;
    }
  }

  /** end checks that the stream stopped between values; it throws if it stopped inside one. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.inString || (this.phase !== 'between' && this.phase !== 'done')) {
      this.failure = invalid(`the response ended inside a JSON value (after ${this.offset} bytes)`);
      throw this.failure;
    }
  }

  private scan(chunk: Buffer): void {
    const n = chunk.length;
    this.nextQuote = -1;
    this.nextBackslash = -1;
    this.captureFrom = 0;
    this.rawFrom = 0;
    this.keyFrom = 0;
    let i = 0;
    while (i < n) {
      if (this.inString) i = this.skipString(chunk, i);
      else if (this.phase === 'element') i = this.scanElement(chunk, i);
      else if (this.phase === 'value' || this.phase === 'segment') i = this.scanMembers(chunk, i);
      else if (this.phase === 'container') i = this.scanContainer(chunk, i);
      else i = this.scanBetween(chunk, i);
    }
    if (this.isCapturing()) {
      this.captured += n - this.captureFrom;
      if (this.captured > this.options.maxValueBytes) throw tooLarge(this.options.maxValueBytes);
      if (n > this.captureFrom) this.pieces.push(Buffer.from(chunk.subarray(this.captureFrom))); // copy: callers may reuse chunks
    } else if (n > this.rawFrom) {
      this.sink.onRaw(chunk.subarray(this.rawFrom));
    }
    if (this.keyString && this.inString) this.keyText = (this.keyText + chunk.toString('latin1', this.keyFrom, Math.min(n, this.keyFrom + 8))).slice(0, 8);
  }

  private isCapturing(): boolean {
    return this.phase === 'value' || this.phase === 'segment' || this.phase === 'element';
  }

  /** skipString jumps to the end of a string body, honouring escapes that span chunks. */
  private skipString(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.escaped) {
      this.escaped = false;
      i += 1;
    }
    while (i < n) {
      if (this.nextQuote < i) this.nextQuote = indexOrEnd(chunk, QUOTE, i);
      if (this.nextBackslash < i) this.nextBackslash = indexOrEnd(chunk, BACKSLASH, i);
      if (this.nextBackslash < this.nextQuote) {
        i = this.nextBackslash + 2;
        if (i > n) this.escaped = true;
        continue;
      }
      if (this.nextQuote === n) return n;
      this.endString(chunk, this.nextQuote);
      return this.nextQuote + 1;
    }
    return n;
  }

  private endString(chunk: Buffer, at: number): void {
    this.inString = false;
    if (this.keyString) {
      this.keyString = false;
      const key = this.keyText + chunk.toString('latin1', this.keyFrom, Math.min(at, this.keyFrom + 8));
      this.pendingKey = key === 'items' || key === 'rows' ? key : undefined;
      this.expect = 'colon';
    } else if (this.depth === 1 && this.phase !== 'element') {
      this.expect = 'comma';
    }
  }

  private startString(chunk: Buffer, i: number): void {
    this.inString = true;
    if (this.depth === 1 && this.topIsObject && this.expect === 'key') {
      this.keyString = true;
      this.keyText = '';
      this.keyFrom = i + 1;
      this.lastKeyOffset = this.captureOffset(i);
    }
  }

  /** scanMembers walks a value held whole, or the members of a list around its array. */
  private scanMembers(chunk: Buffer, i: number): number {
    const n = chunk.length;
    for (; i < n; i++) {
      const c = chunk[i];
      if (c === QUOTE) {
        this.startString(chunk, i);
        return i + 1;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (c === LBRACKET && this.canStream()) return this.startContainer(chunk, i);
        this.depth++;
      } else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.depth === 0) return this.endValue(chunk, i);
        if (this.depth === 1) this.expect = 'comma';
      } else if (this.depth === 1) {
        if (c === COLON) this.expect = 'value';
        else if (c === COMMA) this.expect = 'key';
      }
    }
    return n;
  }

  /** scanElement walks one array element until its closing bracket. */
  private scanElement(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let depth = this.depth;
    for (; i < n; i++) {
      const c = chunk[i];
      if (c === QUOTE) {
        this.depth = depth;
        this.inString = true;
        return i + 1;
      }
      if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        depth--;
        if (depth === 2) {
          this.depth = depth;
          this.sink.onElement(this.takeCapture(chunk, i), this.containerKey);
          this.phase = 'container';
          this.element = 'comma';
          this.rawFrom = i + 1;
          return i + 1;
        }
      }
    }
    this.depth = depth;
    return n;
  }

  /** scanContainer walks the whitespace and commas between elements of a streamed array. */
  private scanContainer(chunk: Buffer, i: number): number {
    const n = chunk.length;
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (isSpace(c)) continue;
      if ((c === LBRACE || c === LBRACKET) && this.element !== 'comma') {
        this.flushRaw(chunk, i);
        this.startCapture(i);
        this.depth = 3;
        this.phase = 'element';
        return i + 1;
      }
      if (c === COMMA && this.element === 'comma') {
        this.element = 'next';
      } else if (c === RBRACKET && this.element !== 'next') {
        this.flushRaw(chunk, i + 1);
        this.depth = 1;
        this.expect = 'comma';
        this.pendingKey = undefined;
        this.phase = 'segment';
        this.startCapture(i + 1);
        return i + 1;
      } else {
        throw invalid(`unexpected byte in an array at offset ${this.offset + i}`);
      }
    }
    return n;
  }

  /** scanBetween walks the whitespace between top-level values. */
  private scanBetween(chunk: Buffer, i: number): number {
    const n = chunk.length;
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (isSpace(c)) continue;
      if (c !== LBRACE && c !== LBRACKET) throw invalid(`expected a JSON object at offset ${this.offset + i}`);
      if (this.phase === 'done') throw invalid(`a second JSON value starts at offset ${this.offset + i}`);
      this.flushRaw(chunk, i);
      this.startCapture(i);
      this.depth = 1;
      this.topIsObject = c === LBRACE;
      this.expect = 'key';
      this.pendingKey = undefined;
      this.fallback = false;
      this.phase = 'value';
      return i + 1;
    }
    return n;
  }

  private canStream(): boolean {
    return (
      this.depth === 1 &&
      this.expect === 'value' &&
      this.pendingKey !== undefined &&
      this.topIsObject &&
      !this.fallback &&
      this.options.streamContainers
    );
  }

  /** startContainer handles the `[` of `items`/`rows`: report what came before, then stream. */
  private startContainer(chunk: Buffer, i: number): number {
    const key = this.pendingKey!;
    const bytes = this.peekCapture(chunk, i);
    const text = bytes.toString('utf8');
    if (this.phase === 'value') {
      const { envelope, streamable } = readEnvelope(text, this.lastKeyOffset, this.offset + i);
      if (!streamable) {
        // Not a list after all (a Secret has no items): hold and parse it whole.
        this.fallback = true;
        this.depth++;
        return i + 1;
      }
      this.sink.onEnvelope(bytes, envelope, key);
    } else {
      checkMembersBetween(text, this.lastKeyOffset, this.offset + i);
      this.sink.onRaw(bytes);
    }
    this.pieces = [];
    this.captured = 0;
    this.containerKey = key;
    this.depth = 2;
    this.element = 'first';
    this.phase = 'container';
    this.rawFrom = i + 1;
    return i + 1;
  }

  /** endValue handles the bracket that closes a top-level value. */
  private endValue(chunk: Buffer, i: number): number {
    const bytes = this.takeCapture(chunk, i);
    if (this.phase === 'segment') {
      checkMembersAfter(bytes.toString('utf8'), this.offset + i);
      this.sink.onRaw(bytes);
    } else {
      this.sink.onValue(bytes);
    }
    this.phase = this.options.multipleValues ? 'between' : 'done';
    this.rawFrom = i + 1;
    return i + 1;
  }

  private startCapture(i: number): void {
    this.pieces = [];
    this.captured = 0;
    this.captureFrom = i;
  }

  private captureOffset(i: number): number {
    return this.captured + (i - this.captureFrom);
  }

  /** peekCapture returns the held bytes through index `last` of the chunk, keeping them held. */
  private peekCapture(chunk: Buffer, last: number): Buffer {
    const size = this.captureOffset(last + 1);
    if (size > this.options.maxValueBytes) throw tooLarge(this.options.maxValueBytes);
    const tail = chunk.subarray(this.captureFrom, last + 1);
    return this.pieces.length === 0 ? tail : Buffer.concat([...this.pieces, tail], size);
  }

  /** takeCapture returns the held bytes through index `last` and stops holding them. */
  private takeCapture(chunk: Buffer, last: number): Buffer {
    const bytes = this.peekCapture(chunk, last);
    this.pieces = [];
    this.captured = 0;
    return bytes;
  }

  private flushRaw(chunk: Buffer, end: number): void {
    if (end > this.rawFrom) this.sink.onRaw(chunk.subarray(this.rawFrom, end));
    this.rawFrom = end;
  }
}

function indexOrEnd(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at === -1 ? chunk.length : at;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function tooLarge(limit: number): AirlockError {
  return new AirlockError('AIRLOCK_MASK_TOO_LARGE', `the limit is ${limit} bytes per object`);
}
