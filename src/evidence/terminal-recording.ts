/**
 * The protocol-neutral model of a recorded terminal session (exec, attach; WebSocket or SPDY):
 * timed events of stdin, stdout, stderr, resizes and the exit status. The gateway feeds a
 * TerminalRecorder with bytes that are already masked; the recorder stamps them with a time
 * offset from an injected clock and hands them out in batches, which the gateway appends to the
 * ledger as `stream` entries (terminal-batch.ts is how a batch is stored). asciicast.ts turns the
 * events into a replay file.
 *
 * Boundaries: no I/O, no masking, no ledger access. The recorder keeps the bytes as they passed
 * and decodes nothing: a reader decodes each event as UTF-8 (bytes that are not UTF-8 become
 * U+FFFD, as in asciinema). So that an event decodes on its own, a UTF-8 character cut between
 * two frames of one channel is held back and recorded whole with the next frame of that channel.
 * Binary payloads such as `kubectl cp`'s tar stream are therefore not reproduced as text; record
 * them by other means.
 */
import { AirlockError } from '../errors.js';

/** i: stdin, o: stdout, e: stderr, r: resize "WxH", x: exit status. */
export type TerminalEventKind = 'i' | 'o' | 'e' | 'r' | 'x';

/** TerminalEvent is one moment of a session. */
export interface TerminalEvent {
  /** Seconds since the session started, microsecond precision, never decreasing. */
  t: number;
  kind: TerminalEventKind;
  /**
   * Text for i/o/e; `"WxH"` for r; for x, the exit code in decimal, or the failure message when
   * the command ended without one (so a reader tests `/^\d+$/`).
   */
  data: string;
}

/**
 * RecordedEvent is a TerminalEvent as the recorder holds it, before it is stored: `bytes` are the
 * event's data as UTF-8 bytes (for i/o/e, the masked bytes as they passed, never a partial
 * character); it may share memory with the frame it came from.
 */
export interface RecordedEvent {
  t: number;
  kind: TerminalEventKind;
  bytes: Buffer;
}

/** How a session ended, as the error channel told it (see exec-status.ts). */
export type TerminalExit = { exitCode: number } | { message: string };

export interface TerminalRecorderOptions {
  /** Milliseconds from any origin; monotonic is best. Default: performance.now. */
  now?: () => number;
  /** Called with each full batch; flush() returns the rest. */
  onBatch?: (events: RecordedEvent[]) => void;
  /** Events per batch before onBatch is called. Default 256. */
  maxBatchEvents?: number;
  /** Bytes of data per batch before onBatch is called. Default 1 MiB: a fast stream makes a few large ledger entries rather than many small ones (each entry costs a hash, a row and a blob). */
  maxBatchBytes?: number;
}

type TextChannel = 'i' | 'o' | 'e';

/**
 * TerminalRecorder accumulates one session's events. The first event's clock reading is the
 * session start unless `start()` is called earlier. Recording after `close()` throws
 * AIRLOCK_INTERNAL: the gateway must not lose an event silently.
 *
 * @example
 * const rec = new TerminalRecorder({ onBatch: (events) => ledger.append({ type: 'stream', response: { body: encodeTerminalBatch(events) } }) });
 * rec.resize(80, 24); rec.output('o', maskedStdout); rec.exit({ exitCode: 0 });
 * const rest = rec.close();
 */
export class TerminalRecorder {
  readonly #now: () => number;
  readonly #onBatch: ((events: RecordedEvent[]) => void) | undefined;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  /** The start of a UTF-8 character each channel's last frame ended inside, held for its next frame. */
  readonly #partial = new Map<TextChannel, Buffer>();
  #origin: number | undefined;
  #lastT = 0;
  #batch: RecordedEvent[] = [];
  #batchBytes = 0;
  #closed = false;

  constructor(options: TerminalRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#onBatch = options.onBatch;
    this.#maxEvents = options.maxBatchEvents ?? 256;
    this.#maxBytes = options.maxBatchBytes ?? 1024 * 1024;
  }

  /** start fixes time zero (e.g. at the 101 answer); otherwise the first event does. */
  start(): void {
    this.#origin ??= this.#now();
  }

  /**
   * output records bytes of stdin (i), stdout (o) or stderr (e). Empty chunks record nothing.
   * The bytes are kept, not copied: the caller must not change them after.
   */
  output(kind: TextChannel, bytes: Uint8Array): void {
    this.#assertOpen();
    let chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const held = this.#partial.get(kind);
    if (held) {
      this.#partial.delete(kind);
      chunk = Buffer.concat([held, chunk]);
    }
    const whole = completeUtf8Length(chunk);
    // The cut-off character is copied: the frame it came in may be reused once this returns.
    if (whole < chunk.length) this.#partial.set(kind, Buffer.from(chunk.subarray(whole)));
    if (whole > 0) this.#push(kind, whole === chunk.length ? chunk : chunk.subarray(0, whole));
  }

  /** resize records a new terminal size. */
  resize(width: number, height: number): void {
    this.#assertOpen();
    this.#push('r', Buffer.from(`${width}x${height}`));
  }

  /** exit records how the command ended. */
  exit(status: TerminalExit): void {
    this.#assertOpen();
    this.#flushPartials();
    this.#push('x', Buffer.from('exitCode' in status ? String(status.exitCode) : status.message, 'utf8'));
  }

  /** flush returns the events not yet handed to onBatch and starts a new batch. */
  flush(): RecordedEvent[] {
    const out = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    return out;
  }

  /** close ends the recording (a half character left is recorded as it is: it reads as U+FFFD) and returns the last events. */
  close(): RecordedEvent[] {
    if (!this.#closed) {
      this.#flushPartials();
      this.#closed = true;
    }
    return this.flush();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #flushPartials(): void {
    for (const [kind, rest] of this.#partial) this.#push(kind, rest);
    this.#partial.clear();
  }

  #push(kind: TerminalEventKind, bytes: Buffer): void {
    const now = this.#now();
    this.#origin ??= now;
    // A clock that steps back (wall time) must not make the replay run backwards.
    const t = Math.max(this.#lastT, Math.round((now - this.#origin) * 1000) / 1e6);
    this.#lastT = t;
    this.#batch.push({ t, kind, bytes });
    this.#batchBytes += bytes.length;
    if (this.#onBatch && (this.#batch.length >= this.#maxEvents || this.#batchBytes >= this.#maxBytes)) {
      this.#onBatch(this.flush());
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('AIRLOCK_INTERNAL', 'a terminal event arrived after its recording was closed');
  }
}

/**
 * completeUtf8Length returns how many leading bytes of `bytes` do not end inside a UTF-8
 * character: the length, less a trailing lead byte and its continuation bytes when the
 * character they start is not complete yet. Anything else (invalid bytes included) counts as
 * complete, so holding back never delays more than three bytes.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = n - 1;
  // At most three continuation bytes (10xxxxxx) can follow a lead byte.
  while (i >= 0 && i >= n - 3 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = bytes[i] ?? 0;
  const need = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 1;
  return need > 1 && n - i < need ? i : n;
}
