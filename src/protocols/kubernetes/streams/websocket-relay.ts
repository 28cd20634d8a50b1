/**
 * Relaying a WebSocket stream (exec, attach, port-forward over WebSocket) with both legs
 * terminated by airlock. The upstream leg is dialled first, with airlock's credential and the
 * caller's impersonation; only when the cluster answers 101 is the client accepted, with
 * exactly the subprotocol the cluster chose. Any other answer — its status, headers and body —
 * reaches the client unchanged. Raw sockets are never spliced: every message passes through
 * `observe`, which may record and rewrite it (masking), so nothing crosses unread.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ReadHold } from './session-ledger.js';

export type RelayDirection = 'client-to-upstream' | 'upstream-to-client';

/** Sends a message airlock composed (e.g. masked output released after an idle pause). */
export type Inject = (direction: RelayDirection, data: Buffer, binary: boolean) => void;

/**
 * Ends the stream from airlock's side (a session limit): messages injected before it are sent
 * first, then both legs are closed with `code` and `reason`, and `closed` reports `airlock`.
 */
export type CloseRelay = (code: number, reason: string) => void;

export interface RelayObserver {
  /**
   * accept checks the subprotocol the cluster chose before the client is accepted; a returned
   * reason refuses the stream (502 to the client, the upstream leg closed).
   */
  accept(protocol: string): string | undefined;
  /** open is called once both legs are up, with the subprotocol the cluster chose. */
  open(protocol: string, inject: Inject, close: CloseRelay): void;
  /**
   * message sees every message before it is passed on and returns what to send (rewritten or
   * as is), or null to send nothing now. Throwing ends the stream: airlock does not pass what it
   * cannot read.
   */
  message(direction: RelayDirection, data: Buffer, binary: boolean): Buffer | null;
  /**
   * closed is called once, when either leg ends or airlock ends the stream; `by` says which came
   * first. The upstream leg is closed at once; the client's leg only once a returned promise
   * settles, so a client that waits for the close (kubectl does) returns after the stream is
   * recorded.
   */
  closed(result: { by: 'client' | 'upstream' | 'error' | 'airlock'; code: number; reason: string; error?: string }): void | Promise<void>;
}

export interface WebSocketRelayOptions {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** wss:// URL of the same resource on the API server. */
  upstreamUrl: string;
  /** The subprotocols to offer upstream: the client's, without a bearer-token subprotocol. */
  protocols: string[];
  /** Headers for the upstream handshake (credential, impersonation, Audit-ID), without the WebSocket ones. */
  headers: Record<string, string | string[]>;
  tls: { rejectUnauthorized: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  observer: RelayObserver;
  /** While set, neither leg is read (the session's recording is behind the stream). */
  hold?: ReadHold;
  handshakeTimeoutMs?: number;
}

/** What happened at the handshake: a relayed stream (101) or the cluster's other answer. */
export type RelayStart = { upgraded: true; protocol: string } | { upgraded: false; status: number; body: Buffer; error?: string };

/** Headers `ws` sets itself for the upstream handshake. */
const handshakeHeaders = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'upgrade', 'connection', 'host']);

/**
 * relayWebSocket dials upstream, then accepts the client, then relays until either side
 * closes. It resolves with how the handshake went; the stream's end is reported to the observer.
 */
export function relayWebSocket(options: WebSocketRelayOptions): Promise<RelayStart> {
  const { req, socket, head, observer } = options;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(options.headers)) if (!handshakeHeaders.has(name.toLowerCase())) headers[name] = value;
  const protocols = options.protocols;

  // `ws` accepts only RFC 7230 tokens as subprotocols, and `SPDY/3.1+portforward.k8s.io` has a
  // '/': such names travel under stand-in tokens inside airlock and by their real names on the wire.
  const names = new SubprotocolNames(protocols);

  return new Promise<RelayStart>((resolve) => {
    let settled = false;
    const upstream = new WebSocket(options.upstreamUrl, names.tokens, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      ...options.tls,
      finishRequest: (request) => {
        if (protocols.length > 0) request.setHeader('Sec-WebSocket-Protocol', protocols.join(', '));
        request.end();
      },
    });
    upstream.once('upgrade', (response) => {
      const chosen = response.headers['sec-websocket-protocol'];
      if (typeof chosen === 'string') response.headers['sec-websocket-protocol'] = names.token(chosen);
    });

    upstream.once('unexpected-response', (_request, response) => {
      // The cluster said no (403, 404, 400 …): its answer goes back as it is.
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}`];
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined || ['connection', 'transfer-encoding', 'content-length'].includes(name)) continue;
          for (const v of [value].flat()) lines.push(`${name}: ${v}`);
        }
        lines.push(`content-length: ${body.length}`, 'connection: close');
        socket.end(`${lines.join('\r\n')}\r\n\r\n${body.toString('latin1')}`, 'latin1');
        settled = true;
        resolve({ upgraded: false, status: response.statusCode ?? 502, body });
      });
    });

    upstream.once('error', (err) => {
      if (settled) return;
      settled = true;
      const body = statusBody(502, `airlock could not open the stream to the cluster: ${err.message}`);
      socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('latin1')}`, 'latin1');
      resolve({ upgraded: false, status: 502, body, error: err.message });
    });

    upstream.once('open', () => {
      const chosen = names.name(upstream.protocol);
      const refused = observer.accept(chosen);
      if (refused !== undefined) {
        settled = true;
        upstream.terminate();
        const body = statusBody(502, refused);
        socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('latin1')}`, 'latin1');
        resolve({ upgraded: false, status: 502, body, error: refused });
        return;
      }
      // The client's offer was read already; ws sees a stand-in (or none) and answers `chosen`.
      if (chosen) req.headers['sec-websocket-protocol'] = 'airlock-chosen';
      else delete req.headers['sec-websocket-protocol'];
      const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => chosen || false });
      server.handleUpgrade(req, socket, head, (client) => {
        settled = true;
        resolve({ upgraded: true, protocol: chosen });
        pipe(client, upstream, chosen, observer, options.hold);
      });
    });
  });
}

/** A leg's unsent backlog past which the other leg stops being read, and below which it resumes. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;

function statusBody(code: number, message: string): Buffer {
  return Buffer.from(`${JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code })}\n`);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** RFC 7230 token characters: the subprotocol names `ws` accepts as they are. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** SubprotocolNames maps subprotocol names that are not tokens to stand-in tokens and back. */
class SubprotocolNames {
  readonly tokens: string[];
  readonly #toName = new Map<string, string>();
  readonly #toToken = new Map<string, string>();

  constructor(names: readonly string[]) {
    this.tokens = names.map((name, i) => {
      if (TOKEN.test(name)) return name;
      const token = `airlock-subprotocol-${i}`;
      this.#toName.set(token, name);
      this.#toToken.set(name, token);
      return token;
    });
  }

  token(name: string): string {
    return this.#toToken.get(name) ?? name;
  }

  name(token: string): string {
    return this.#toName.get(token) ?? token;
  }
}

function pipe(client: WebSocket, upstream: WebSocket, protocol: string, observer: RelayObserver, hold: ReadHold | undefined): void {
  let ended = false;
  const end = (by: 'client' | 'upstream' | 'error' | 'airlock', code: number, reason: string, error?: string) => {
    if (ended) return;
    ended = true;
    unwatch?.();
    let recorded: void | Promise<void>;
    try {
      recorded = observer.closed({ by, code, reason, ...(error ? { error } : {}) });
    } catch {
      recorded = undefined;
    }
    // A close code outside what may be sent becomes a normal closure, except an abnormal one
    // (1006: the other leg vanished without a close frame), which the survivor must not take for
    // a clean end of the command: it gets 1011.
    const sendable = code >= 3000 || [1000, 1001, 1003, 1007, 1008, 1009, 1010, 1011].includes(code) ? code : code === 1006 ? 1011 : 1000;
    const close = (ws: WebSocket) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(sendable, reason.slice(0, 120));
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      // A leg paused for back-pressure must read again, or it never sees the peer's close frame
      // and lingers until ws gives up on the closing handshake.
      if (ws.isPaused) ws.resume();
    };
    close(upstream);
    if (recorded instanceof Promise) void recorded.then(() => close(client), () => close(client));
    else close(client);
  };
  const target = (direction: RelayDirection) => (direction === 'client-to-upstream' ? upstream : client);
  const source = (direction: RelayDirection) => (direction === 'client-to-upstream' ? client : upstream);
  // Back-pressure: when a leg cannot write as fast as the other reads, stop reading the other
  // leg until the backlog drains, so a fast producer never piles its output up in airlock. The
  // hold (the recording is behind) stops both legs; a leg reads again when neither applies.
  const inject: Inject = (direction, data, binary) => {
    const to = target(direction);
    if (ended || to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary }, () => {
      const from = source(direction);
      if (from.isPaused && to.bufferedAmount < LOW_WATER_BYTES && !hold?.held) from.resume();
    });
    if (to.bufferedAmount > HIGH_WATER_BYTES) source(direction).pause();
  };
  const unwatch = hold?.watch((held) => {
    for (const direction of ['client-to-upstream', 'upstream-to-client'] as const) {
      const from = source(direction);
      if (held) from.pause();
      else if (from.isPaused && target(direction).bufferedAmount < LOW_WATER_BYTES) from.resume();
    }
  });
  const relay = (from: WebSocket, direction: RelayDirection) => {
    from.on('message', (data, binary) => {
      let out: Buffer | null;
      try {
        out = observer.message(direction, toBuffer(data), binary);
      } catch (err) {
        end('error', 1011, 'airlock could not read the stream', err instanceof Error ? err.message : String(err));
        return;
      }
      if (out !== null) inject(direction, out, binary);
    });
  };
  if (hold?.held) for (const ws of [client, upstream]) ws.pause();
  observer.open(protocol, inject, (code, reason) => end('airlock', code, reason));
  relay(client, 'client-to-upstream');
  relay(upstream, 'upstream-to-client');
  client.on('close', (code, reason) => end('client', code, reason.toString()));
  upstream.on('close', (code, reason) => end('upstream', code, reason.toString()));
  client.on('error', (err) => end('error', 1011, 'client error', err.message));
  upstream.on('error', (err) => end('error', 1011, 'upstream error', err.message));
}
