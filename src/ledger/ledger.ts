/**
 * The ledger's write side: group commit, checkpoints and the failure policy around a store
 * backend. Appends made in the same iteration of the event loop are handed to the store together,
 * without waiting for earlier batches: the store seals batches in the order it receives them
 * and commits everything that arrived while it was busy as one transaction (one fsync). So
 * the gateway keeps preparing entries while the disk syncs, many concurrent appends share
 * an fsync, and each append resolves only when the commit holding it is durable.
 *
 * When the store cannot write, appends reject with AIRLOCK_LEDGER_UNAVAILABLE (fail closed)
 * or, with `failureMode: 'open'`, resolve as `unrecorded`. Either way the outage is itself
 * recorded: the first batch that commits afterwards starts with a `system` entry
 * (`ledger.recovered`) saying when, why and how many appends were refused or unrecorded.
 */
import { mkdirSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { openStoreForWriting } from './backends.js';
import { signCheckpoint } from './checkpoint.js';
import { prepareEntry, type PreparedEntry } from './entry-input.js';
import { resolveLedgerOptions, type LedgerOptions, type ResolvedLedgerOptions as Settings } from './options.js';
import type { BlobWrite } from './payload.js';
import { loadLedgerSigningKey, type LedgerSigningKey } from './signing-key.js';
import { isDuplicateIdError, type EncodedEntry, type Head, type SealedBatch, type StoreWriter } from './store.js';
import type { Checkpoint, EntryInput, Ledger, LedgerEntry, LedgerHealth } from './types.js';
import { uuidV7 } from './uuid-v7.js';
import { createWitnesses, type Witnesses } from './witness.js';

/**
 * How many entries are handed to the store at once. Appends from one event-loop iteration
 * normally go together at its end; once this many are queued they go right away, so the
 * writer thread starts committing (and fsyncing) them while this thread still prepares the
 * rest of the iteration's appends. The writer merges batches that arrive while it is busy into one
 * transaction, so an early send costs no extra fsync. Measured with 64 appenders
 * (bench/ledger): 32 gives ~20k entries/s where one batch per iteration gave ~15k.
 */
const MAX_BATCH = 32;

interface Pending extends PreparedEntry {
  started: number;
  resolve(entry: LedgerEntry): void;
  reject(err: Error): void;
}

/** An outage in progress: what the recovery entry will report. */
interface Outage {
  since: string;
  until: string;
  lost: number;
  error: string;
  /** A recovery entry is in a batch on its way to the store. */
  recording: boolean;
}

class StoreLedger implements Ledger {
  readonly chain: string;
  private head: Head;
  private lastCheckpoint: Checkpoint | undefined;
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly entryListeners = new Set<(entry: LedgerEntry) => void>();
  private writable = true;
  private lastError: string | undefined;
  private outage: Outage | undefined;
  /** The checkpoint queue: each one is signed after the previous is stored, in seq order. */
  private checkpoints: Promise<unknown> = Promise.resolve();
  /** Highest seq a checkpoint is queued for (stored or not yet). */
  private queuedSeq = 0;
  private readonly publishing = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly prepareDeps: Parameters<typeof prepareEntry>[1];

  constructor(
    private readonly s: Settings,
    private readonly writer: StoreWriter,
    private readonly key: LedgerSigningKey,
    private readonly witnesses: Witnesses,
    opened: { head: Head; lastCheckpoint?: Checkpoint },
  ) {
    this.chain = s.chain;
    this.prepareDeps = { newId: uuidV7, now: s.now, inlineLimit: s.inlineLimit };
    this.head = opened.head;
    this.lastCheckpoint = opened.lastCheckpoint;
    this.queuedSeq = opened.lastCheckpoint?.seq ?? 0;
    // Time-based checkpoints also seal a tail left unsigned by a process that crashed.
    this.timer = setInterval(() => this.autoCheckpoint(), s.checkpointIntervalMs);
    this.timer.unref();
  }

  append(input: EntryInput): Promise<LedgerEntry> {
    const started = performance.now();
    if (this.closing) return Promise.reject(new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', 'the ledger is closed'));
    let prepared: PreparedEntry;
    try {
      prepared = prepareEntry(input, this.prepareDeps);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<LedgerEntry>((resolve, reject) => {
      this.queue.push({ ...prepared, started, resolve, reject });
      if (this.queue.length >= MAX_BATCH) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs once the event loop has handled every socket that was ready in
        // this iteration, so the answers of several requests that arrived together share one
        // batch (one hand-off to the store, one commit) instead of one each.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.inFlight++;
    void this.commit(batch).finally(() => {
      if (--this.inFlight === 0 && !this.scheduled) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /** commit writes one batch, settling each append; it never throws. */
  private async commit(batch: Pending[]): Promise<void> {
    const outage = this.outage && !this.outage.recording ? this.outage : undefined;
    const reported = outage?.lost ?? 0;
    const entries: EncodedEntry[] = batch.map((p) => p.encoded);
    if (outage) {
      entries.unshift(this.recoveryEntry(outage));
      outage.recording = true;
    }
    let sealed: SealedBatch;
    try {
      sealed = await this.writer.write(entries, uniqueBlobs(batch));
    } catch (err) {
      if (outage) outage.recording = false;
      if (isDuplicateIdError(err) && batch.length > 1) {
        // Retry one by one so that only the entry whose id is taken is refused.
        for (const p of batch) await this.commit([p]);
      } else if (isDuplicateIdError(err)) {
        this.settle(batch[0], new AirlockError('AIRLOCK_INPUT_INVALID', `ledger entry id ${batch[0]?.entry.id} is already recorded`));
      } else {
        this.fail(batch, err);
      }
      return;
    }
    if (outage) this.recovered(outage, reported);
    this.writable = true;
    this.lastError = undefined;
    const offset = entries.length - batch.length;
    batch.forEach((p, i) => {
      const k = i + offset;
      const prevHash = k === 0 ? sealed.prevHash : (sealed.hashes[k - 1] as string);
      this.settle(p, { ...p.entry, chain: this.chain, seq: sealed.firstSeq + k, prevHash, hash: sealed.hashes[k] as string });
    });
    const last = sealed.firstSeq + entries.length - 1;
    if (last > this.head.seq) this.head = { seq: last, hash: sealed.hashes[entries.length - 1] as string };
    if (this.head.seq - this.queuedSeq >= this.s.checkpointEntries) this.autoCheckpoint();
  }

  /** recovered closes the outage once its recovery entry is durable (keeping failures that came after). */
  private recovered(outage: Outage, reported: number): void {
    this.s.logger.info({ chain: this.chain, lost: reported, since: outage.since }, 'ledger writable again');
    outage.recording = false;
    outage.lost -= reported;
    if (outage.lost <= 0 && this.outage === outage) this.outage = undefined;
  }

  private fail(batch: Pending[], err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const now = this.s.now().toISOString();
    if (this.writable) this.s.logger.error({ chain: this.chain, err: { message } }, 'ledger cannot write');
    this.writable = false;
    this.lastError = message;
    this.outage ??= { since: now, until: now, lost: 0, error: message, recording: false };
    this.outage.until = now;
    this.outage.lost += batch.length;
    for (const p of batch) {
      if (this.s.failureMode === 'open') {
        this.settle(p, { ...p.entry, chain: this.chain, seq: 0, prevHash: '', hash: '', unrecorded: true });
      } else {
        this.settle(p, new AirlockError('AIRLOCK_LEDGER_UNAVAILABLE', message, { cause: err }));
      }
    }
  }

  private settle(p: Pending | undefined, result: LedgerEntry | Error): void {
    if (!p) return;
    const durable = !(result instanceof Error) && !result.unrecorded;
    this.s.onAppend?.({ seconds: (performance.now() - p.started) / 1000, durable });
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    if (durable) {
      for (const listener of this.entryListeners) {
        try {
          listener(result);
        } catch {
          // A listener's failure is its own; the entry is durable either way.
        }
      }
    }
  }

  onEntry(listener: (entry: LedgerEntry) => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }

  private recoveryEntry(outage: Outage): EncodedEntry {
    return prepareEntry(this.recoveryInput(outage), this.prepareDeps).encoded;
  }

  private recoveryInput(outage: Outage): EntryInput {
    return {
      type: 'system',
      data: {
        event: 'ledger.recovered',
        failureMode: this.s.failureMode,
        // Fail closed refused these requests; fail open let them through without a record.
        [this.s.failureMode === 'open' ? 'unrecorded' : 'refused']: outage.lost,
        since: outage.since,
        until: outage.until,
        error: outage.error,
      },
    };
  }

  health(): LedgerHealth {
    return {
      writable: this.writable,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      chain: this.chain,
      lastSeq: this.head.seq,
      ...(this.lastCheckpoint ? { lastCheckpointAt: this.lastCheckpoint.time } : {}),
      lastCheckpointSeq: this.lastCheckpoint?.seq ?? 0,
      failOpen: this.s.failureMode === 'open',
      lostSinceFailure: this.outage?.lost ?? 0,
      witnessErrors: this.witnesses.errors(),
    };
  }

  checkpoint(): Promise<Checkpoint | undefined> {
    return this.queueCheckpoint(this.head);
  }

  /**
   * queueCheckpoint signs `head` once every checkpoint queued before it is stored. The head
   * is captured now, so a count-based checkpoint covers exactly the entry that triggered it
   * even if an earlier checkpoint is still being written.
   */
  private queueCheckpoint(head: Head): Promise<Checkpoint | undefined> {
    this.queuedSeq = Math.max(this.queuedSeq, head.seq);
    const next = this.checkpoints.then(() => this.signHead(head));
    this.checkpoints = next.catch(() => undefined);
    return next;
  }

  /** autoCheckpoint is the N-entries / T-seconds trigger; failures are logged, not thrown. */
  private autoCheckpoint(): void {
    if (this.head.seq <= this.queuedSeq) return;
    this.queueCheckpoint(this.head).catch((err: unknown) => {
      // Signed again by the next trigger: let the queue know this seq is not covered.
      this.queuedSeq = this.lastCheckpoint?.seq ?? 0;
      this.s.logger.warn({ chain: this.chain, err: { message: (err as Error).message } }, 'ledger checkpoint failed');
    });
  }

  private async signHead(head: Head): Promise<Checkpoint | undefined> {
    if (head.seq === 0) return undefined;
    if (this.lastCheckpoint && this.lastCheckpoint.seq >= head.seq) return this.lastCheckpoint;
    const cp = signCheckpoint({ chain: this.chain, ...head }, this.key, this.s.now());
    await this.writer.writeCheckpoint(cp);
    this.lastCheckpoint = cp;
    this.s.onCheckpoint?.(cp);
    const publish = this.witnesses.publish(cp);
    this.publishing.add(publish);
    void publish.finally(() => this.publishing.delete(publish));
    return cp;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.inFlight > 0 || this.scheduled) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // The closing checkpoint signs the tail, so a clean shutdown leaves nothing unsigned.
    await this.checkpoint().catch((err: unknown) => {
      this.s.logger.warn({ chain: this.chain, err: { message: (err as Error).message } }, 'ledger closing checkpoint failed');
    });
    await Promise.allSettled([...this.publishing]);
    await this.writer.close();
  }
}

function uniqueBlobs(batch: Pending[]): BlobWrite[] {
  const blobs = new Map<string, BlobWrite>();
  for (const p of batch) for (const b of p.blobs) blobs.set(b.sha256, b);
  return [...blobs.values()];
}

/**
 * openLedger opens (creating when needed) the store, the signing key and the witnesses, and
 * resumes the chain from its last stored entry. Throws when the store cannot be opened or
 * the options are invalid (AIRLOCK_CONFIG_INVALID): a gateway must not start without its
 * ledger.
 *
 * @example
 * const ledger = await openLedger({ dataDir: '/var/lib/airlock', store: { kind: 'sqlite' } });
 * const entry = await ledger.append({ type: 'request', identity, action, decision });
 * await ledger.close();
 */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  const s = resolveLedgerOptions(options);
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  const key = loadLedgerSigningKey(s.dataDir);
  const opened = await openStoreForWriting(s.dataDir, s.store, s.chain, s.logger);
  const ledger = new StoreLedger(s, opened.writer, key, createWitnesses(s.witness ?? [], s.logger), opened);
  if (s.failureMode === 'open') {
    // Running without the fail-closed guarantee is itself evidence an auditor must see.
    await ledger.append({ type: 'system', data: { event: 'ledger.opened', failureMode: 'open' } });
  }
  return ledger;
}
