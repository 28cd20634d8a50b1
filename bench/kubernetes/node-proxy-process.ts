/**
 * The "node floor" route (`--node-floor`): the smallest reverse proxy built from the same
 * parts as airlock — a node:https listener with keep-alive and an undici Pool upstream that
 * adds the token — and nothing else: no authentication, policy, masking or ledger. Its cost
 * is what any Node.js L7 proxy pays for TLS on both legs and two HTTP/1.1 codecs, so
 * airlock minus this route is what airlock's own pipeline costs. Runs as its own process
 * (forked by index.ts), reports its URL and CA over IPC, exits when its parent disconnects.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { generateTestCertificates } from '../../test/fixtures/tls.js';

/** The first IPC message of this process. */
export interface NodeProxyReady {
  kind: 'ready';
  url: string;
  caCert: string;
}

const { values } = parseArgs({ options: { upstream: { type: 'string' }, 'upstream-ca-file': { type: 'string' }, 'token-file': { type: 'string' } } });
const upstreamUrl = new URL(values.upstream ?? '');
const upstreamCa = readFileSync(values['upstream-ca-file'] ?? '', 'utf8');
const authorization = `Bearer ${readFileSync(values['token-file'] ?? '', 'utf8').trim()}`;

const pool = new Pool(upstreamUrl.origin, { connect: { ca: upstreamCa }, headersTimeout: 0, bodyTimeout: 0 });
const tls = generateTestCertificates({ hosts: ['127.0.0.1', 'localhost'], caName: 'airlock benchmark node-floor CA' });
const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
  const forward = async () => {
    const upstream = await pool.request({
      method: 'GET',
      path: req.url ?? '/',
      headers: { authorization, accept: req.headers.accept ?? 'application/json' },
    });
    const type = upstream.headers['content-type'];
    res.writeHead(upstream.statusCode, typeof type === 'string' ? { 'content-type': type } : {});
    await pipeline(upstream.body, res);
  };
  forward().catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ kind: 'ready', url: `https://127.0.0.1:${port}`, caCert: tls.caCert } satisfies NodeProxyReady);
});
process.once('disconnect', () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
});
