/**
 * Relaying a SPDY/3.1 upgrade (exec and attach from kubectl 1.29 and older, or with
 * `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`) with both legs terminated by airlock. The upstream
 * leg is dialled first — a plain HTTP/1.1 upgrade request carrying airlock's credential and the
 * caller's impersonation — and only a real 101 is answered to the client, with the same 101
 * (`Upgrade: SPDY/3.1` and the `X-Stream-Protocol-Version` the cluster chose). Any other answer
 * reaches the client unchanged.
 *
 * After the 101 the bytes of each direction are fed to one `SpdySession` (it needs both
 * directions: a stream one side opens carries data from the other) and every frame passes
 * through the observer, which may rewrite DATA frames (masking). Raw sockets are never spliced,
 * so nothing crosses unread; a frame the session cannot read ends the connection.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ReadHold } from './session-ledger.js';
import { SpdySession, type SessionItem } from './spdy/spdy-session.js';

export type SpdyPeer = 'client' | 'upstream';

/** Sends bytes airlock composed (a DATA frame of masked output released after an idle pause). */
export type SpdyInject = (to: SpdyPeer, bytes: Uint8Array) => void;

export interface SpdyRelayObserver {
  /** accept checks the protocol version the cluster chose; a returned reason refuses the stream (502). */
  accept(protocol: string): string | undefined;
  /** open is called once both legs are up. */
  open(protocol: string, inject: SpdyInject): void;
  /**
   * frame sees every frame before it is passed on and returns the bytes to send (the original
   * `raw`, a rewritten frame) or null to send nothing now. A promise holds this frame, and every
   * later frame in the same direction, until it settles (e.g. the exit status waits until it is
   * recorded); a rejection ends the connection. Throwing ends the connection.
   */
  frame(item: SessionItem): Uint8Array | null | Promise<Uint8Array | null>;
  /**
   * closed is called once, when either leg ends, before the sockets are ended: output still
   * held back may be injected towards the client from here.
   */
  closed(result: { by: SpdyPeer | 'error'; error?: string }): void;
}

export interface SpdyRelayOptions {
  /** The client's socket, detached from its HTTP response, and the bytes read past its request. */
  socket: Duplex;
  head: Buffer;
  /** http(s) URL of the same resource on the API server. */
  upstreamUrl: URL;
  method: string;
  /** Headers for the upstream request (credential, impersonation, Audit-ID, X-Stream-Protocol-Version). */
  headers: Record<string, string | string[]>;
  tls: { rejectUnauthorized: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  observer: SpdyRelayObserver;
  /** While set, neither leg is read (the session's recording is behind the stream). */
  hold?: ReadHold;
}

/** What happened at the handshake: a relayed connection (101) or the cluster's other answer. */
export type SpdyRelayStart = { upgraded: true; protocol: string } | { upgraded: false; status: number; body: Buffer; error?: string };

/** The header that carries the negotiated remotecommand version over SPDY. */
const PROTOCOL_HEADER = 'x-stream-protocol-version';

/**
 * relaySpdy dials upstream, answers the client the same 101, then relays frames until either
 * side ends. It resolves with how the handshake went; the end is reported to the observer.
 */
export function relaySpdy(options: SpdyRelayOptions): Promise<SpdyRelayStart> {
  const { socket, observer } = options;
  const request = options.upstreamUrl.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SpdyRelayStart>((resolve) => {
    let settled = false;
    const answer = (status: number, body: Buffer, error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ upgraded: false, status, body, ...(error ? { error } : {}) });
    };
    const upstreamReq = request(options.upstreamUrl, {
      method: options.method,
      agent: false,
      headers: { ...options.headers, connection: 'Upgrade', upgrade: 'SPDY/3.1', 'content-length': '0' },
      ...options.tls,
    });

    upstreamReq.on('response', (response: IncomingMessage) => {
      // The cluster said no (403, 404, 400 …): its answer goes back as it is.
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', (err) => fail(err.message));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}`];
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined || ['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'upgrade'].includes(name)) continue;
          for (const v of [value].flat()) lines.push(`${name}: ${v}`);
        }
        lines.push(`content-length: ${body.length}`, 'connection: close');
        socket.end(`${lines.join('\r\n')}\r\n\r\n${body.toString('latin1')}`, 'latin1');
        answer(response.statusCode ?? 502, body);
      });
    });

    const fail = (message: string) => {
      if (settled) return;
      const body = statusBody(`airlock could not open the stream to the cluster: ${message}`);
      socket.end(badGateway(body), 'latin1');
      answer(502, body, message);
    };
    upstreamReq.on('error', (err) => fail(err.message));

    upstreamReq.on('upgrade', (response: IncomingMessage, upstream: Duplex, upstreamHead: Buffer) => {
      const chosen = String([response.headers[PROTOCOL_HEADER] ?? ''].flat()[0] ?? '');
      const upgrade = String(response.headers.upgrade ?? '');
      const refused = /^spdy\/3\.1$/i.test(upgrade) ? observer.accept(chosen) : `the cluster upgraded to "${upgrade}", not SPDY/3.1`;
      if (refused !== undefined) {
        upstream.destroy();
        const body = statusBody(refused);
        socket.end(badGateway(body), 'latin1');
        answer(502, body, refused);
        return;
      }
      settled = true;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen}\r\n\r\n`, 'latin1');
      resolve({ upgraded: true, protocol: chosen });
      pipe(socket, options.head, upstream, upstreamHead, chosen, observer, options.hold);
    });

    upstreamReq.end();
  });
}

function statusBody(message: string): Buffer {
  return Buffer.from(`${JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 502 })}\n`);
}

function badGateway(body: Buffer): string {
  return `HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('latin1')}`;
}

function pipe(
  client: Duplex,
  clientHead: Buffer,
  upstream: Duplex,
  upstreamHead: Buffer,
  protocol: string,
  observer: SpdyRelayObserver,
  hold: ReadHold | undefined,
): void {
  const session = new SpdySession();
  const sockets: Record<SpdyPeer, Duplex> = { client, upstream };
  let ending = false;
  let ended = false;
  /** A peer whose socket is not read because the other one has not drained yet. */
  const draining: Record<SpdyPeer, boolean> = { client: false, upstream: false };
  /** resumeIf reads `peer` again unless the other leg is full or the recording is behind. */
  const resumeIf = (peer: SpdyPeer) => {
    if (!draining[peer] && !hold?.held && !ended) sockets[peer].resume();
  };
  const unwatch = hold?.watch((held) => {
    for (const peer of ['client', 'upstream'] as const) {
      if (held) sockets[peer].pause();
      else resumeIf(peer);
    }
  });

  /** end finishes once: frames still held are sent first (unless on error), then both legs end. */
  const end = (by: SpdyPeer | 'error', error?: string) => {
    if (ending) return;
    ending = true;
    unwatch?.();
    const finish = () => {
      observer.closed({ by, ...(error ? { error } : {}) });
      ended = true;
      for (const s of [client, upstream]) {
        if (by === 'error') s.destroy();
        else s.end();
        // A socket paused for back-pressure must read again to see its peer's end (what it
        // reads now is dropped: the session is over).
        s.resume();
      }
    };
    if (by === 'error') finish();
    else void Promise.all([held.client, held.upstream]).then(finish, finish);
  };
  const inject: SpdyInject = (to, bytes) => {
    const target = sockets[to];
    // Through the queue, so an injected frame never overtakes a held one.
    if (!ended && !target.destroyed && target.writable) send(to, bytes);
  };
  /** write passes bytes on; a full target pauses its source until it drains. */
  const write = (to: SpdyPeer, bytes: Uint8Array) => {
    const from: SpdyPeer = to === 'client' ? 'upstream' : 'client';
    if (!sockets[to].write(bytes) && !draining[from]) {
      draining[from] = true;
      sockets[from].pause();
      sockets[to].once('drain', () => {
        draining[from] = false;
        resumeIf(from);
      });
    }
  };
  /** held: per target, the frames waiting behind a held one, in order; undefined when none is held. */
  const held: Record<SpdyPeer, Promise<void> | undefined> = { client: undefined, upstream: undefined };
  const fail = (err: unknown) => end('error', err instanceof Error ? err.message : String(err));
  const send = (to: SpdyPeer, out: Uint8Array | null | Promise<Uint8Array | null>) => {
    const waiting = held[to];
    if (waiting === undefined && !(out instanceof Promise)) {
      if (out !== null && !ended) write(to, out);
      return;
    }
    const next = (waiting ?? Promise.resolve()).then(() => out).then((bytes) => {
      if (bytes !== null && !ended) write(to, bytes);
    });
    const tail = next.then(() => {
      if (held[to] === tail) held[to] = undefined;
    }, fail);
    held[to] = tail;
  };
  const feed = (from: SpdyPeer, chunk: Buffer) => {
    if (ended) return;
    const to: SpdyPeer = from === 'client' ? 'upstream' : 'client';
    try {
      for (const item of session.push(from === 'client' ? 'client' : 'server', chunk)) send(to, observer.frame(item));
    } catch (err) {
      fail(err);
    }
  };

  observer.open(protocol, inject);
  client.on('data', (chunk: Buffer) => feed('client', chunk));
  upstream.on('data', (chunk: Buffer) => feed('upstream', chunk));
  client.on('end', () => end('client'));
  upstream.on('end', () => end('upstream'));
  client.on('close', () => end('client'));
  upstream.on('close', () => end('upstream'));
  client.on('error', (err) => end('error', `client: ${err.message}`));
  upstream.on('error', (err) => end('error', `upstream: ${err.message}`));
  if (clientHead.length > 0) feed('client', clientHead);
  if (upstreamHead.length > 0) feed('upstream', upstreamHead);
  if (hold?.held) for (const s of [client, upstream]) s.pause();
  resumeIf('client');
  resumeIf('upstream');
}
