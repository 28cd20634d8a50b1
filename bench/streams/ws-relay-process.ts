/**
 * The "node floor" route of the streams benchmark: the smallest WebSocket relay built from the
 * same parts as airlock's — a node:https listener and the `ws` package on both legs, dialling
 * upstream first and accepting the client with the subprotocol upstream chose — and nothing
 * else: no authentication, policy, masking, recording or ledger. It relays each message as a
 * message (the channel protocol's first byte must stay first), pausing a leg while the other
 * has over 1 MiB unsent, until its socket drains. airlock minus this route is what airlock's
 * own per-byte work costs. Runs as its own process (forked by setup.ts), reports its URL and
 * CA over IPC, exits when its parent disconnects.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { generateTestCertificates } from '../../test/fixtures/tls.js';

/** The first IPC message of this process. */
export interface WsRelayReady {
  kind: 'ready';
  url: string;
  caCert: string;
}

/** A leg whose unsent backlog passes this stops the other leg being read (airlock's relay pauses at the same mark). */
const HIGH_WATER = 1024 * 1024;

const { values } = parseArgs({ options: { upstream: { type: 'string' }, 'upstream-ca-file': { type: 'string' }, 'token-file': { type: 'string' } } });
const upstreamUrl = new URL(values.upstream ?? '');
const upstreamCa = readFileSync(values['upstream-ca-file'] ?? '', 'utf8');
const authorization = `Bearer ${readFileSync(values['token-file'] ?? '', 'utf8').trim()}`;

/** pipe relays every message of `from` to `to`, pausing `from` while `to` is backed up. */
function pipe(from: WebSocket, to: WebSocket): void {
  from.on('message', (data: RawData, isBinary: boolean) => {
    to.send(data, { binary: isBinary });
    if (to.bufferedAmount > HIGH_WATER && !from.isPaused) {
      from.pause();
      // ws sends through its socket; the socket's drain is when the backlog went out.
      (to as unknown as { _socket: NodeJS.EventEmitter })._socket.once('drain', () => from.resume());
    }
  });
  from.on('close', (code: number, reason: Buffer) => to.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000, reason));
  from.on('error', () => to.terminate());
}

const tls = generateTestCertificates({ hosts: ['127.0.0.1', 'localhost'], caName: 'airlock benchmark node-floor CA' });
const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.writeHead(404).end());
/** The subprotocol upstream chose for a request, which the client is then accepted with. */
const chosen = new WeakMap<object, string>();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
  handleProtocols: (_protocols, req) => chosen.get(req) ?? false,
});
server.on('upgrade', (req, socket, head) => {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const upstream = new WebSocket(new URL(req.url ?? '/', upstreamUrl.href.replace(/^http/, 'ws')).href, offered, {
    ca: upstreamCa,
    headers: { authorization },
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
  });
  upstream.once('unexpected-response', (_r, res) => {
    socket.end(`HTTP/1.1 ${res.statusCode ?? 502} Upstream refused\r\nConnection: close\r\n\r\n`);
    res.resume();
  });
  upstream.once('error', () => socket.destroy());
  upstream.once('open', () => {
    if (upstream.protocol) chosen.set(req, upstream.protocol);
    wss.handleUpgrade(req, socket, head, (client) => {
      pipe(client, upstream);
      pipe(upstream, client);
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ kind: 'ready', url: `https://127.0.0.1:${port}`, caCert: tls.caCert } satisfies WsRelayReady);
});
process.once('disconnect', () => {
  for (const client of wss.clients) client.terminate();
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
