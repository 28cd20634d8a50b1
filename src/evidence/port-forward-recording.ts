/**
 * The protocol-neutral record of a port-forward session: each forwarded connection's open and
 * close with its pod port and the bytes it carried each way, the errors the cluster reported for
 * it (a closed port, say), and — only when capture is on — the bytes themselves, already masked
 * by the caller. The gateway appends the batches to the ledger as `stream` entries
 * (`data.portForward`) and the summary to the session's final entry.
 *
 * Boundaries: no I/O, no masking, no protocol. A connection is named by what the protocol
 * gives: the SPDY `requestid`, or the port's position in the `ports` query for the WebSocket
 * channel form.
 */
import { AirlockError } from '../errors.js';

export type PortForwardEventKind = 'open' | 'data' | 'error' | 'close';

export interface PortForwardEvent {
  /** Seconds since the session started, microsecond precision, never decreasing. */
  t: number;
  kind: PortForwardEventKind;
  /** The connection: SPDY request id, or the port's index in the `ports` query. */
  connection: string;
  port: number;
  /** data: which way the bytes went. */
  direction?: 'to-pod' | 'from-pod';
  /** data: the bytes, base64 (captured and masked); error: the cluster's message. */
  data?: string;
  /** close: bytes each way over the connection's life, and whether it ended cleanly. */
  bytes?: { toPod: number; fromPod: number };
  how?: 'closed' | 'reset' | 'aborted';
}

export interface PortForwardSummary {
  connections: number;
  ports: number[];
  bytes: { toPod: number; fromPod: number };
  /** Connections the cluster reported an error for. */
  errors: number;
}

export interface PortForwardRecorderOptions {
  /** Milliseconds from any origin. Default: performance.now. */
  now?: () => number;
  /** Called with each full batch; flush() returns the rest. */
  onBatch?: (events: PortForwardEvent[]) => void;
  /** Events per batch before onBatch is called. Default 256. */
  maxBatchEvents?: number;
}

interface Connection {
  port: number;
  toPod: number;
  fromPod: number;
  failed: boolean;
}

/** Error text kept per connection; the kubelet's messages are one line. */
const MAX_ERROR_CHARS = 4096;

export class PortForwardRecorder {
  readonly #now: () => number;
  readonly #onBatch: ((events: PortForwardEvent[]) => void) | undefined;
  readonly #maxEvents: number;
  readonly #open = new Map<string, Connection>();
  readonly #ports = new Set<number>();
  readonly #bytes = { toPod: 0, fromPod: 0 };
  #connections = 0;
  #errors = 0;
  #origin: number | undefined;
  #lastT = 0;
  #batch: PortForwardEvent[] = [];
  #closed = false;

  constructor(options: PortForwardRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#onBatch = options.onBatch;
    this.#maxEvents = options.maxBatchEvents ?? 256;
  }

  /** start fixes time zero (the 101 answer). */
  start(): void {
    this.#origin ??= this.#now();
  }

  /** open notes a new connection to `port`; opening a name already open is ignored. */
  open(connection: string, port: number): void {
    if (this.#open.has(connection)) return;
    this.#open.set(connection, { port, toPod: 0, fromPod: 0, failed: false });
    this.#connections += 1;
    this.#ports.add(port);
    this.#push({ kind: 'open', connection, port });
  }

  /** data counts bytes on an open connection; `captured` (masked, or undefined) is recorded as is. */
  data(connection: string, direction: 'to-pod' | 'from-pod', length: number, captured?: Uint8Array): void {
    const c = this.#open.get(connection);
    if (!c) return;
    if (direction === 'to-pod') {
      c.toPod += length;
      this.#bytes.toPod += length;
    } else {
      c.fromPod += length;
      this.#bytes.fromPod += length;
    }
    if (captured && captured.length > 0) this.#push({ kind: 'data', connection, port: c.port, direction, data: Buffer.from(captured).toString('base64') });
  }

  /** error records what the cluster said went wrong with a connection (already masked). */
  error(connection: string, port: number, message: string): void {
    const c = this.#open.get(connection);
    if (c && !c.failed) {
      c.failed = true;
      this.#errors += 1;
    } else if (!c) this.#errors += 1;
    this.#push({ kind: 'error', connection, port: c?.port ?? port, data: message.slice(0, MAX_ERROR_CHARS) });
  }

  /** close ends a connection with its byte counts. */
  close(connection: string, how: 'closed' | 'reset' | 'aborted' = 'closed'): void {
    const c = this.#open.get(connection);
    if (!c) return;
    this.#open.delete(connection);
    this.#push({ kind: 'close', connection, port: c.port, bytes: { toPod: c.toPod, fromPod: c.fromPod }, how });
  }

  /** flush returns the events not yet handed out. */
  flush(): PortForwardEvent[] {
    const out = this.#batch;
    this.#batch = [];
    return out;
  }

  /**
   * finish closes what is still open — `aborted` unless the transport's end is their normal end
   * (`closed`) — and returns the last events; nothing may follow.
   */
  finish(openAre: 'closed' | 'aborted' = 'aborted'): PortForwardEvent[] {
    for (const connection of [...this.#open.keys()]) this.close(connection, openAre);
    this.#closed = true;
    return this.flush();
  }

  summary(): PortForwardSummary {
    return { connections: this.#connections, ports: [...this.#ports].sort((a, b) => a - b), bytes: { ...this.#bytes }, errors: this.#errors };
  }

  #push(event: Omit<PortForwardEvent, 't'>): void {
    if (this.#closed) throw new AirlockError('AIRLOCK_INTERNAL', 'a port-forward event arrived after its recording was closed');
    this.#origin ??= this.#now();
    const t = Math.max(this.#lastT, Math.round((this.#now() - this.#origin) * 1000) / 1e6);
    this.#lastT = t;
    this.#batch.push({ t, ...event });
    if (this.#batch.length >= this.#maxEvents && this.#onBatch) this.#onBatch(this.flush());
  }
}
