/**
 * The HTTPS listener for Kubernetes clients. HTTP/1.1 only: kubectl and client-go speak it,
 * and WebSocket/SPDY upgrades (exec, attach, port-forward) exist only on HTTP/1.1. Every
 * request, upgrades included, becomes an exchange that runs through the pipeline.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../log.js';
import { urlForListener } from '../../config/host-port.js';
import type { KubeExchange } from './kube-exchange.js';
import { statusFailure, statusResponse } from './status.js';

export interface KubernetesListenerOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  /** The pipeline built for the Kubernetes adapter. */
  handle: (x: KubeExchange) => Promise<void>;
  /** New exchange ids (the ledger's UUIDv7). */
  newId: () => string;
  logger: Logger;
}

export interface KubernetesListener {
  /** `https://host:port` as bound; loopback for an unspecified address (0.0.0.0, ::). */
  url: string;
  server: Server;
  /**
   * close stops accepting connections and lets requests and streams in flight finish for up to
   * `drainMs`; past it, streams are ended with a Status saying airlock is shutting down (their
   * recordings closed with that reason), and whatever is left is cut a second later.
   */
  close(drainMs?: number): Promise<void>;
}

/** startKubernetesListener listens and resolves once bound; it rejects when the address cannot be bound. */
export async function startKubernetesListener(options: KubernetesListenerOptions): Promise<KubernetesListener> {
  const server = createServer({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' });
  // Watches, `logs -f` and held approvals stay open as long as the client wants.
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 65_000;

  // What is in flight, for a drain: each exchange until its pipeline settles, and the raw
  // sockets of upgrades, which the server stops tracking once it hands them over.
  const inflight = new Set<Promise<void>>();
  const upgraded = new Set<Duplex>();
  const shutdown = new AbortController();
  const run = (req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }) => {
    const x: KubeExchange = {
      id: options.newId(),
      protocol: 'kubernetes',
      startedAt: process.hrtime.bigint(),
      facts: {},
      req,
      res,
      upgrade: upgrade !== undefined,
      shutdown: shutdown.signal,
      ...(upgrade ? { upgradeSocket: upgrade.socket, upgradeHead: upgrade.head } : {}),
    };
    const done = options.handle(x).catch((err: unknown) => {
      options.logger.error({ err, exchange: x.id }, 'unhandled failure in the Kubernetes pipeline');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  };
  server.on('request', (req, res) => run(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Refusals of an upgrade are an ordinary response on its socket: plain HTTP that kubectl
    // reads (and falls back on). A relayed stream detaches the socket from this response.
    // After a refusal, keep reading what the client sends, or it sees a reset, not the answer.
    const res = new ServerResponse(req);
    res.assignSocket(socket as never);
    res.shouldKeepAlive = false;
    res.once('finish', () => {
      res.detachSocket(socket as never);
      socket.resume();
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    run(req, res, { socket, head });
  });
  // A request Node's HTTP parser cannot read never reaches the pipeline (there is no request to
  // authenticate or record); it is answered with a Status saying what was wrong, then closed.
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    options.logger.debug({ err: { message: err.message, code: err.code } }, 'client error');
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = statusResponse(
      statusFailure(
        tooLarge
          ? { code: 431, reason: 'BadRequest', message: 'airlock could not read this HTTP request: its headers are too large' }
          : { code: 400, reason: 'BadRequest', message: `airlock could not read this HTTP request (${err.code ?? 'malformed'}): ${err.message.replace(/^Parse Error: /, '')}` },
      ),
    );
    const head = [`HTTP/1.1 ${status.statusCode} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}`, ...Object.entries(status.headers).map(([k, v]) => `${k}: ${v}`), 'connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${status.body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    // A URL a local client can dial: loopback stands in for an unspecified address (0.0.0.0).
    url: urlForListener({ host: address.address, port: address.port }, 'https'),
    server,
    async close(drainMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const settled = () => Promise.allSettled([...inflight]).then(() => undefined);
      if (inflight.size > 0 && drainMs > 0) await withDeadline(settled(), drainMs);
      if (inflight.size > 0) {
        // Past the deadline: streams end with a Status and close their recordings.
        shutdown.abort();
        await withDeadline(settled(), 1000);
      }
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      await closed;
    },
  };
}

/** withDeadline resolves when `work` settles or `ms` have passed, whichever is first. */
function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void work.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
