/**
 * Display text for stream masking: splits terminal bytes into what a person would see (the
 * characters) and what they would not (ANSI/VT escape sequences), keeping for every character
 * the byte offset it came from. Detectors then run on the displayed text, so a secret with a
 * colour code inside it (`gh\e[1mp_…`) is still found, and the masker rewrites bytes without
 * ever cutting an escape sequence or a UTF-8 character in two.
 *
 * Handled (ECMA-48): CSI `ESC [ params intermediates final`, the string controls OSC `ESC ]`,
 * DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _` ended by BEL or ST (`ESC \`), and two-byte
 * `ESC intermediates final` sequences. 8-bit C1 controls are not used by UTF-8 terminals and are
 * read as (invalid) UTF-8. Pure: no I/O, no state.
 */

/** DisplayText is the parse of a byte buffer; `complete` bytes parsed, the rest is a fragment. */
export interface DisplayText {
  readonly text: string;
  /** offsets[i] is the byte where text[i] starts; offsets[text.length] === complete. */
  readonly offsets: Int32Array;
  /** escapes lists the byte ranges [start, end) of escape sequences, in order. */
  readonly escapes: ReadonlyArray<readonly [number, number]>;
  /** complete counts the bytes that parsed fully; a trailing fragment is left unparsed. */
  readonly complete: number;
}

const ESC = 0x1b;

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
  return f >= 0x30 && f <= 0x7e ? j + 1 : j;
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
 * parseDisplayText reads buf into display text. With `final` false a trailing fragment (half an
 * escape sequence or UTF-8 character) is left out of `complete`; with `final` true it is read
 * as it stands. Invalid UTF-8 becomes U+FFFD in the text and is passed on byte for byte.
 */
export function parseDisplayText(buf: Buffer, final: boolean): DisplayText {
  const n = buf.length;
  const parts: string[] = [];
  const offsets = new Int32Array(n + 1);
  const escapes: Array<readonly [number, number]> = [];
  let t = 0;
  let i = 0;
  while (i < n) {
    // Fast path: a run of printable ASCII and ordinary controls.
    let j = i;
    while (j < n && (buf[j] ?? 0) < 0x80 && buf[j] !== ESC) j++;
    if (j > i) {
      parts.push(buf.toString('latin1', i, j));
      for (let k = i; k < j; k++) offsets[t++] = k;
      i = j;
      continue;
    }
    const b = buf[i] ?? 0;
    if (b === ESC) {
      const end = escapeEnd(buf, i);
      if (end < 0) {
        if (!final) break;
        escapes.push([i, n]);
        i = n;
        continue;
      }
      escapes.push([i, end]);
      i = end;
      continue;
    }
    const len = utf8Length(b);
    let ok = len > 0;
    for (let k = 1; ok && k < len; k++) {
      if (i + k >= n) {
        if (!final) return finish(parts, offsets, escapes, t, i);
        ok = false;
        break;
      }
      if (((buf[i + k] ?? 0) & 0xc0) !== 0x80) ok = false;
    }
    const step = ok ? len : 1;
    const ch = ok ? buf.toString('utf8', i, i + len) : '\ufffd';
    parts.push(ch);
    for (let k = 0; k < ch.length; k++) offsets[t++] = i;
    i += step;
  }
  return finish(parts, offsets, escapes, t, i);
}

function finish(parts: string[], offsets: Int32Array, escapes: Array<readonly [number, number]>, t: number, complete: number): DisplayText {
  offsets[t] = complete;
  return { text: parts.join(''), offsets: offsets.subarray(0, t + 1), escapes, complete };
}
