/**
 * Exec credential plugins: how a kubeconfig for a cloud cluster says where its token comes
 * from (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`). airlock runs the plugin the
 * way client-go does (client.authentication.k8s.io v1 and v1beta1): the command with its args,
 * its env on top of airlock's, `KUBERNETES_EXEC_INFO` describing the request (never
 * interactive: airlock has no terminal to offer), and reads the `ExecCredential` it prints.
 *
 * The token is kept and sent until shortly before its `expirationTimestamp` (a fifth of its
 * lifetime, between 10 seconds and 5 minutes, before), when the next request starts the plugin
 * again in the background; requests meanwhile still carry the old, still valid token. A token
 * the cluster refuses (401; one without an expiry is kept until then, as client-go does) is
 * renewed at once, at most every 10 seconds, and the refused request is sent again. A run that fails
 * keeps the last token and is tried again 10 seconds later at the earliest; each failure is
 * logged (what failed, never a token), and so is the first request sent after the token expired.
 *
 * Refused, with the reason: a plugin that needs a terminal (`interactiveMode: Always`), one
 * that answers with a client certificate (airlock keeps its TLS settings for the life of the
 * connection), and the v1alpha1 API that Kubernetes removed in 1.24.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { silentLogger, type Logger } from '../../../log.js';
import { upstreamError } from './target.js';
import { tokenProblem, type TokenSource } from './token-source.js';

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/** The cluster as `provideClusterInfo: true` hands it to the plugin (ExecCredential `spec.cluster`). */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  /** base64 PEM, as in a kubeconfig */
  'certificate-authority-data'?: string;
  /** the cluster's `client.authentication.k8s.io/exec` extension */
  config?: unknown;
}

/** An exec plugin as a kubeconfig user names it, checked and with its command resolved. */
export interface ExecPluginSpec {
  /** The command to run: an absolute path, or a bare name looked up on PATH. */
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: ExecApiVersion;
  /** Absent: no hint. Shown when the command is not found. */
  installHint?: string;
  cluster?: ExecClusterInfo;
  /** Where the plugin was named, for messages: `kubeconfig /x, context "c", user "u"`. */
  from: string;
}

export interface ExecTokenSourceOptions {
  connection: string;
  logger?: Logger;
  /** Epoch milliseconds; injected by tests to move time without sleeping. */
  now?: () => number;
  /** How long one run of the plugin may take (default 30 s). */
  timeoutMs?: number;
  /** Called after each renewal (every run after the first), with whether it gave a token (metrics). */
  onRenewal?: (ok: boolean) => void;
}

/** What a source backed by an exec plugin adds: renewal when the cluster refuses the token, and a run that can be awaited. */
export interface ExecTokenSource extends TokenSource {
  /**
   * renew: the cluster refused the token (401). The plugin runs again (or the run in progress
   * is joined) unless a refusal made it run less than 10 s ago; resolves true when the token
   * changed since the call, so the refused request can be sent again.
   */
  renew(): Promise<boolean>;
  /** settled resolves once the plugin run in progress, if any, has finished (tests, shutdown). */
  settled(): Promise<void>;
}

export const defaultExecTimeoutMs = 30_000;
/** The earliest a failed or rejected run is tried again. */
export const execRetryMs = 10_000;
/** Bytes of output a plugin may print; an ExecCredential is a few kilobytes. */
const MAX_OUTPUT = 1024 * 1024;

interface Credential {
  token: string;
  /** Epoch ms; undefined: no expiry given. */
  expiresAt?: number;
}

/**
 * execTokenSource runs the plugin now and returns a source that renews its token; it throws
 * AIRLOCK_UPSTREAM_CONFIG, naming the plugin and what went wrong, when the first run fails.
 */
export async function execTokenSource(spec: ExecPluginSpec, options: ExecTokenSourceOptions): Promise<ExecTokenSource> {
  const { connection } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? defaultExecTimeoutMs;
  const name = `the exec plugin ${spec.command} (${spec.from})`;
  let credential: Credential;
  try {
    credential = await runPlugin(spec, timeoutMs);
  } catch (err) {
    throw upstreamError(connection, `${name} gave no token: ${(err as Error).message}`);
  }

  let obtainedAt = now();
  let refreshAt = refreshTime(credential, obtainedAt);
  let lastAttempt = obtainedAt;
  /** When a refusal by the cluster last ran the plugin. */
  let lastRenewal = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  let warnedExpired = false;

  // One run at a time: callers start one only when `running` is unset.
  const refresh = (why: string): void => {
    lastAttempt = now();
    running = runPlugin(spec, timeoutMs).then(
      (next) => {
        credential = next;
        obtainedAt = now();
        refreshAt = refreshTime(next, obtainedAt);
        warnedExpired = false;
        const expires = next.expiresAt === undefined ? 'no expiry given' : `expires ${new Date(next.expiresAt).toISOString()}`;
        logger.info({ connection }, `${name} renewed the upstream token (${why}; ${expires})`);
        options.onRenewal?.(true);
      },
      (err: unknown) => {
        options.onRenewal?.(false);
        logger.warn({ connection }, `${name} could not renew the upstream token (${why}): ${(err as Error).message}; still using the token it gave before, and trying again in ${execRetryMs / 1000} s at the earliest`);
      },
    ).finally(() => {
      running = undefined;
    });
  };

  return {
    current() {
      const t = now();
      if (!running && refreshAt !== undefined && t >= refreshAt && t - lastAttempt >= execRetryMs) refresh('it expires soon');
      if (credential.expiresAt !== undefined && t >= credential.expiresAt && !warnedExpired) {
        warnedExpired = true;
        logger.error({ connection }, `the upstream token from ${name} has expired and the plugin has not given a new one: the cluster will refuse airlock's requests until it does`);
      }
      return credential.token;
    },
    async renew() {
      const before = credential;
      if (!running) {
        if (now() - lastRenewal < execRetryMs) return false;
        lastRenewal = now();
        refresh('the cluster refused the token');
      }
      await running;
      return credential.token !== before.token;
    },
    settled: async () => {
      await running;
    },
    description: `bearer token from exec plugin ${spec.command} (run again before the token expires)`,
  };
}

/**
 * refreshTime: when to run the plugin again — a fifth of the token's lifetime before it
 * expires, at least 10 s and at most 5 minutes before (half the lifetime for a token that lives
 * less than 20 s); undefined for a token with no expiry.
 */
export function refreshTime(credential: Credential, obtainedAt: number): number | undefined {
  if (credential.expiresAt === undefined) return undefined;
  const lifetime = Math.max(0, credential.expiresAt - obtainedAt);
  const margin = lifetime < 20_000 ? lifetime / 2 : Math.min(5 * 60_000, Math.max(10_000, lifetime / 5));
  return credential.expiresAt - margin;
}

/** runPlugin runs the plugin once and reads its credential; rejects with a message that holds no token. */
function runPlugin(spec: ExecPluginSpec, timeoutMs: number): Promise<Credential> {
  const info = {
    apiVersion: spec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(spec.cluster ? { cluster: spec.cluster } : {}) },
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      spec.command,
      spec.args,
      { env: { ...process.env, ...spec.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(runFailure(err, stderr, spec, timeoutMs)));
          return;
        }
        try {
          resolve(parseCredential(stdout, spec.apiVersion));
        } catch (parseErr) {
          reject(parseErr as Error);
        }
      },
    );
    // Not interactive: the plugin reads no answer from airlock.
    child.stdin?.end();
  });
}

function runFailure(err: ExecFileException, stderr: string, spec: ExecPluginSpec, timeoutMs: number): string {
  if (err.code === 'ENOENT') return `the command was not found${spec.installHint ? `; ${spec.installHint.trim()}` : ' (is it installed, and on the PATH airlock runs with?)'}`;
  if (err.code === 'EACCES') return 'the command cannot be run (permission denied)';
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `it printed more than ${MAX_OUTPUT} bytes`;
  if (err.killed) return `it did not finish within ${timeoutMs / 1000} s (a plugin that waits for a login cannot get one from airlock)`;
  const said = lastLine(stderr);
  const how = typeof err.code === 'number' ? `it exited with code ${err.code}` : err.signal ? `it was ended by ${err.signal}` : 'it failed';
  return said ? `${how}: ${said}` : how;
}

/**
 * lastLine is the plugin's last non-empty line of stderr (where plugins explain themselves:
 * "the SSO session has expired"), cut to 300 characters, with every run of 20 or more
 * token-like characters replaced, so that a plugin that echoes a credential does not put it in
 * airlock's log.
 */
export function lastLine(stderr: string): string {
  const line = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).pop() ?? '';
  return line.replace(/[A-Za-z0-9_\-.=+/:]{20,}/g, '[…]').slice(0, 300);
}

/** parseCredential reads an ExecCredential's token and expiry; throws with a message that holds no token. */
export function parseCredential(stdout: string, apiVersion: ExecApiVersion): Credential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error('it did not print an ExecCredential (the output is not JSON)');
  }
  if (!isObj(doc) || doc.kind !== 'ExecCredential') throw new Error('it did not print an ExecCredential (kind is not ExecCredential)');
  if (doc.apiVersion !== apiVersion) throw new Error(`it answered with apiVersion ${JSON.stringify(doc.apiVersion)} where the kubeconfig asks for ${apiVersion}`);
  const status = doc.status;
  if (!isObj(status)) throw new Error('its ExecCredential has no status');
  if (status.token === undefined && (status.clientCertificateData !== undefined || status.clientKeyData !== undefined)) {
    throw new Error('it answered with a client certificate; airlock takes only tokens from exec plugins (put a client-certificate and client-key in the kubeconfig user instead)');
  }
  if (typeof status.token !== 'string') throw new Error('its ExecCredential has no status.token');
  const token = status.token.trim();
  const problem = tokenProblem(token);
  if (problem) throw new Error(`the token it gave ${problem}`);
  if (status.expirationTimestamp === undefined || status.expirationTimestamp === null) return { token };
  const expiresAt = typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : Number.NaN;
  if (Number.isNaN(expiresAt)) throw new Error('its status.expirationTimestamp is not an RFC 3339 time');
  return { token, expiresAt };
}

function isObj(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
