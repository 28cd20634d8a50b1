/**
 * openUpstream: how airlock reaches one cluster. It turns a connection's `upstream` block
 * (a URL with a credential, a kubeconfig, or the pod's own service account) into an undici
 * connection pool that trusts the right CA and presents airlock's own credential.
 *
 * What it never does: decide, impersonate or forward on its own. The caller builds each
 * request (path via `upstreamPath`, `Authorization` from `authorization()`, impersonation
 * headers from impersonation.ts) and dispatches it on `dispatcher`. The agent's credential
 * never reaches this module, and airlock's credential never leaves it except in the
 * `Authorization` header of an upstream request: `describe()` and every error name files and
 * kinds of credential, never a token.
 *
 * Timeouts: connecting gives up after 10 s, but headers and body have no timeout at all —
 * watches and `logs -f` stream for hours, and a request held for approval may wait long for
 * its headers — so the caller sets per-request timeouts where it wants them
 * (reference: undici's default 300 s headers/body timeouts cut watches).
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { Pool, type Dispatcher } from 'undici';
import type { KubernetesConnectionConfig } from '../../../config/kubernetes-schema.js';
import { silentLogger, type Logger } from '../../../log.js';
import { inClusterTarget } from './in-cluster.js';
import { readKubeconfigTarget } from './kubeconfig-file.js';
import { parseServerUrl, readMaterial, upstreamError, type UpstreamTarget } from './target.js';
import { execTokenSource, type ExecTokenSource } from './exec-plugin.js';
import { fileTokenSource, staticTokenSource, type TokenSource } from './token-source.js';

export interface Upstream {
  /** The connection's name. */
  readonly name: string;
  /** The API server URL, including its path prefix (no trailing slash unless it is `/`). */
  readonly baseUrl: URL;
  /** A pool to the API server's origin: TLS set up, keep-alive, no headers/body timeout. */
  readonly dispatcher: Dispatcher;
  /** authorization is the `Authorization` value to send (`Bearer …`), or undefined with a client certificate only. */
  authorization(): string | undefined;
  /**
   * renew: the cluster answered 401 to airlock's credential. A token from a kubeconfig's exec
   * plugin is renewed (at most every 10 s for refusals); resolves true when the credential
   * changed, so the refused request may be sent again. Other credentials cannot be renewed by
   * airlock: false at once.
   */
  renew(): Promise<boolean>;
  /** settled resolves once a renewal of the credential in progress (an exec plugin's run), if any, has finished. */
  settled(): Promise<void>;
  /** describe is a safe one-line summary: URL, where it came from, credential kind, trust. Never the secret. */
  describe(): string;
  /**
   * tlsOptions are the TLS settings of the pool, for connections the pool cannot carry (a
   * WebSocket client for exec and port-forward streams).
   */
  tlsOptions(): UpstreamTlsOptions;
  /** close destroys the pool, aborting requests still in flight (a watch never ends on its own). */
  close(): Promise<void>;
}

/** The TLS settings for a connection to the API server (node:tls option names). */
export interface UpstreamTlsOptions {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

export interface OpenUpstreamOptions {
  logger?: Logger;
  /** Environment for `inCluster` (KUBERNETES_SERVICE_HOST/PORT); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Service-account mount for `inCluster`; default /var/run/secrets/kubernetes.io/serviceaccount. */
  inClusterRoot?: string;
  /** How often, at most, a token file is checked for a change (default 5 s). */
  tokenCheckIntervalMs?: number;
  /** How long one run of a kubeconfig's exec plugin may take (default 30 s). */
  execTimeoutMs?: number;
  /** Called after each renewal of an exec plugin's token, with whether it gave one (metrics). */
  onCredentialRenewal?: (ok: boolean) => void;
  /** Epoch milliseconds; injected by tests to move time without sleeping. */
  now?: () => number;
}

/** How long to wait for the TCP and TLS handshake with the API server. */
export const upstreamConnectTimeoutMs = 10_000;

/**
 * openUpstream reads the connection's upstream settings and files and returns a ready
 * pool; it throws AIRLOCK_UPSTREAM_CONFIG (naming the connection, the file and what is
 * wrong) when a file is missing, a kubeconfig uses an unsupported kind of auth, or the TLS
 * material does not load. It does not contact the cluster.
 *
 * @example
 * const upstream = await openUpstream(connection);
 * const res = await request(new URL(upstreamPath(upstream, '/api/v1/namespaces'), upstream.baseUrl), {
 *   dispatcher: upstream.dispatcher,
 *   headers: { authorization: upstream.authorization(), ...impersonationHeaders(identity, connection.identity) },
 * });
 */
export async function openUpstream(conn: KubernetesConnectionConfig, opts: OpenUpstreamOptions = {}): Promise<Upstream> {
  const logger = opts.logger ?? silentLogger;
  const target = await resolveTarget(conn, opts);
  checkTlsMaterial(conn.name, target);
  const tokens = await openTokenSource(conn.name, target, opts, logger);
  const plain = target.server.protocol === 'http:';
  if (target.insecure && !plain) {
    logger.warn({ connection: conn.name }, 'the upstream certificate is not verified (insecure); use this only for test clusters');
  }
  if (plain) {
    logger.warn({ connection: conn.name }, 'the upstream is plain http: airlock\'s credential crosses the network unencrypted');
  }
  const tls: UpstreamTlsOptions = {
    rejectUnauthorized: !target.insecure,
    ...(target.ca && { ca: target.ca.data }),
    ...(target.clientCert && { cert: target.clientCert.data }),
    ...(target.clientKey && { key: target.clientKey.data }),
    ...(target.serverName && { servername: target.serverName }),
  };
  const pool = new Pool(target.server.origin, {
    connect: { timeout: upstreamConnectTimeoutMs, ...tls },
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const summary = describeTarget(target, tokens, plain);
  return {
    name: conn.name,
    baseUrl: target.server,
    dispatcher: pool,
    authorization: () => (tokens ? `Bearer ${tokens.current()}` : undefined),
    renew: async () => (tokens && 'renew' in tokens ? tokens.renew() : false),
    settled: async () => {
      if (tokens && 'settled' in tokens) await tokens.settled();
    },
    describe: () => summary,
    tlsOptions: () => tls,
    close: async () => {
      await pool.destroy();
      // A renewal still running is waited for, so no plugin outlives the connection.
      if (tokens && 'settled' in tokens) await tokens.settled();
    },
  };
}

/**
 * sendRenewing sends a request built by `send` (which reads `authorization()` afresh each time).
 * A 401 is the cluster refusing airlock's own credential — callers are impersonated, and the API
 * server authenticates before it does anything else — so once a credential that can be renewed
 * (an exec plugin's token) has been, the request is sent again, once, and its answer returned.
 */
export async function sendRenewing(upstream: Pick<Upstream, 'renew'>, send: () => Promise<Dispatcher.ResponseData>): Promise<Dispatcher.ResponseData> {
  const first = await send();
  if (first.statusCode !== 401 || !(await upstream.renew())) return first;
  await first.body.dump();
  return send();
}

/**
 * refusedCredential says what a client is told when the cluster still answers 401 (after
 * sendRenewing): the cluster refused airlock's own credential, never the client's, so the
 * cluster's 401 is not passed on — kubectl would tell the agent to log in again.
 */
export function refusedCredential(connection: string, what: string): string {
  return `the cluster behind connection "${connection}" refused airlock's own credential (HTTP 401), so ${what}; the caller's credential is fine: whoever runs airlock must renew its credential for the cluster`;
}

/**
 * upstreamPath prefixes a request target (`/api/v1/pods?watch=1`, as received, not decoded)
 * with the API server's path prefix, for `dispatcher.request({ origin, path })`.
 */
export function upstreamPath(upstream: Pick<Upstream, 'baseUrl'>, target: string): string {
  const prefix = upstream.baseUrl.pathname === '/' ? '' : upstream.baseUrl.pathname;
  return `${prefix}${target.startsWith('/') ? target : `/${target}`}`;
}

async function resolveTarget(conn: KubernetesConnectionConfig, opts: OpenUpstreamOptions): Promise<UpstreamTarget> {
  const u = conn.upstream;
  const connection = conn.name;
  if (u.kubeconfig !== undefined) {
    refuseCredentialFields(conn, '`kubeconfig`');
    return withTrustOverrides(conn, await readKubeconfigTarget(u.kubeconfig, { connection, ...(u.context !== undefined && { context: u.context }) }));
  }
  if (u.inCluster) {
    refuseCredentialFields(conn, '`inCluster: true`');
    return withTrustOverrides(conn, await inClusterTarget({ connection, env: opts.env, root: opts.inClusterRoot }));
  }
  if (u.url === undefined) throw upstreamError(connection, 'set one of `url` (with a credential), `kubeconfig` or `inCluster: true`');
  if (u.insecure && u.ca !== undefined) throw upstreamError(connection, '`insecure: true` and `ca` contradict each other; keep one');
  const target: UpstreamTarget = { server: parseServerUrl(connection, u.url, 'upstream.url'), insecure: u.insecure, origin: 'configuration' };
  if (u.ca !== undefined) target.ca = await readMaterial(connection, u.ca, 'CA');
  if (u.clientCert !== undefined) target.clientCert = await readMaterial(connection, u.clientCert, 'client certificate');
  if (u.clientKey !== undefined) target.clientKey = await readMaterial(connection, u.clientKey, 'client key');
  if (u.token !== undefined) target.token = { kind: 'static', token: u.token, from: 'from configuration' };
  if (u.tokenFile !== undefined) target.token = { kind: 'file', path: u.tokenFile };
  if (!target.token && !target.clientCert) {
    throw upstreamError(connection, 'a `url` upstream needs a credential: `token`, `tokenFile` or `clientCert`/`clientKey`');
  }
  return target;
}

/** With a kubeconfig or in-cluster, the credential comes from there; a second one in config would be ignored, so it is refused. */
function refuseCredentialFields(conn: KubernetesConnectionConfig, mode: string): void {
  const u = conn.upstream;
  const extra = (['token', 'tokenFile', 'clientCert', 'clientKey'] as const).filter((f) => u[f] !== undefined);
  if (extra.length > 0) {
    throw upstreamError(conn.name, `with ${mode} the credential comes from there; remove ${extra.map((f) => `\`${f}\``).join(', ')}`);
  }
}

/**
 * withTrustOverrides applies the connection's `ca` and `insecure` over what the kubeconfig or
 * the pod says, as kubectl's --certificate-authority and --insecure-skip-tls-verify do
 * (insecure drops the CA instead of contradicting it).
 */
async function withTrustOverrides(conn: KubernetesConnectionConfig, target: UpstreamTarget): Promise<UpstreamTarget> {
  const u = conn.upstream;
  if (u.insecure && u.ca !== undefined) throw upstreamError(conn.name, '`insecure: true` and `ca` contradict each other; keep one');
  if (u.ca !== undefined) return { ...target, ca: await readMaterial(conn.name, u.ca, 'CA'), insecure: false };
  if (u.insecure) {
    const { ca: _dropped, ...rest } = target;
    return { ...rest, insecure: true };
  }
  return target;
}

/** checkTlsMaterial loads the CA, certificate and key once now, so a bad file is a start-up error, not a failed request. */
function checkTlsMaterial(connection: string, target: UpstreamTarget): void {
  if (target.ca) {
    // Node quietly ignores a CA bundle it cannot read, so every block is parsed here.
    const blocks = target.ca.data.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw upstreamError(connection, `the CA from ${target.ca.from} holds no PEM certificate`);
    try {
      for (const block of blocks) new X509Certificate(block);
    } catch (err) {
      throw upstreamError(connection, `the CA from ${target.ca.from} cannot be used (${tlsReason(err)})`, err);
    }
  }
  if (target.clientCert && target.clientKey) {
    // client-go cannot use a passphrase-protected key either; say so rather than "bad decrypt".
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(target.clientKey.data.toString('latin1'))) {
      throw upstreamError(connection, `the client key (${target.clientKey.from}) is encrypted with a passphrase; give airlock the key unencrypted (e.g. openssl pkey -in KEY -out KEY.plain) and protect the file instead`);
    }
    try {
      createSecureContext({ cert: target.clientCert.data, key: target.clientKey.data });
    } catch (err) {
      throw upstreamError(connection, `the client certificate (${target.clientCert.from}) and key (${target.clientKey.from}) cannot be used together (${tlsReason(err)})`, err);
    }
  }
}

/** tlsReason keeps OpenSSL's reason ("key values mismatch", "no start line"); it never contains key bytes. */
function tlsReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^error:[0-9A-Fa-f]+:/, '').replace(/^[^:]*::/, '') || 'unreadable';
}

async function openTokenSource(connection: string, target: UpstreamTarget, opts: OpenUpstreamOptions, logger: Logger): Promise<TokenSource | ExecTokenSource | undefined> {
  const spec = target.token;
  if (!spec) return undefined;
  if (spec.kind === 'static') return staticTokenSource(connection, spec.token, spec.from);
  if (spec.kind === 'exec') return execTokenSource(spec.plugin, { connection, logger, now: opts.now, timeoutMs: opts.execTimeoutMs, onRenewal: opts.onCredentialRenewal });
  return fileTokenSource(spec.path, { connection, logger, checkIntervalMs: opts.tokenCheckIntervalMs, now: opts.now });
}

function describeTarget(target: UpstreamTarget, tokens: TokenSource | undefined, plain: boolean): string {
  const credentials = [
    ...(tokens ? [tokens.description] : []),
    ...(target.clientCert ? [`client certificate from ${target.clientCert.from}`] : []),
  ];
  let trust: string;
  if (plain) trust = 'plain http, no TLS';
  else if (target.insecure) trust = 'server certificate NOT verified (insecure)';
  else trust = target.ca ? `CA from ${target.ca.from}` : 'system CA roots';
  if (target.serverName && !plain) trust += `, server name "${target.serverName}"`;
  return `${target.server.href} (${target.origin}; ${credentials.join(' and ')}; ${trust})`;
}
