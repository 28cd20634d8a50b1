/**
 * Port-forward sessions, read and recorded in all three forms the cluster speaks:
 * - SPDY/3.1 (`X-Stream-Protocol-Version: portforward.k8s.io`, kubectl ≤ 1.30): per forwarded
 *   connection the client opens an `error` and a `data` stream with the pod `port` and a shared
 *   `requestid`;
 * - the same SPDY session tunnelled in WebSocket binary messages (`SPDY/3.1+portforward.k8s.io`,
 *   kubectl ≥ 1.31);
 * - the kubelet's channel WebSocket (`v4.channel.k8s.io`, `v4.base64.channel.k8s.io` or none,
 *   ports from the `ports` query, client libraries such as @kubernetes/client-node).
 *
 * Port-forward carries arbitrary TCP, so its bytes pass unchanged — masking would corrupt a
 * protocol it cannot see. What is recorded is each connection's open and close with its port and
 * byte counts, the errors the cluster reports (a closed port), and, with capture on, the bytes
 * themselves masked by the stream detectors (the ledger's copy only). A stream or message that
 * does not belong to port-forward ends the session: airlock never passes what it cannot read.
 *
 * One PortForwardSession per connection; `spdyObserver` or `webSocketObserver` plugs it into the
 * relay of the transport. Decides nothing and opens no socket.
 */
import { AirlockError } from '../../../errors.js';
import { PortForwardRecorder, type PortForwardEvent, type PortForwardSummary } from '../../../evidence/port-forward-recording.js';
import type { Detector } from '../../../masking/detectors/detector.js';
import { createStreamMasker, type StreamMasker } from '../../../masking/stream-masker.js';
import { negotiateSubprotocol, PortForwardDecoder, tunnelBytes } from './channel/index.js';
import { SpdySession, type SessionItem } from './spdy/spdy-session.js';
import type { SpdyRelayObserver } from './spdy-relay.js';
import type { CloseRelay, RelayObserver } from './websocket-relay.js';

/** The `X-Stream-Protocol-Version` of SPDY port-forward. */
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

/** How often a quiet session hands its pending events to the ledger. */
export const PORT_FORWARD_BATCH_INTERVAL_MS = 1000;

export interface PortForwardSessionOptions {
  detectors: readonly Detector[];
  /** Record the bytes (masked), not only their counts. */
  capture: boolean;
  /** Receives each batch of events, in order. */
  onBatch(events: PortForwardEvent[]): void;
  now?: () => number;
}

export interface PortForwardSessionSummary extends PortForwardSummary {
  protocol: string;
  transport: 'spdy' | 'websocket-spdy' | 'websocket';
  closedBy: 'client' | 'upstream' | 'error' | 'airlock';
  error?: string;
}

type Direction = 'to-pod' | 'from-pod';

const replacement = (kind: string) => `[masked ${kind}]`;

/**
 * PortForwardSession is the part common to every transport: connections, bytes, errors and
 * capture. The transports feed it what they read.
 */
export class PortForwardSession {
  readonly recorder: PortForwardRecorder;
  readonly #options: PortForwardSessionOptions;
  readonly #capture = new Map<string, StreamMasker>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: PortForwardSessionOptions) {
    this.#options = options;
    this.recorder = new PortForwardRecorder({ onBatch: options.onBatch, ...(options.now ? { now: options.now } : {}) });
  }

  start(): void {
    this.recorder.start();
    this.#ticker = setInterval(() => {
      const batch = this.recorder.flush();
      if (batch.length > 0) this.#options.onBatch(batch);
    }, PORT_FORWARD_BATCH_INTERVAL_MS);
    this.#ticker.unref();
  }

  open(connection: string, port: number): void {
    this.recorder.open(connection, port);
  }

  data(connection: string, direction: Direction, bytes: Uint8Array): void {
    if (!this.#options.capture) {
      this.recorder.data(connection, direction, bytes.length);
      return;
    }
    this.recorder.data(connection, direction, bytes.length, this.#masker(connection, direction).push(bytes));
  }

  /** error records a message the cluster sent on a connection's error stream, masked. */
  error(connection: string, port: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const masker = createStreamMasker({ detectors: this.#options.detectors, replacement });
    const text = Buffer.concat([masker.push(bytes), masker.flush()]).toString('utf8');
    this.recorder.error(connection, port, text);
  }

  close(connection: string, how: 'closed' | 'reset'): void {
    this.#releaseCapture(connection);
    this.recorder.close(connection, how);
  }

  /** finish ends the recording: open connections close as `aborted` (or `closed` for channel ports). */
  finish(base: Omit<PortForwardSessionSummary, keyof PortForwardSummary>, openAre: 'closed' | 'aborted' = 'aborted'): PortForwardEnd {
    if (this.#ticker) clearInterval(this.#ticker);
    for (const key of [...this.#capture.keys()]) this.#releaseCapture(key.slice(0, key.lastIndexOf('\n')));
    const events = this.recorder.finish(openAre);
    return { events, summary: { ...base, ...this.recorder.summary() } };
  }

  #masker(connection: string, direction: Direction): StreamMasker {
    const key = `${connection}\n${direction}`;
    let m = this.#capture.get(key);
    if (!m) {
      m = createStreamMasker({ detectors: this.#options.detectors, replacement });
      this.#capture.set(key, m);
    }
    return m;
  }

  #releaseCapture(connection: string): void {
    for (const direction of ['to-pod', 'from-pod'] as const) {
      const key = `${connection}\n${direction}`;
      const m = this.#capture.get(key);
      if (!m) continue;
      this.#capture.delete(key);
      this.recorder.data(connection, direction, 0, m.flush());
    }
  }
}

/**
 * SpdyPortForwardReader applies the frames of a SPDY port-forward session (plain or tunnelled)
 * to a PortForwardSession. Throws on a stream that is not `data` or `error`.
 */
class SpdyPortForwardReader {
  /** SPDY stream id → the connection (request id) and port it belongs to. */
  readonly #streams = new Map<number, { connection: string; port: number; type: 'data' | 'error' }>();

  constructor(private readonly session: PortForwardSession) {}

  apply(item: SessionItem): void {
    for (const event of item.events) {
      if (event.kind === 'stream-open') {
        const { streamType, port, requestId, id } = event.stream;
        if (streamType !== 'data' && streamType !== 'error') {
          throw new AirlockError('AIRLOCK_SPDY_STREAM_INVALID', `port-forward opened a stream of type "${streamType ?? ''}", which airlock cannot read`, { details: { reason: 'stream-type', streamId: id } });
        }
        const portNumber = Number(port);
        if (!/^[0-9]{1,5}$/.test(port ?? '') || portNumber < 1 || portNumber > 0xffff) {
          throw new AirlockError('AIRLOCK_SPDY_STREAM_INVALID', `a port-forward stream names the port "${port ?? ''}", not a port from 1 to 65535`, { details: { reason: 'port', streamId: id } });
        }
        const connection = requestId ?? `stream-${id}`;
        this.#streams.set(id, { connection, port: portNumber, type: streamType });
        if (streamType === 'data') this.session.open(connection, portNumber);
      } else if (event.kind === 'data' && !event.late) {
        const s = this.#streams.get(event.id);
        if (!s) continue;
        if (s.type === 'data') this.session.data(s.connection, event.from === 'client' ? 'to-pod' : 'from-pod', event.bytes);
        else if (event.from === 'server') this.session.error(s.connection, s.port, event.bytes);
      } else if (event.kind === 'stream-closed') {
        const s = this.#streams.get(event.id);
        if (!s) continue;
        this.#streams.delete(event.id);
        if (s.type === 'data') this.session.close(s.connection, event.how === 'reset' ? 'reset' : 'closed');
      }
    }
  }
}

export interface PortForwardEnd {
  events: PortForwardEvent[];
  summary: PortForwardSessionSummary;
}

/**
 * spdyPortForwardObserver: the relay observer for SPDY/3.1 port-forward. Frames pass unchanged;
 * `onEnd` receives the last events and the summary.
 */
export function spdyPortForwardObserver(options: PortForwardSessionOptions & { onEnd(end: PortForwardEnd): void }): SpdyRelayObserver {
  const session = new PortForwardSession(options);
  const reader = new SpdyPortForwardReader(session);
  let protocol = '';
  return {
    accept(chosen) {
      if (chosen !== SPDY_PORTFORWARD_PROTOCOL) return `airlock cannot read "${chosen}" for port-forward over SPDY`;
      protocol = chosen;
      return undefined;
    },
    open() {
      session.start();
    },
    frame(item) {
      reader.apply(item);
      return item.raw;
    },
    closed(result) {
      options.onEnd(session.finish({ protocol, transport: 'spdy', closedBy: result.by, ...(result.error ? { error: result.error } : {}) }));
    },
  };
}

/**
 * webSocketPortForwardObserver: the relay observer for port-forward over WebSocket, tunnelled
 * SPDY or channels. `ports` is the `ports` query (the channel form needs it). `onEnd` may return
 * a promise; the client's leg closes once it settles (the session is recorded).
 */
export function webSocketPortForwardObserver(
  options: PortForwardSessionOptions & { offered: string[]; ports: number[]; onEnd(end: PortForwardEnd): void | Promise<void>; onOpen?(close: CloseRelay): void },
): RelayObserver {
  const session = new PortForwardSession(options);
  let protocol = '';
  let transport: 'websocket-spdy' | 'websocket' = 'websocket';
  let tunnel: { spdy: SpdySession; reader: SpdyPortForwardReader } | undefined;
  let channels: { fromClient: PortForwardDecoder; fromUpstream: PortForwardDecoder } | undefined;
  return {
    accept(chosen) {
      try {
        const info = negotiateSubprotocol(options.offered, chosen, 'portforward');
        protocol = info.name;
        if (info.kind === 'spdy-tunnel') {
          transport = 'websocket-spdy';
          tunnel = { spdy: new SpdySession(), reader: new SpdyPortForwardReader(session) };
        } else {
          if (options.ports.length === 0) return 'port-forward over WebSocket channels needs the ports query parameter';
          channels = {
            fromClient: new PortForwardDecoder(options.ports, info.encoding, 'from-client'),
            fromUpstream: new PortForwardDecoder(options.ports, info.encoding, 'from-upstream'),
          };
        }
        return undefined;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    },
    open(_chosen, _inject, close) {
      session.start();
      options.onOpen?.(close);
    },
    message(direction, data, binary) {
      if (tunnel) {
        const items = tunnel.spdy.push(direction === 'client-to-upstream' ? 'client' : 'server', tunnelBytes(data, binary));
        for (const item of items) tunnel.reader.apply(item);
        if (items.length === 0) return null;
        return items.length === 1 ? Buffer.from(items[0]!.raw) : Buffer.concat(items.map((i) => i.raw));
      }
      if (!channels) throw new AirlockError('AIRLOCK_INTERNAL', 'a port-forward message arrived before the subprotocol was accepted');
      const fromClient = direction === 'client-to-upstream';
      const message = (fromClient ? channels.fromClient : channels.fromUpstream).decode(data);
      const connection = String(message.portIndex);
      if (message.kind === 'data') {
        session.open(connection, message.port);
        if (message.bytes.length > 0) session.data(connection, fromClient ? 'to-pod' : 'from-pod', message.bytes);
      } else if (!fromClient) {
        session.error(connection, message.port, message.bytes);
      }
      return data;
    },
    closed(result) {
      return options.onEnd(
        session.finish({ protocol, transport, closedBy: result.by, ...(result.error ? { error: result.error } : {}) }, transport === 'websocket' ? 'closed' : 'aborted'),
      );
    },
  };
}
