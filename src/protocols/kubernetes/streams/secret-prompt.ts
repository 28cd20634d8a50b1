/**
 * Answers to secret prompts, kept out of the recording. A password typed at `[sudo] password
 * for app:` or `Enter passphrase for key …:` is not echoed by the terminal, and no detector
 * can tell it from other typing — yet a recording of stdin would hold it in clear.
 * SecretPromptGuard follows the last line of output (as the cluster sent it, before masking; in
 * memory only) and, while that line is a secret prompt, has what is typed up to the end of the
 * line (Enter, Ctrl-C, Ctrl-D) recorded as one `[masked typed-secret]` instead. The cluster
 * gets the keystrokes as typed; only the record changes.
 *
 * Pure: no I/O, no timers.
 */
import type { StreamMasker } from '../../../masking/stream-masker.js';

/** The marker recorded in place of an answer to a secret prompt. */
export const TYPED_SECRET_MARKER = '[masked typed-secret]';

/**
 * A last line of output that asks for a secret: it names one and ends with `:` or `?` (blanks
 * after it allowed), e.g. `Password:`, `[sudo] password for app:`, `Password for user postgres:`, `Enter API key:`,
 * `Enter passphrase for key '~/.ssh/id_ed25519':`, `Enter PEM pass phrase:`, `Vault token:`.
 */
const SECRET_PROMPT = /(?:pass(?:word|phrase|code)|pass phrase|\bpin\b|secret|token|\botp\b|verification code|(?:api|access)[ _-]?key)[^\n]{0,160}[:?]$/i;

/** Escape sequences and other controls, which a prompt's text is read without. */
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const CONTROLS = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** How much of the current output line is kept (a prompt is short). */
const LINE_LIMIT = 256;

const EMPTY = Buffer.alloc(0);

export interface GuardedInput {
  /** A secret answer starts in this input: record TYPED_SECRET_MARKER (after anything held). */
  marker: boolean;
  /** What of the input is recorded as usual (masked): the bytes after the answer's end. */
  rest: Buffer;
}

export class SecretPromptGuard {
  #line = '';
  #answering = false;

  /** output notes output the client is shown (stdout or stderr), as it came from the cluster. */
  output(bytes: Uint8Array): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Only the tail can hold the last line; a large frame is not decoded whole.
    const text = buf.subarray(Math.max(0, buf.length - LINE_LIMIT * 2)).toString('utf8');
    const lineEnd = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    // A lone CR (a progress bar, CRLF split across frames) also starts the line again.
    this.#line = lineEnd >= 0 ? text.slice(lineEnd + 1) : (this.#line + text).slice(-LINE_LIMIT);
  }

  /** input sorts what the client typed into the hidden answer and the rest. */
  input(bytes: Uint8Array): GuardedInput {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let marker = false;
    if (!this.#answering) {
      if (!SECRET_PROMPT.test(this.#line.replace(CONTROLS, '').trimEnd())) return { marker, rest: buf };
      this.#answering = true;
      marker = true;
    }
    const end = answerEnd(buf);
    if (end < 0) return { marker, rest: EMPTY };
    // The answer ends: what follows is recorded, and only a new prompt hides input again.
    this.#answering = false;
    this.#line = '';
    return { marker, rest: buf.subarray(end) };
  }
}

/** answerEnd is where Enter, Ctrl-C or Ctrl-D ends the answer, or -1. */
function answerEnd(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x0d || b === 0x0a || b === 0x03 || b === 0x04) return i;
  }
  return -1;
}

/**
 * recordTyped runs what the client typed through the guard and the stdin masker and hands
 * `record` what the recording keeps: anything the masker held, the marker for an answer to a
 * secret prompt, then the rest masked. True when the masker took new bytes (its idle flush is
 * then due).
 */
export function recordTyped(guard: SecretPromptGuard, masker: StreamMasker, typed: Uint8Array, record: (bytes: Buffer) => void): boolean {
  const { marker, rest } = guard.input(typed);
  if (marker) {
    record(masker.flush());
    record(Buffer.from(TYPED_SECRET_MARKER));
  }
  if (rest.length === 0) return false;
  record(masker.push(rest));
  return true;
}
