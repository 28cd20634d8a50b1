/**
 * SpdySession watches one SPDY/3.1 connection (both directions) and turns its frames into events
 * a recorder understands: streams opening with their Kubernetes `streamtype` (error, stdin,
 * stdout, stderr, resize; data and error for port-forward, with `port` and `requestid`), data
 * per stream, half-closes, resets, pings and GOAWAY — so the gateway can record exec, attach, cp
 * and port-forward without knowing SPDY.
 *
 * Boundaries: an observer, not a proxy. It opens no socket, never changes a byte, and hands back
 * each frame's original bytes (`raw`) so the relay forwards exactly what it received; a relay
 * that rewrites a DATA frame (masking stdout) uses `encodeDataFrame`. It enforces what keeps its
 * view equal to the peers' view: one header zlib stream per direction (spdy-headers.ts), stream
 * ids that only grow with the opener's parity, and no data for a stream that was never opened.
 * Anything else ends the session with an AirlockError, because what it cannot read it must not
 * let through unrecorded.
 *
 * Ids: the side that sent the first Upgrade (the client, kubectl) opens odd stream ids and the
 * server even ones (spdystream `NewConnection(conn, server)`).
 */
import { AirlockError } from '../../../../errors.js';
import { SpdyFrameReader } from './spdy-frame-reader.js';
import type { DecodeLimits, SettingsEntry, SpdyFrame } from './spdy-frames.js';
import { HeaderInflater, type InflateLimits, type SpdyHeaders } from './spdy-headers.js';

/** Who sent the bytes: the client (kubectl, who upgraded) or the server (the API server). */
export type Direction = 'client' | 'server';

/** Stream types Kubernetes names in the `streamtype` header (remotecommand and portforward). */
export type KnownStreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize' | 'data';

/** What a recorder needs to know about a stream, from its SYN_STREAM headers. */
export interface StreamInfo {
  readonly id: number;
  readonly openedBy: Direction;
  readonly headers: SpdyHeaders;
  /** The `streamtype` header; undefined if the opener sent none (not a Kubernetes stream). */
  readonly streamType: string | undefined;
  /** Port-forward: the `port` header (the pod port). */
  readonly port: string | undefined;
  /** Port-forward: the `requestid` header that pairs a data stream with its error stream. */
  readonly requestId: string | undefined;
}

export type SpdySessionEvent =
  | { readonly kind: 'stream-open'; readonly from: Direction; readonly stream: StreamInfo; readonly fin: boolean; readonly unidirectional: boolean }
  | { readonly kind: 'stream-reply'; readonly from: Direction; readonly id: number; readonly headers: SpdyHeaders; readonly fin: boolean }
  | { readonly kind: 'headers'; readonly from: Direction; readonly id: number; readonly headers: SpdyHeaders; readonly fin: boolean }
  /** `late`: the stream was already closed or reset; the receiving peer drops these bytes. */
  | { readonly kind: 'data'; readonly from: Direction; readonly id: number; readonly streamType: string | undefined; readonly bytes: Uint8Array; readonly fin: boolean; readonly late: boolean }
  | { readonly kind: 'stream-reset'; readonly from: Direction; readonly id: number; readonly streamType: string | undefined; readonly status: number }
  /** Both halves are closed (FIN each way, or FIN on a unidirectional stream) or it was reset. */
  | { readonly kind: 'stream-closed'; readonly id: number; readonly streamType: string | undefined; readonly how: 'fin' | 'reset' }
  | { readonly kind: 'settings'; readonly from: Direction; readonly entries: readonly SettingsEntry[] }
  | { readonly kind: 'ping'; readonly from: Direction; readonly id: number }
  | { readonly kind: 'goaway'; readonly from: Direction; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly kind: 'window-update'; readonly from: Direction; readonly id: number; readonly delta: number };

/** One frame as it crossed the wire: the original bytes to relay and what it meant. */
export interface SessionItem {
  readonly from: Direction;
  readonly frame: SpdyFrame;
  readonly raw: Uint8Array;
  readonly events: readonly SpdySessionEvent[];
}

export interface SpdySessionOptions extends DecodeLimits, InflateLimits {
  /** Open streams allowed at once; a session past it is ended. Default 1024. */
  readonly maxOpenStreams?: number;
}

interface StreamState {
  readonly info: StreamInfo;
  readonly unidirectional: boolean;
  finFrom: Set<Direction>;
}

/** Closed streams remembered so that late frames still carry their stream type. */
const rememberedClosed = 256;

function streamError(reason: string, detail: string, id: number): AirlockError {
  return new AirlockError('AIRLOCK_SPDY_STREAM_INVALID', detail, { details: { reason, streamId: id } });
}

function first(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name]?.[0];
}

export class SpdySession {
  private readonly readers: Record<Direction, SpdyFrameReader>;
  private readonly inflaters: Record<Direction, HeaderInflater>;
  private readonly open = new Map<number, StreamState>();
  private readonly closed = new Map<number, StreamInfo>();
  private readonly lastOpened: Record<Direction, number> = { client: 0, server: 0 };
  private readonly maxOpenStreams: number;
  private failed: unknown = undefined;

  constructor(options: SpdySessionOptions = {}) {
    this.readers = { client: new SpdyFrameReader(options), server: new SpdyFrameReader(options) };
    this.inflaters = { client: new HeaderInflater(options), server: new HeaderInflater(options) };
    this.maxOpenStreams = options.maxOpenStreams ?? 1024;
  }

  /**
   * push reads a chunk sent by `from` and returns each frame it completes, with its events.
   * It throws an AirlockError (AIRLOCK_SPDY_*) on the first frame it cannot read or accept;
   * the session must then be ended, since header state and stream ids can no longer be trusted.
   */
  push(from: Direction, chunk: Uint8Array): SessionItem[] {
    if (this.failed !== undefined) throw this.failed;
    try {
      return this.readers[from].push(chunk).map(({ frame, raw }) => ({ from, frame, raw, events: this.apply(from, frame) }));
    } catch (err) {
      this.failed = err;
      throw err;
    }
  }

  /** observe is push for a pure recorder: the events only, in wire order. */
  observe(from: Direction, chunk: Uint8Array): SpdySessionEvent[] {
    return this.push(from, chunk).flatMap((item) => item.events);
  }

  /** stream returns what is known about an open or recently closed stream. */
  stream(id: number): StreamInfo | undefined {
    return this.open.get(id)?.info ?? this.closed.get(id);
  }

  /** openStreams lists the streams not yet closed, e.g. to record them as aborted at the end. */
  openStreams(): StreamInfo[] {
    return [...this.open.values()].map((state) => state.info);
  }

  private apply(from: Direction, frame: SpdyFrame): SpdySessionEvent[] {
    switch (frame.type) {
      case 'syn-stream': return this.onSynStream(from, frame.streamId, frame.headerBlock, frame.fin, frame.unidirectional);
      case 'syn-reply':
      case 'headers': {
        const headers = this.inflaters[from].inflate(frame.headerBlock);
        this.known(frame.streamId, frame.type);
        const kind = frame.type === 'syn-reply' ? 'stream-reply' : 'headers';
        return [{ kind, from, id: frame.streamId, headers, fin: frame.fin }, ...this.finish(from, frame.streamId, frame.fin)];
      }
      case 'data': return this.onData(from, frame.streamId, frame.data, frame.fin);
      case 'rst-stream': return this.onReset(from, frame.streamId, frame.status);
      case 'settings': return [{ kind: 'settings', from, entries: frame.entries }];
      case 'ping': return [{ kind: 'ping', from, id: frame.id }];
      case 'goaway': return [{ kind: 'goaway', from, lastGoodStreamId: frame.lastGoodStreamId, status: frame.status }];
      case 'window-update': return [{ kind: 'window-update', from, id: frame.streamId, delta: frame.deltaWindowSize }];
    }
  }

  private onSynStream(from: Direction, id: number, block: Uint8Array, fin: boolean, unidirectional: boolean): SpdySessionEvent[] {
    // Inflate first: the zlib history must advance even if the frame is then refused.
    const headers = this.inflaters[from].inflate(block);
    const parity = from === 'client' ? 1 : 0;
    if (id % 2 !== parity) throw streamError('wrong-parity', `the ${from} opened stream ${id}; it opens ${parity ? 'odd' : 'even'} ids`, id);
    if (id <= this.lastOpened[from]) throw streamError('id-not-increasing', `stream ${id} opened after stream ${this.lastOpened[from]}`, id);
    if (this.open.size >= this.maxOpenStreams) throw streamError('too-many-streams', `more than ${this.maxOpenStreams} open streams`, id);
    this.lastOpened[from] = id;
    const info: StreamInfo = {
      id, openedBy: from, headers,
      streamType: first(headers, 'streamtype'), port: first(headers, 'port'), requestId: first(headers, 'requestid'),
    };
    this.open.set(id, { info, unidirectional, finFrom: new Set() });
    return [{ kind: 'stream-open', from, stream: info, fin, unidirectional }, ...this.finish(from, id, fin)];
  }

  private onData(from: Direction, id: number, bytes: Uint8Array, fin: boolean): SpdySessionEvent[] {
    const state = this.open.get(id);
    if (state === undefined) {
      this.known(id, 'data');
      return [{ kind: 'data', from, id, streamType: this.closed.get(id)?.streamType, bytes, fin, late: true }];
    }
    if (state.finFrom.has(from)) throw streamError('data-after-fin', `the ${from} sent data on stream ${id} after closing it`, id);
    if (state.unidirectional && from !== state.info.openedBy) {
      throw streamError('unidirectional', `the ${from} sent data on unidirectional stream ${id}`, id);
    }
    const event: SpdySessionEvent = { kind: 'data', from, id, streamType: state.info.streamType, bytes, fin, late: false };
    return [event, ...this.finish(from, id, fin)];
  }

  private onReset(from: Direction, id: number, status: number): SpdySessionEvent[] {
    const state = this.open.get(id);
    this.known(id, 'rst-stream');
    const streamType = state?.info.streamType ?? this.closed.get(id)?.streamType;
    const events: SpdySessionEvent[] = [{ kind: 'stream-reset', from, id, streamType, status }];
    if (state !== undefined) {
      this.retire(id, state.info);
      events.push({ kind: 'stream-closed', id, streamType, how: 'reset' });
    }
    return events;
  }

  /** finish records a half-close and reports the stream closed once no side may send more. */
  private finish(from: Direction, id: number, fin: boolean): SpdySessionEvent[] {
    const state = this.open.get(id);
    if (!fin || state === undefined) return [];
    state.finFrom.add(from);
    const done = state.unidirectional ? state.finFrom.has(state.info.openedBy) : state.finFrom.size === 2;
    if (!done) return [];
    this.retire(id, state.info);
    return [{ kind: 'stream-closed', id, streamType: state.info.streamType, how: 'fin' }];
  }

  private retire(id: number, info: StreamInfo): void {
    this.open.delete(id);
    this.closed.set(id, info);
    if (this.closed.size > rememberedClosed) {
      const oldest = this.closed.keys().next().value;
      if (oldest !== undefined) this.closed.delete(oldest);
    }
  }

  /** known refuses a frame for a stream id its opener has not reached yet (never opened). */
  private known(id: number, what: string): void {
    if (this.open.has(id)) return;
    const opener: Direction = id % 2 === 1 ? 'client' : 'server';
    if (id > this.lastOpened[opener]) throw streamError('unknown-stream', `${what} frame for stream ${id}, which was never opened`, id);
  }
}
