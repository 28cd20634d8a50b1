/**
 * Display text for stream masking: splits terminal bytes into what a person would see (the
 * characters) and what they would not (ANSI/VT escape sequences), keeping for every character
 * the byte offset it came from. Detectors then run on the displayed text, so a secret with a
 * colour code inside it (`gh\e[1mp_…`) is still found, and the masker rewrites bytes without
 * ever cutting an escape sequence or a UTF-8 character in two.
 *
 * Handled (ECMA-48): CSI `ESC [ params intermediates final`, the string controls OSC `ESC ]`,
 * DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _` ended by BEL or ST (`ESC \`), and two-byte
 * `ESC intermediates final` sequences. In a two-byte sequence whose final byte is a letter or a
 * digit (`ESC 7`, `ESC M`, `ESC c` …) only the ESC is counted as escape and the letter stays in
 * the text: a terminal swallows it, but it may be the first character of a secret (`ESC ghp_…`
 * shows `hp_…`), which the detectors must still see whole. 8-bit C1 controls are not used by UTF-8 terminals and are
 * read as (invalid) UTF-8. Pure: no I/O, no state.
 *
 * Cost: the stretches between escape sequences are checked and decoded natively when they are
 * plain ASCII or valid UTF-8 (the common case: log lines, program output), and byte offsets are
 * worked out only for the few characters a caller asks about (a finding, the commit point);
 * anything else (invalid UTF-8) is read byte by byte.
 */
import { isAscii, isUtf8 } from 'node:buffer';

/** DisplayText is the parse of a byte buffer; `complete` bytes parsed, the rest is a fragment. */
export interface DisplayText {
  readonly text: string;
  /** byteAt(i) returns the byte where text[i] starts; byteAt(text.length) === complete. */
  byteAt(index: number): number;
  /** escapes lists the byte ranges [start, end) of escape sequences, in order. */
  readonly escapes: ReadonlyArray<readonly [number, number]>;
  /** complete counts the bytes that parsed fully; a trailing fragment is left unparsed. */
  readonly complete: number;
}

const ESC = 0x1b;
/** Below this many bytes a stretch is checked in JavaScript; a native call costs more. */
const SHORT = 48;
const NO_ESCAPES: ReadonlyArray<readonly [number, number]> = Object.freeze([]);

/** escapeEnd returns the end of the escape at i, or -1 when the buffer ends inside it. */
function escapeEnd(buf: Buffer, i: number): number {
  const n = buf.length;
  if (i + 1 >= n) return -1;
  const kind = buf[i + 1] ?? 0;
  if (kind === 0x5b) {
    let j = i + 2;
    while (j < n && (buf[j] ?? 0) >= 0x20 && (buf[j] ?? 0) <= 0x3f) j++;
    if (j >= n) return -1;
    const f = buf[j] ?? 0;
    return f >= 0x40 && f <= 0x7e ? j + 1 : j; // malformed: end before the stray byte
  }
  if (kind === 0x5d || kind === 0x50 || kind === 0x58 || kind === 0x5e || kind === 0x5f) {
    for (let j = i + 2; j < n; j++) {
      const b = buf[j];
      if (b === 0x07) return j + 1;
      if (b === ESC) {
        if (j + 1 >= n) return -1;
        if (buf[j + 1] === 0x5c) return j + 2;
      }
    }
    return -1;
  }
  let j = i + 1;
  while (j < n && (buf[j] ?? 0) >= 0x20 && (buf[j] ?? 0) <= 0x2f) j++;
  if (j >= n) return -1;
  const f = buf[j] ?? 0;
  if (j === i + 1 && isAlphanumeric(f)) return i + 1; // the letter stays in the text (see above)
  return f >= 0x30 && f <= 0x7e ? j + 1 : j;
}

function isAlphanumeric(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** isLoneEscape: the escape [start, end) is an ESC whose letter follows it as text (see escapeEnd). */
export function isLoneEscape(escape: readonly [number, number]): boolean {
  return escape[1] - escape[0] === 1;
}

/** utf8Length returns the byte length of the character led by b, or 0 for an invalid lead. */
function utf8Length(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/**
 * fragmentStart returns where a character cut off by the end of buf begins (a lead byte whose
 * continuation bytes have not all arrived), or buf.length when the last character is whole.
 */
function fragmentStart(buf: Buffer, from: number): number {
  const n = buf.length;
  for (let p = n - 1; p >= from && p >= n - 3; p--) {
    const b = buf[p] ?? 0;
    if ((b & 0xc0) === 0x80) continue;
    return utf8Length(b) > n - p ? p : n;
  }
  return n;
}

/**
 * Piece maps one stretch of text to its bytes: one byte per character from `from` (ASCII),
 * through `table` (byte offset per UTF-16 unit, for text read byte by byte), or else valid
 * UTF-8 whose offsets are counted on demand from the last one asked for.
 */
interface Piece {
  readonly text: number;
  readonly from: number;
  readonly ascii: boolean;
  readonly table: Int32Array | undefined;
  /** The last offset counted in a UTF-8 piece: text index `at` starts at byte `byte`. */
  at: number;
  byte: number;
}

/** Builder collects the stretches of text between escape sequences, with their pieces. */
class Builder {
  readonly parts: string[] = [];
  readonly pieces: Piece[] = [];
  readonly escapes: Array<readonly [number, number]> = [];
  length = 0;

  add(s: string, from: number, ascii: boolean, table?: Int32Array): void {
    this.parts.push(s);
    this.pieces.push({ text: this.length, from, ascii, table, at: this.length, byte: from });
    this.length += s.length;
  }

  finish(complete: number): DisplayText {
    const { parts, pieces, escapes, length } = this;
    const text = parts.length === 1 ? (parts[0] ?? '') : parts.join('');
    const byteAt = (index: number): number => {
      if (index >= length) return complete;
      // The last piece that starts at or before index.
      let lo = 0;
      let hi = pieces.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((pieces[mid]?.text ?? 0) <= index) lo = mid;
        else hi = mid - 1;
      }
      const p = pieces[lo];
      if (!p) return complete;
      if (p.ascii) return p.from + (index - p.text);
      if (p.table) return p.table[index - p.text] ?? complete;
      // Valid UTF-8: count the bytes of the characters before index, from the nearest known
      // offset. Both units of a surrogate pair start at the byte of their one character.
      const code = text.charCodeAt(index);
      const at = code >= 0xdc00 && code <= 0xdfff && index > p.text ? index - 1 : index;
      if (at < p.at) {
        p.at = p.text;
        p.byte = p.from;
      }
      p.byte += Buffer.byteLength(text.slice(p.at, at), 'utf8');
      p.at = at;
      return p.byte;
    };
    return { text, byteAt, escapes, complete };
  }
}

/**
 * parseDisplayText reads buf into display text. With `final` false a trailing fragment (half an
 * escape sequence or UTF-8 character) is left out of `complete`; with `final` true it is read
 * as it stands. Invalid UTF-8 becomes U+FFFD in the text and is passed on byte for byte.
 */
export function parseDisplayText(buf: Buffer, final: boolean): DisplayText {
  const n = buf.length;
  const ascii = n < SHORT ? asciiEnd(buf, 0, n) === n : isAscii(buf);
  const esc = buf.indexOf(ESC);
  if (ascii && esc < 0) {
    // Plain ASCII without escapes: the text is the bytes, character i is byte i.
    return { text: buf.toString('latin1'), byteAt: (index) => index, escapes: NO_ESCAPES, complete: n };
  }
  const cut = ascii || final ? n : fragmentStart(buf, 0);
  if (ascii || isUtf8(buf.subarray(0, cut))) return parseValid(buf, final, ascii, cut);
  return parseByStretch(buf, final, true);
}

/**
 * parseDisplayTextByteByByte is parseDisplayText without the native shortcuts: every byte is
 * read in JavaScript. It is the reference the shortcuts are tested against.
 */
export function parseDisplayTextByteByByte(buf: Buffer, final: boolean): DisplayText {
  return parseByStretch(buf, final, false);
}

/**
 * parseValid reads a buffer whose first `cut` bytes are valid UTF-8 (the rest, if any, a cut
 * character): it decodes them in one native call and finds the escape sequences in the
 * decoded string, where each ESC byte is an ESC character.
 */
function parseValid(buf: Buffer, final: boolean, ascii: boolean, cut: number): DisplayText {
  const n = buf.length;
  const whole = buf.toString(ascii ? 'latin1' : 'utf8', 0, cut);
  const b = new Builder();
  let i = 0; // byte
  let si = 0; // index in whole
  for (;;) {
    const se = whole.indexOf('\x1b', si);
    const units = (se < 0 ? whole.length : se) - si;
    // A stretch as long in characters as in bytes is ASCII; else look for its ESC byte.
    const e = se < 0 ? cut : buf[i + units] === ESC ? i + units : buf.indexOf(ESC, i);
    if (units > 0) b.add(whole.slice(si, si + units), i, e - i === units);
    if (se < 0) return b.finish(cut);
    const end = escapeEnd(buf, e);
    if (end < 0) {
      if (!final) return b.finish(e);
      b.escapes.push([e, n]);
      return b.finish(n);
    }
    b.escapes.push([e, end]);
    si = se + escapeUnits(buf, e, end);
    i = end;
  }
}

/** escapeUnits counts the UTF-16 units of the (valid UTF-8) escape sequence in [from, to). */
function escapeUnits(buf: Buffer, from: number, to: number): number {
  for (let j = from; j < to; j++) if ((buf[j] ?? 0) >= 0x80) return buf.toString('utf8', from, to).length;
  return to - from;
}

/**
 * parseByStretch reads buf stretch by stretch between escape sequences; with `native` each
 * stretch that is ASCII or valid UTF-8 is decoded in one call, the rest byte by byte.
 */
function parseByStretch(buf: Buffer, final: boolean, native: boolean): DisplayText {
  const n = buf.length;
  const b = new Builder();

  /** slow reads [from, to) byte by byte; it returns where it stopped (before a fragment). */
  const slow = (from: number, to: number): number => {
    const table = new Int32Array(to - from);
    const parts: string[] = [];
    let u = 0;
    let i = from;
    let stop = to;
    while (i < to) {
      let j = i;
      while (j < to && (buf[j] ?? 0) < 0x80) j++;
      if (j > i) {
        parts.push(buf.toString('latin1', i, j));
        for (let k = i; k < j; k++) table[u++] = k;
        i = j;
        continue;
      }
      const len = utf8Length(buf[i] ?? 0);
      let ok = len > 0;
      let fragment = false;
      for (let k = 1; ok && k < len; k++) {
        if (i + k >= n) {
          if (!final) fragment = true;
          ok = false;
          break;
        }
        if (((buf[i + k] ?? 0) & 0xc0) !== 0x80) ok = false;
      }
      if (fragment) {
        stop = i;
        break;
      }
      const ch = ok ? buf.toString('utf8', i, i + len) : '\ufffd';
      parts.push(ch);
      for (let k = 0; k < ch.length; k++) table[u++] = i;
      i += ok ? len : 1;
    }
    if (u > 0) b.add(parts.join(''), from, false, table.subarray(0, u));
    return stop;
  };

  /** decode adds the characters of [from, to) (no ESC inside); it returns where it stopped. */
  const decode = (from: number, to: number): number => {
    if (!native || to - from < SHORT) return slow(from, to);
    if (isAscii(buf.subarray(from, to))) {
      b.add(buf.toString('latin1', from, to), from, true);
      return to;
    }
    const cut = to === n && !final ? fragmentStart(buf, from) : to;
    if (!isUtf8(buf.subarray(from, cut))) return slow(from, to);
    if (cut > from) b.add(buf.toString('utf8', from, cut), from, false);
    return cut;
  };

  let i = 0;
  let esc = buf.indexOf(ESC);
  while (i < n) {
    const next = esc < 0 ? n : esc;
    if (next > i) {
      const stop = decode(i, next);
      if (stop < next) return b.finish(stop);
    }
    if (esc < 0) break;
    const end = escapeEnd(buf, esc);
    if (end < 0) {
      if (!final) return b.finish(esc);
      b.escapes.push([esc, n]);
      break;
    }
    b.escapes.push([esc, end]);
    i = end;
    esc = buf.indexOf(ESC, i);
  }
  return b.finish(n);
}

/** asciiEnd returns the end of the run of ASCII bytes in [from, to) that starts at from. */
function asciiEnd(buf: Buffer, from: number, to: number): number {
  let j = from;
  while (j < to && (buf[j] ?? 0) < 0x80) j++;
  return j;
}
