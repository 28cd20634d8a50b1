/**
 * The protocol-neutral model of a recorded terminal session (exec, attach; WebSocket or SPDY):
 * timed events of stdin, stdout, stderr, resizes and the exit status. The gateway feeds a
 * TerminalRecorder with bytes that are already masked; the recorder stamps them with a time
 * offset from an injected clock and hands them out in batches, which the gateway appends to the
 * ledger as `stream` entries (`data.terminal: events[]`). asciicast.ts turns the events into a
 * replay file.
 *
 * Boundaries: no I/O, no masking, no ledger access. Data is text: bytes are decoded as UTF-8
 * with one decoder per channel, so a character split across two frames is kept whole; bytes
 * that are not UTF-8 become U+FFFD (as in asciinema). Binary payloads such as `kubectl cp`'s tar
 * stream are therefore not reproduced byte for byte; record them by other means.
 */
import { StringDecoder } from 'node:string_decoder';
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

/** How a session ended, as the error channel told it (see exec-status.ts). */
export type TerminalExit = { exitCode: number } | { message: string };

export interface TerminalRecorderOptions {
  /** Milliseconds from any origin; monotonic is best. Default: performance.now. */
  now?: () => number;
  /** Called with each full batch; flush() returns the rest. */
  onBatch?: (events: TerminalEvent[]) => void;
  /** Events per batch before onBatch is called. Default 256. */
  maxBatchEvents?: number;
  /** Characters of data per batch before onBatch is called. Default 1 Mi: a fast stream makes a few large ledger entries rather than many small ones (each entry costs a hash, a row and a blob). */
  maxBatchChars?: number;
}

type TextChannel = 'i' | 'o' | 'e';

/**
 * TerminalRecorder accumulates one session's events. The first event's clock reading is the
 * session start unless `start()` is called earlier. Recording after `close()` throws
 * AIRLOCK_INTERNAL: the gateway must not lose an event silently.
 *
 * @example
 * const rec = new TerminalRecorder({ onBatch: (events) => ledger.append({ kind: 'stream', data: { terminal: events } }) });
 * rec.resize(80, 24); rec.output('o', maskedStdout); rec.exit({ exitCode: 0 });
 * const rest = rec.close();
 */
export class TerminalRecorder {
  readonly #now: () => number;
  readonly #onBatch: ((events: TerminalEvent[]) => void) | undefined;
  readonly #maxEvents: number;
  readonly #maxChars: number;
  /** StringDecoder: the same text as a streaming TextDecoder (U+FFFD included), at several times its speed. */
  readonly #decoders = new Map<TextChannel, StringDecoder>();
  #origin: number | undefined;
  #lastT = 0;
  #batch: TerminalEvent[] = [];
  #batchChars = 0;
  #closed = false;

  constructor(options: TerminalRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#onBatch = options.onBatch;
    this.#maxEvents = options.maxBatchEvents ?? 256;
    this.#maxChars = options.maxBatchChars ?? 1024 * 1024;
  }

  /** start fixes time zero (e.g. at the 101 answer); otherwise the first event does. */
  start(): void {
    this.#origin ??= this.#now();
  }

  /** output records bytes of stdin (i), stdout (o) or stderr (e). Empty chunks record nothing. */
  output(kind: TextChannel, bytes: Uint8Array): void {
    this.#assertOpen();
    let decoder = this.#decoders.get(kind);
    if (decoder === undefined) {
      decoder = new StringDecoder('utf8');
      this.#decoders.set(kind, decoder);
    }
    const text = decoder.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (text !== '') this.#push(kind, text);
  }

  /** resize records a new terminal size. */
  resize(width: number, height: number): void {
    this.#assertOpen();
    this.#push('r', `${width}x${height}`);
  }

  /** exit records how the command ended. */
  exit(status: TerminalExit): void {
    this.#assertOpen();
    this.#flushDecoders();
    this.#push('x', 'exitCode' in status ? String(status.exitCode) : status.message);
  }

  /** flush returns the events not yet handed to onBatch and starts a new batch. */
  flush(): TerminalEvent[] {
    const out = this.#batch;
    this.#batch = [];
    this.#batchChars = 0;
    return out;
  }

  /** close ends the recording (flushing a half character as U+FFFD) and returns the last events. */
  close(): TerminalEvent[] {
    if (!this.#closed) {
      this.#flushDecoders();
      this.#closed = true;
    }
    return this.flush();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #flushDecoders(): void {
    for (const [kind, decoder] of this.#decoders) {
      const rest = decoder.end();
      if (rest !== '') this.#push(kind, rest);
    }
  }

  #push(kind: TerminalEventKind, data: string): void {
    const now = this.#now();
    this.#origin ??= now;
    // A clock that steps back (wall time) must not make the replay run backwards.
    const t = Math.max(this.#lastT, Math.round((now - this.#origin) * 1000) / 1e6);
    this.#lastT = t;
    this.#batch.push({ t, kind, data });
    this.#batchChars += data.length;
    if (this.#onBatch && (this.#batch.length >= this.#maxEvents || this.#batchChars >= this.#maxChars)) {
      this.#onBatch(this.flush());
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('AIRLOCK_INTERNAL', 'a terminal event arrived after its recording was closed');
  }
}
