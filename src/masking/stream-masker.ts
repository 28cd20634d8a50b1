/**
 * The stream masker: masks secrets and PII in terminal output and `logs` output that arrives
 * in arbitrary frames, before it reaches the agent and the ledger. Pure: it opens no socket and
 * keeps no timer; one masker per stream direction.
 *
 * Guarantees (tested by the split-read matrix in stream-masker.test.ts):
 * - The output does not depend on where the input was cut: a secret straddling two frames is
 *   masked exactly as if it had come in one, and no emitted chunk carries part of it.
 * - Escape sequences and UTF-8 characters are never cut; a masked range drops only displayed
 *   characters, and the escape sequences inside it are kept, so colours and cursor state survive.
 * - Latency: bytes are released at once unless a detector says a candidate may be starting
 *   (`ghp_`, `eyJ`, `-----BEGIN`, `password=`, or with `pii` any trailing word or number).
 *   A held candidate is released by the next frame that settles it, or by `flush()`: the caller
 *   must flush on idle (50 ms is a good value) so a lone `g` typed at a prompt is not stuck.
 * - Memory: at most `holdback` bytes are held. Past that the held candidate is masked whole
 *   (kind `overflow`) and released: fail closed, never a clear secret.
 * - Cost: each push reads the held bytes and the new frame once (plain ASCII and valid UTF-8
 *   natively) and runs each detector once over that text and the CONTEXT before it; a frame
 *   with nothing to mask goes out as the same bytes, not a copy.
 */
import type { Detector, Finding } from './detectors/detector.js';
import { tailTokenStart } from './detectors/detector.js';
import { isLoneEscape, parseDisplayText, type DisplayText } from './stream-display-text.js';

export interface StreamMaskerOptions {
  readonly detectors: readonly Detector[];
  /** replacement returns the text shown instead of a finding; it must not echo `match`. */
  readonly replacement: (kind: string, match: string) => string;
  /** holdback bounds the bytes held for a pending candidate (default 64 KiB). */
  readonly holdback?: number;
}

export interface StreamMasker {
  /**
   * push masks what can be settled of chunk (plus what was held) and returns it. The result
   * may share memory with chunk (nothing to mask: no copy), so chunk must not be changed after.
   */
  push(chunk: Uint8Array): Buffer;
  /** flush releases everything held, masking what is found; call on idle and at the end. */
  flush(): Buffer;
}

export const DEFAULT_HOLDBACK = 64 * 1024;
/** CONTEXT is how much released text detectors still see, for keys and `scheme://user:`. */
const CONTEXT = 128;
const EMPTY = Buffer.alloc(0);

/** mergeFindings sorts findings and unions overlapping ones (the first kind wins). */
function mergeFindings(found: Finding[]): Finding[] {
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of found) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.end > last.end) out[out.length - 1] = { start: last.start, end: f.end, kind: last.kind };
    } else out.push(f);
  }
  return out;
}

const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * oneByte returns Latin-1 text as a string of its own: a piece cut from a string that held any
 * character beyond Latin-1 (`✓`, `➜` in a prompt) keeps that string's two bytes per character,
 * and every later frame joined to it would be scanned at that width.
 */
function oneByte(text: string): string {
  return BEYOND_LATIN1.test(text) ? text : Buffer.from(text, 'latin1').toString('latin1');
}

/**
 * createStreamMasker returns a push/flush masker over the given detectors; it throws
 * nothing at run time (a detector that throws is a bug and propagates).
 *
 * @example
 * const m = createStreamMasker({ detectors: selectDetectors(['secretlint', 'jwt']),
 *   replacement: (kind) => `[masked:${kind}]` });
 * socket.on('data', (b) => out.write(m.push(b)));  // and m.flush() after 50 ms idle, and at end
 */
export function createStreamMasker(options: StreamMaskerOptions): StreamMasker {
  const { detectors, replacement } = options;
  const holdback = options.holdback ?? DEFAULT_HOLDBACK;
  let pending: Buffer = EMPTY;
  let context = '';

  function settle(full: string, base: number, found: Finding[], final: boolean): number {
    if (final) return full.length;
    let commit = full.length;
    for (const d of detectors) commit = Math.min(commit, d.pendingStart ? d.pendingStart(full) : tailTokenStart(full));
    // A finding that touches the end may still grow; one cut by the commit point is held whole.
    for (let changed = true; changed; ) {
      changed = false;
      for (const f of found) {
        if ((f.end >= full.length || (f.start < commit && f.end > commit)) && f.start < commit) {
          commit = f.start;
          changed = true;
        }
      }
    }
    return Math.max(commit, base);
  }

  function render(dt: DisplayText, full: string, base: number, found: Finding[], commit: number, overflow: boolean): Buffer {
    const byteAt = (idx: number): number => dt.byteAt(idx - base);
    let commitByte = commit >= full.length ? (overflow ? pending.length : dt.complete) : byteAt(commit);
    // An ESC whose letter is held stays held with it: masked later, the two go together.
    if (commit < full.length && dt.escapes.some((e) => e[1] === commitByte && isLoneEscape(e))) commitByte--;
    const spans: Finding[] = [];
    for (const f of found) {
      if (f.start >= commit) continue;
      const start = Math.max(f.start, base);
      const end = Math.min(f.end, commit);
      if (end > start) spans.push({ start, end, kind: f.kind });
    }
    if (overflow && commit < full.length) spans.push({ start: commit, end: full.length, kind: 'overflow' });
    context = oneByte(full.slice(Math.max(0, commit - CONTEXT), commit));
    const held = pending;
    pending = commitByte >= held.length ? EMPTY : Buffer.from(held.subarray(commitByte));
    // Nothing to mask: the released bytes go out as they came, without a copy.
    if (spans.length === 0) return commitByte === 0 ? EMPTY : held.subarray(0, commitByte);
    const out: Buffer[] = [];
    let cursor = 0;
    let esc = 0;
    for (const f of mergeFindings(spans)) {
      let from = byteAt(f.start);
      const to = f.end >= full.length ? (overflow ? held.length : dt.complete) : byteAt(f.end);
      while (esc < dt.escapes.length && (dt.escapes[esc]?.[1] ?? Infinity) < from) esc++;
      // An ESC whose letter starts the masked range goes with it: left in front of the
      // replacement it would swallow the replacement's first character.
      const before = dt.escapes[esc];
      if (before && before[1] === from && before[0] >= cursor && isLoneEscape(before)) {
        from = before[0];
        esc++;
      }
      out.push(held.subarray(cursor, from), Buffer.from(replacement(f.kind, full.slice(f.start, f.end)), 'utf8'));
      // Keep the escape sequences inside the masked range: the terminal state must not change.
      // (An ESC whose letter is masked away is dropped with it.)
      while (esc < dt.escapes.length && (dt.escapes[esc]?.[0] ?? 0) < from) esc++;
      while (esc < dt.escapes.length && (dt.escapes[esc]?.[1] ?? Infinity) <= to) {
        const e = dt.escapes[esc++];
        if (e && (!isLoneEscape(e) || e[1] >= to)) out.push(held.subarray(e[0], e[1]));
      }
      cursor = to;
    }
    out.push(held.subarray(cursor, commitByte));
    return Buffer.concat(out);
  }

  function run(final: boolean): Buffer {
    if (pending.length === 0) return EMPTY;
    const dt = parseDisplayText(pending, final);
    const full = context + dt.text;
    const base = context.length;
    const found = mergeFindings(detectors.flatMap((d) => d.find(full)).filter((f) => f.end > base));
    const commit = settle(full, base, found, final);
    const overflow = !final && pending.length > holdback && commit < full.length;
    if (overflow) return render(parseDisplayText(pending, true), full, base, found, commit, true);
    return render(dt, full, base, found, commit, false);
  }

  return {
    push(chunk) {
      if (chunk.length === 0) return EMPTY;
      // A view, not a copy: frames arrive as slices of the message they came in.
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
      return run(false);
    },
    flush() {
      return run(true);
    },
  };
}
