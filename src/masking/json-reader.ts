/**
 * JsonReader: a validating reader over one complete JSON value held in a Buffer (a list item,
 * a Table row, a watch event, a `get` answer). It checks the grammar (RFC 8259: structure,
 * numbers, literals, string escapes) and reports where object members and values lie, without
 * building objects: the Secret rewriter then replaces a few byte ranges and copies the rest,
 * which is several times faster than JSON.parse plus JSON.stringify and keeps the upstream
 * formatting.
 *
 * String bodies are skipped with indexOf (memchr speed); escapes are validated where they
 * occur. Raw control characters inside strings are not rejected: they cannot change the
 * structure, and every client's decoder refuses them anyway.
 *
 * Errors are AIRLOCK_MASK_INVALID_JSON with an offset, never with content.
 */
import { AirlockError } from '../errors.js';

/** A member of an object: the key's token range, the value's range, and (near the top) its members. */
export interface Member {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  /** children are the members of an object value, recorded down to COLLECT_DEPTH. */
  children?: Member[];
}

/**
 * Objects are recorded down to this depth in the one validating pass, which reaches what
 * masking needs (watch event → object → metadata → annotations) without a second scan.
 */
const COLLECT_DEPTH = 4;

/** Past this nesting a value is refused: no client needs it, and recursion stays bounded. */
const MAX_DEPTH = 200;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** JsonReader reads one buffer; create one per value. */
export class JsonReader {
  private nextBackslash = -1;

  constructor(readonly buf: Buffer) {}

  /**
   * document validates that the buffer holds exactly one value (whitespace around it) and,
   * when it is an object, returns its members.
   */
  document(): { start: number; end: number; members: Member[] | undefined } {
    this.nextBackslash = -1;
    const start = this.ws(0);
    const members: Member[] | undefined = this.buf[start] === 0x7b ? [] : undefined;
    const end = members ? this.object(start, 1, members) : this.value(start, 0);
    if (this.ws(end) !== this.buf.length) throw this.fail(end, 'trailing bytes after the value');
    return { start, end, members };
  }

  /** members returns the members of an (already validated) object value. */
  members(member: Member): Member[] {
    if (member.children) return member.children;
    this.nextBackslash = -1; // the backslash cache only holds for a forward scan
    const out: Member[] = [];
    this.object(member.valueStart, 0, out);
    return out;
  }

  /** ws skips whitespace. */
  ws(i: number): number {
    const buf = this.buf;
    for (;;) {
      const c = buf[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
      i++;
    }
  }

  /** value validates the value at `i` (no leading whitespace) and returns the index after it. */
  value(i: number, depth: number): number {
    const c = this.buf[i];
    if (c === QUOTE) return this.string(i);
    if (c === 0x7b) return this.object(i, depth + 1);
    if (c === 0x5b) return this.array(i, depth + 1);
    if (c === 0x74) return this.literal(i, 'true');
    if (c === 0x66) return this.literal(i, 'false');
    if (c === 0x6e) return this.literal(i, 'null');
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number(i);
    throw this.fail(i, 'expected a value');
  }

  /** string validates the string token at `i` and returns the index after its closing quote. */
  string(i: number): number {
    const buf = this.buf;
    let j = i + 1;
    for (;;) {
      const q = buf.indexOf(QUOTE, j);
      if (q === -1) throw this.fail(i, 'unterminated string');
      if (this.nextBackslash < j) this.nextBackslash = indexOrEnd(buf, BACKSLASH, j);
      if (this.nextBackslash > q) return q + 1;
      j = this.escape(this.nextBackslash);
    }
  }

  /** hasEscape reports whether the string token [start, end) contains a backslash. */
  hasEscape(start: number, end: number): boolean {
    return this.buf.subarray(start, end).indexOf(BACKSLASH) !== -1;
  }

  /** key decodes a member's key; plain ASCII keys (nearly all) skip the UTF-8 decoder. */
  key(m: Member): string {
    const buf = this.buf;
    for (let i = m.keyStart + 1; i < m.keyEnd - 1; i++) {
      const c = buf[i]!;
      if (c === BACKSLASH || c >= 0x80) return this.text(m.keyStart, m.keyEnd);
    }
    return buf.toString('latin1', m.keyStart + 1, m.keyEnd - 1);
  }

  /**
   * keyIs compares a member's key with an ASCII name without decoding it. An escaped key is
   * longer than its text, so only a longer token needs decoding.
   */
  keyIs(m: Member, name: string): boolean {
    const length = m.keyEnd - m.keyStart - 2;
    if (length < name.length) return false;
    if (length > name.length) return this.hasEscape(m.keyStart, m.keyEnd) && this.text(m.keyStart, m.keyEnd) === name;
    const buf = this.buf;
    for (let i = 0; i < length; i++) if (buf[m.keyStart + 1 + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** text decodes the string token [start, end) to its value. */
  text(start: number, end: number): string {
    if (!this.hasEscape(start, end)) return this.buf.toString('utf8', start + 1, end - 1);
    return JSON.parse(this.buf.toString('utf8', start, end)) as string;
  }

  private escape(at: number): number {
    const c = this.buf[at + 1];
    if (c === 0x75) {
      for (let k = at + 2; k < at + 6; k++) if (!isHex(this.buf[k])) throw this.fail(at, 'bad \\u escape');
      return at + 6;
    }
    // " \ / b f n r t
    if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return at + 2;
    throw this.fail(at, 'bad escape');
  }

  private object(i: number, depth: number, out?: Member[]): number {
    if (depth > MAX_DEPTH) throw this.fail(i, 'nested too deeply');
    const buf = this.buf;
    let j = this.ws(i + 1);
    if (buf[j] === 0x7d) return j + 1;
    for (;;) {
      if (buf[j] !== QUOTE) throw this.fail(j, 'expected a key');
      const keyEnd = this.string(j);
      const colon = this.ws(keyEnd);
      if (buf[colon] !== 0x3a) throw this.fail(colon, 'expected a colon');
      const valueStart = this.ws(colon + 1);
      if (out && depth < COLLECT_DEPTH && buf[valueStart] === 0x7b) {
        const children: Member[] = [];
        const valueEnd = this.object(valueStart, depth + 1, children);
        out.push({ keyStart: j, keyEnd, valueStart, valueEnd, children });
        j = this.ws(valueEnd);
      } else {
        const valueEnd = this.value(valueStart, depth);
        out?.push({ keyStart: j, keyEnd, valueStart, valueEnd });
        j = this.ws(valueEnd);
      }
      if (buf[j] === 0x7d) return j + 1;
      if (buf[j] !== 0x2c) throw this.fail(j, 'expected a comma or }');
      j = this.ws(j + 1);
    }
  }

  private array(i: number, depth: number): number {
    if (depth > MAX_DEPTH) throw this.fail(i, 'nested too deeply');
    const buf = this.buf;
    let j = this.ws(i + 1);
    if (buf[j] === 0x5d) return j + 1;
    for (;;) {
      j = this.ws(this.value(j, depth));
      if (buf[j] === 0x5d) return j + 1;
      if (buf[j] !== 0x2c) throw this.fail(j, 'expected a comma or ]');
      j = this.ws(j + 1);
    }
  }

  private literal(i: number, word: 'true' | 'false' | 'null'): number {
    if (this.buf.toString('latin1', i, i + word.length) !== word) throw this.fail(i, 'bad literal');
    return i + word.length;
  }

  /** number follows RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(i: number): number {
    const buf = this.buf;
    let j = i;
    if (buf[j] === 0x2d) j++;
    if (buf[j] === 0x30) j++;
    else if (isDigit(buf[j])) while (isDigit(buf[j])) j++;
    else throw this.fail(i, 'bad number');
    if (buf[j] === 0x2e) {
      j++;
      if (!isDigit(buf[j])) throw this.fail(i, 'bad number');
      while (isDigit(buf[j])) j++;
    }
    if (buf[j] === 0x65 || buf[j] === 0x45) {
      j++;
      if (buf[j] === 0x2b || buf[j] === 0x2d) j++;
      if (!isDigit(buf[j])) throw this.fail(i, 'bad number');
      while (isDigit(buf[j])) j++;
    }
    return j;
  }

  private fail(at: number, what: string): AirlockError {
    return new AirlockError('AIRLOCK_MASK_INVALID_JSON', `${what} at byte ${at} of an object`);
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at === -1 ? buf.length : at;
}
