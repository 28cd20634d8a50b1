/**
 * An in-process airlock in front of the fake Kubernetes API server, for end-to-end tests
 * that drive it with real clients (kubectl, @kubernetes/client-node, raw HTTPS).
 *
 * What it starts: the fake API server (a test double, HTTPS on 127.0.0.1, seeded), then
 * airlock itself through `startAirlock` — ledger in a fresh temp data dir, the built-in
 * issuer, the given policy (default: the embedded one), the admin server and the Kubernetes
 * gateway on `127.0.0.1:0` — with one connection to the fake. Nothing is mocked: requests go
 * over TLS through the real pipeline to the fake and back.
 *
 * What it never does: listen beyond loopback, log (the logger is silent unless
 * AIRLOCK_LOG_LEVEL is set, for a one-off debug run), or leave its temp dir behind:
 * `close()` is idempotent and removes every directory it made, also when startup fails.
 *
 * @example
 * const h = await startGatewayHarness();
 * const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:e2e', groups: ['ci'] });
 * // … run `kubectl --kubeconfig ${kubeconfig} get pods` …
 * const entries = await h.entries();
 * await h.close();
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configSchema } from '../../src/config/index.js';
import { readerOptionsFromConfig } from '../../src/gateway/ledger-options.js';
import { startAirlock, type AirlockRuntime } from '../../src/gateway/runtime.js';
import { openBuiltinIssuer } from '../../src/identity/index.js';
import { exportLedgerPublicKey, openLedgerReader, verifyLedger, type EntryQuery, type LedgerEntry, type VerifyReport } from '../../src/ledger/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { startFakeApiServer, type FakeApiServer } from '../fixtures/fake-apiserver/index.js';

export interface GatewayHarnessOptions {
  /** Policy YAML source; default: the embedded default policy. */
  policy?: string;
  /**
   * Fields of the connection config (its input form) over the defaults: name `sandbox`, the fake
   * as upstream; a function gets the started fake (to write a kubeconfig for it, say).
   */
  connection?: Record<string, unknown> | ((fake: FakeApiServer) => Record<string, unknown>);
  /** What the fake's /version reports (the plain `kubectl` dispatcher picks its client by it). */
  minorVersion?: number;
  /** The `ledger` config section (input form), e.g. `{ bodyLimit: 65536 }`. */
  ledger?: Record<string, unknown>;
  /** The `review` config section (input form), e.g. `{ holdTimeout: '2s' }`. */
  review?: Record<string, unknown>;
  /** `shutdownTimeout` (input form), e.g. `'1s'`. */
  shutdownTimeout?: string;
}

export interface KubeconfigRequest {
  subject: string;
  groups?: string[];
  /** A token to put in the kubeconfig instead of a freshly minted one (e.g. an expired token). */
  token?: string;
}

export interface RawRequest {
  method?: string;
  /** A bearer token for Authorization; none when absent. */
  token?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface GatewayHarness {
  fake: FakeApiServer;
  runtime: AirlockRuntime;
  /** The connection's name (default `sandbox`). */
  connection: string;
  /** `https://127.0.0.1:PORT` — airlock's Kubernetes listener. */
  gatewayOrigin: string;
  /** `https://127.0.0.1:PORT/k8s/<connection>` — what a kubeconfig's `server` points at. */
  gatewayUrl: string;
  /** PEM file of the CA that signs airlock's certificate. */
  caFile: string;
  /** PEM of the same CA. */
  caCert: string;
  /** airlock's data dir (ledger.db, keys, tls). */
  dataDir: string;
  /** The SQLite ledger file. */
  ledgerFile: string;
  /** The policy file airlock was started with (when `policy` was given); rewrite it to reload. */
  policyFile?: string;
  /** mintToken signs a token with airlock's built-in issuer (default ttl 15 minutes). */
  mintToken(subject: string, groups?: string[], ttlSeconds?: number): Promise<string>;
  /** mintExpiredToken signs a correctly signed token that expired an hour ago. */
  mintExpiredToken(subject: string, groups?: string[]): Promise<string>;
  /** writeKubeconfig writes a static bearer-token kubeconfig (CA file, namespace default) into `dir` and returns its path. */
  writeKubeconfig(dir: string, request: KubeconfigRequest): Promise<string>;
  /** request sends one raw HTTPS request to airlock's listener; `path` is the whole target, e.g. `/k8s/sandbox/api/v1/pods`. */
  request(path: string, options?: RawRequest): Promise<RawResponse>;
  /** entries reads the ledger back through `openLedgerReader`, in order. */
  entries(query?: EntryQuery): Promise<LedgerEntry[]>;
  /**
   * waitForEntry resolves with the first entry, already recorded or appended later, that
   * matches (woken by the ledger's onEntry, not by polling); it rejects after `timeoutMs`
   * (default 10 s) with what it was waiting for.
   */
  waitForEntry(match: (entry: LedgerEntry) => boolean, what: string, timeoutMs?: number): Promise<LedgerEntry>;
  /** verify runs the offline verifier over the ledger with the data dir's public key. */
  verify(): Promise<VerifyReport>;
  /** close stops airlock and the fake and removes the temp dirs; safe to call twice. */
  close(): Promise<void>;
}

/**
 * startGatewayHarness starts the fake and airlock; it rejects (after cleaning up) when either
 * cannot start, e.g. for a policy that does not compile.
 */
export async function startGatewayHarness(options: GatewayHarnessOptions = {}): Promise<GatewayHarness> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-gateway-harness-'));
  const dataDir = join(root, 'data');
  let fake: FakeApiServer | undefined;
  let runtime: AirlockRuntime | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await runtime?.close();
      } finally {
        try {
          await fake?.close();
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }
    })();
    return closing;
  };

  try {
    fake = await startFakeApiServer(options.minorVersion !== undefined ? { minorVersion: options.minorVersion } : {});
    const upstreamCa = join(root, 'upstream-ca.crt');
    writeFileSync(upstreamCa, fake.caCert ?? '');
    let policyFile: string | undefined;
    if (options.policy !== undefined) {
      policyFile = join(root, 'policy.yaml');
      writeFileSync(policyFile, options.policy);
    }
    const connectionInput = {
      name: 'sandbox',
      type: 'kubernetes',
      upstream: { url: fake.url, token: fake.token, ca: upstreamCa },
      ...(typeof options.connection === 'function' ? options.connection(fake) : options.connection),
    };
    const config = configSchema.parse({
      data: dataDir,
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      log: { level: 'silent' },
      ...(policyFile !== undefined ? { policy: policyFile } : {}),
      ...(options.ledger !== undefined ? { ledger: options.ledger } : {}),
      ...(options.review !== undefined ? { review: options.review } : {}),
      ...(options.shutdownTimeout !== undefined ? { shutdownTimeout: options.shutdownTimeout } : {}),
      connections: [connectionInput],
    });
    const logger = process.env.AIRLOCK_LOG_LEVEL ? createLogger({ level: process.env.AIRLOCK_LOG_LEVEL }) : silentLogger;
    runtime = await startAirlock(config, { logger });
    const kube = runtime.kubernetes;
    const issuer = runtime.issuer;
    if (!kube?.caFile || !issuer) throw new Error('the harness needs the Kubernetes gateway with its quick-start CA and the built-in issuer');
    const caFile = kube.caFile;
    const connection = config.connections[0]!.name;
    const gatewayUrl = `${kube.url}/k8s/${connection}`;
    const readerOptions = readerOptionsFromConfig(config);
    if (readerOptions.store.kind !== 'sqlite' || readerOptions.store.path === undefined) throw new Error('the harness keeps its ledger in SQLite');
    const ledgerFile = readerOptions.store.path;
    const caCert = readFileSync(caFile, 'utf8');

    const mintToken = (subject: string, groups: string[] = [], ttlSeconds = 900) => issuer.mint({ subject, groups, ttlSeconds });
    const withReader = async <T>(fn: (reader: Awaited<ReturnType<typeof openLedgerReader>>) => Promise<T>): Promise<T> => {
      const reader = await openLedgerReader(readerOptions);
      try {
        return await fn(reader);
      } finally {
        await reader.close();
      }
    };

    let kubeconfigs = 0;
    const started = runtime;
    const upstream = fake;
    return {
      fake: upstream,
      runtime: started,
      connection,
      gatewayOrigin: kube.url,
      gatewayUrl,
      caFile,
      caCert,
      dataDir,
      ledgerFile,
      ...(policyFile !== undefined ? { policyFile } : {}),
      mintToken,
      async mintExpiredToken(subject, groups = []) {
        // The same key and issuer, with a clock two hours behind: a valid signature, long expired.
        const past = await openBuiltinIssuer({ dataDir, issuer: issuer.issuer, audience: issuer.audience, now: () => Date.now() - 2 * 3600_000 });
        return past.mint({ subject, groups, ttlSeconds: 3600 });
      },
      async writeKubeconfig(dir, request) {
        const token = request.token ?? (await mintToken(request.subject, request.groups ?? []));
        const name = `airlock-${connection}`;
        const kubeconfig = {
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name, cluster: { server: gatewayUrl, 'certificate-authority': caFile } }],
          users: [{ name, user: { token } }],
          contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
          'current-context': name,
        };
        const file = join(dir, `kubeconfig-${++kubeconfigs}-${request.subject.replace(/[^A-Za-z0-9_-]/g, '_')}`);
        writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
        return file;
      },
      request: (path, request = {}) => rawRequest(`${kube.url}${path}`, caCert, request),
      entries: (query = {}) =>
        withReader(async (reader) => {
          const out: LedgerEntry[] = [];
          for await (const entry of reader.entries(query)) out.push(entry);
          return out;
        }),
      waitForEntry(match, what, timeoutMs = 10_000) {
        return new Promise<LedgerEntry>((resolve, reject) => {
          let done = false;
          const finish = (entry: LedgerEntry | Error) => {
            if (done) return;
            done = true;
            stop();
            clearTimeout(timer);
            if (entry instanceof Error) reject(entry);
            else resolve(entry);
          };
          // Subscribe first, then read what is there: an entry landing in between is not missed.
          const stop = started.ledger.onEntry((entry) => {
            if (match(entry)) finish(entry);
          });
          const timer = setTimeout(() => finish(new Error(`no ledger entry for ${what} within ${timeoutMs} ms`)), timeoutMs);
          withReader(async (reader) => {
            for await (const entry of reader.entries({})) if (match(entry)) return entry;
            return undefined;
          }).then((entry) => entry && finish(entry), (err: Error) => finish(err));
        });
      },
      verify: () => withReader((reader) => verifyLedger(reader, { publicKey: exportLedgerPublicKey(dataDir) })),
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** rawRequest sends one request over a fresh connection (no pooling, so nothing outlives the test). */
function rawRequest(url: string, ca: string, options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = httpsRequest(url, { method: options.method ?? 'GET', headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
