/**
 * How a stream session's recording (exec, attach, port-forward; WebSocket or SPDY) reaches the
 * ledger, and how the ledger slows the stream down when it cannot keep up.
 *
 * - Batches are appended as they come. The ledger keeps the order of its appends and commits
 *   whatever queued up while the previous commit was syncing in one transaction, so the batches
 *   of a fast stream share commits instead of waiting for one commit each.
 * - What has been handed to the ledger and is not yet durable is counted. Past `highWater`
 *   bytes the session's ReadHold is set and the relay stops reading both legs; below `lowWater`
 *   it reads again. A stream faster than the disk therefore waits for the disk instead of piling
 *   its recording up in airlock's memory (a `cat` of a large file would otherwise grow the
 *   process by the size of the file). All sessions together also share a budget
 *   (RecordingBudget), so many fast sessions at once stay bounded too.
 * - The first batch the ledger refuses calls `unrecorded` once: the forwarder ends the session
 *   (fail closed). `end` appends the session's final entry after every batch before it has
 *   settled, so the final entry is the last of the session.
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import { encodeTerminalBatch, TERMINAL_BATCH_TYPE } from '../../../evidence/terminal-batch.js';
import type { RecordedEvent } from '../../../evidence/terminal-recording.js';
import type { Detector } from '../../../masking/detectors/detector.js';

/** Bytes of a session's recording that may wait for the ledger before its relay stops reading. */
export const RECORDING_HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** Below this many waiting bytes a held relay reads again. */
export const RECORDING_LOW_WATER_BYTES = 2 * 1024 * 1024;
/** Bytes of all sessions' recordings that may wait for the ledger before the sessions adding to them are held. */
export const RECORDING_BUDGET_HIGH_BYTES = 64 * 1024 * 1024;
/** Below this many bytes waiting in all, sessions held for the budget read again. */
export const RECORDING_BUDGET_LOW_BYTES = 32 * 1024 * 1024;

/**
 * RecordingBudget bounds what all of a process's stream sessions together may have waiting for
 * the ledger: many fast sessions at once would each stay under their own mark and still add up.
 * A session that adds a batch while the total is over `high` is held; the sessions it held read
 * again once the total is below `low`.
 */
export class RecordingBudget {
  #waiting = 0;
  readonly #held = new Set<() => void>();

  constructor(
    readonly high = RECORDING_BUDGET_HIGH_BYTES,
    readonly low = RECORDING_BUDGET_LOW_BYTES,
  ) {}

  /** Bytes of all sessions waiting for the ledger. */
  get waitingBytes(): number {
    return this.#waiting;
  }

  /** add counts a batch; true when the total is now over the mark and its session must be held. */
  add(size: number): boolean {
    this.#waiting += size;
    return this.#waiting > this.high;
  }

  /** settle uncounts a batch; below the low mark every session held for the budget is released. */
  settle(size: number): void {
    this.#waiting -= size;
    if (this.#waiting >= this.low || this.#held.size === 0) return;
    const release = [...this.#held];
    this.#held.clear();
    for (const r of release) r();
  }

  /** wait registers a held session's release. */
  wait(release: () => void): void {
    this.#held.add(release);
  }
}

/** The budget every session shares unless a test gives it its own. */
const processBudget = new RecordingBudget();

/**
 * ReadHold: one reason for a relay to stop reading both of its legs for a while. The relay
 * watches it; the session's ledger sets it. A leg also stops for its own reason (the other leg
 * cannot write as fast), and reads again only when neither reason holds.
 */
export class ReadHold {
  #held = false;
  readonly #listeners = new Set<(held: boolean) => void>();

  get held(): boolean {
    return this.#held;
  }

  set(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    for (const listener of this.#listeners) listener(held);
  }

  /** watch calls `listener` on every change; the returned function stops it. */
  watch(listener: (held: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** What a stream forwarder needs besides the exchange: its detectors and the hold counter. */
export interface StreamSessionDeps {
  detectors: readonly Detector[];
  /** Called each time a stream stops being read because its recording is behind (metrics). */
  onRecordingHeld?: () => void;
}

export interface SessionLedgerOptions {
  /** Called once, on the first batch the ledger refuses: the session must end. */
  unrecorded(): void;
  /** Called each time the relay is held because the recording is behind (metrics). */
  onHold?: () => void;
  highWater?: number;
  lowWater?: number;
  /** Shared by all sessions of the process by default. */
  budget?: RecordingBudget;
}

/** A body of a stream entry, as the recorder takes it. */
export interface SessionBatch {
  contentType: string;
  body: string | Buffer;
}

/** The terminal events of an exec or attach session, as one stream entry. */
export function terminalBatch(events: readonly RecordedEvent[]): [SessionBatch, Record<string, unknown>] {
  return [{ contentType: TERMINAL_BATCH_TYPE, body: encodeTerminalBatch(events) }, { terminal: true, events: events.length }];
}

export class SessionLedger {
  /** Set while the recording is behind: the relay reads neither leg. */
  readonly hold = new ReadHold();
  readonly #record: ResponseRecorder;
  readonly #options: SessionLedgerOptions;
  readonly #high: number;
  readonly #low: number;
  readonly #budget: RecordingBudget;
  /** The last append handed to the ledger; settles after every one before it. */
  #last: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #failed = false;
  /** Held for this session's own backlog, and for the process's budget. */
  #heldForSelf = false;
  #heldForBudget = false;

  constructor(record: ResponseRecorder, options: SessionLedgerOptions) {
    this.#record = record;
    this.#options = options;
    this.#high = options.highWater ?? RECORDING_HIGH_WATER_BYTES;
    this.#low = options.lowWater ?? RECORDING_LOW_WATER_BYTES;
    this.#budget = options.budget ?? processBudget;
  }

  /** Bytes handed to the ledger and not yet durable. */
  get waitingBytes(): number {
    return this.#waiting;
  }

  /**
   * batch appends one stream entry now; the promise settles when it is durable (and rejects
   * when the ledger refused it, after `unrecorded` was called).
   */
  batch(body: SessionBatch, data: Record<string, unknown>): Promise<void> {
    const size = typeof body.body === 'string' ? Buffer.byteLength(body.body) : body.body.length;
    this.#waiting += size;
    if (this.#waiting > this.#high) this.#heldForSelf = true;
    if (this.#budget.add(size) && !this.#heldForBudget) {
      this.#heldForBudget = true;
      this.#budget.wait(() => {
        this.#heldForBudget = false;
        this.#update();
      });
    }
    this.#update();
    const appended = this.#record.stream({ body, data }).then(
      () => this.#settled(size),
      (err: unknown) => {
        this.#settled(size);
        if (!this.#failed) {
          this.#failed = true;
          this.#options.unrecorded();
        }
        throw err;
      },
    );
    this.#last = Promise.all([this.#last, appended.catch(() => undefined)]);
    return appended;
  }

  /** settled resolves once every batch appended so far has settled, durable or refused. */
  settled(): Promise<void> {
    return this.#last.then(() => undefined);
  }

  /** end appends the session's final entry once every batch before it has settled; never rejects. */
  end(response: Parameters<ResponseRecorder['response']>[0]): Promise<void> {
    const done = this.#last.then(() => this.#record.response(response)).then(
      () => undefined,
      () => undefined,
    );
    this.#last = done;
    return done;
  }

  #settled(size: number): void {
    this.#waiting -= size;
    if (this.#waiting < this.#low) this.#heldForSelf = false;
    this.#update();
    this.#budget.settle(size);
  }

  #update(): void {
    const held = this.#heldForSelf || this.#heldForBudget;
    if (held && !this.hold.held) this.#options.onHold?.();
    this.hold.set(held);
  }
}
