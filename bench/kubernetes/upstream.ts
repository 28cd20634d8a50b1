/**
 * The benchmark's upstream: a minimal HTTPS Kubernetes API endpoint that answers the three
 * workloads from bytes prepared at start-up, so that every route (direct, kubectl proxy,
 * airlock) meets the same, nearly free upstream and the figures measure the route, not the
 * upstream. It is a labelled stand-in, not an API server: it checks the bearer token, serves
 * `/version`, the ConfigMap, the SecretList and the large generated SecretList, and answers
 * anything else with a 404 Status. The large list is streamed with back-pressure and never
 * held (see objects.ts). Responses are never gzipped, so no route pays for compression.
 *
 * test/fixtures/fake-apiserver is the faithful double for tests; it keeps objects in a store
 * and evaluates selectors, tables and watches per request, which would dominate these numbers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { generateTestCertificates } from '../../test/fixtures/tls.js';
import { bigSecretListStream, configMapJson, paths, secretListJson, type Mix } from './objects.js';

export interface BenchUpstreamOptions {
  /** Secrets in the LIST workload's SecretList. */
  listItems: number;
  /** Size of the large generated SecretList, in bytes. */
  bigBytes: number;
}

/** What the upstream counted: requests per route kind, and those that carried Impersonate-User. */
export interface UpstreamStats {
  requests: number;
  impersonated: number;
  unauthorized: number;
}

export interface BenchUpstream {
  url: string;
  caCert: string;
  token: string;
  /** Bytes of the LIST workload's SecretList (served with a Content-Length). */
  listBytes: number;
  stats(): UpstreamStats;
  close(): Promise<void>;
}

const version = JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0-bench', platform: 'linux/amd64' });

/** bigListPath is the path of the large SecretList of one mix (the mix is in the namespace). */
export function bigListPath(mix: Mix): string {
  return paths.bigSecretList.replace('-large/', `-large-${mix}/`);
}

/** startBenchUpstream listens on 127.0.0.1, any free port, with a fresh CA and token. */
export async function startBenchUpstream(options: BenchUpstreamOptions): Promise<BenchUpstream> {
  const tls = generateTestCertificates({ hosts: ['127.0.0.1', 'localhost'], caName: 'airlock benchmark upstream CA (not a cluster)' });
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const configMap = configMapJson();
  const secretList = secretListJson(options.listItems);
  const stats: UpstreamStats = { requests: 0, impersonated: 0, unauthorized: 0 };
  const fixed = new Map<string, Buffer>([
    ['/version', Buffer.from(version)],
    [paths.configMap, configMap],
    [paths.secretList, secretList],
  ]);
  const big = new Map<string, Mix>([
    [bigListPath('cluster'), 'cluster'],
    [bigListPath('credentials'), 'credentials'],
  ]);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++;
    if (req.headers['impersonate-user'] !== undefined) stats.impersonated++;
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      stats.unauthorized++;
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `the benchmark upstream only serves GET, not ${req.method}`);
    const body = fixed.get(path);
    if (body) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'audit-id': auditId(req) });
      res.end(body);
      return;
    }
    const mix = big.get(path);
    if (mix) {
      res.writeHead(200, { 'content-type': 'application/json', 'audit-id': auditId(req) });
      pipeline(bigSecretListStream(options.bigBytes, mix), res).catch(() => res.destroy());
      return;
    }
    status(res, 404, 'NotFound', `the benchmark upstream does not serve ${path}`);
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, handle);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caCert: tls.caCert,
    token,
    listBytes: secretList.length,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function auditId(req: IncomingMessage): string {
  const id = req.headers['audit-id'];
  return typeof id === 'string' ? id : randomBytes(16).toString('hex');
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
