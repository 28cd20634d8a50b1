/**
 * UpstreamTarget is what every way of naming a cluster (`url` + credential fields, a
 * kubeconfig, the pod's own service account) comes down to: where the API server is, what
 * to trust, and which credential airlock presents. upstream.ts turns a target into an HTTP
 * dispatcher; the readers (kubeconfig-file.ts, in-cluster.ts) only produce targets.
 *
 * Every error raised here is AIRLOCK_UPSTREAM_CONFIG and names the connection, the file and
 * what is wrong. No message ever contains a token or key material: file contents are never
 * quoted, only their paths.
 */
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../../../errors.js';
import type { ExecPluginSpec } from './exec-plugin.js';

/** Certificate or key bytes, and where they came from (for messages and `describe()`). */
export interface Material {
  data: Buffer;
  /** e.g. `file /etc/airlock/ca.crt` or `kubeconfig /home/me/.kube/config (certificate-authority-data)` */
  from: string;
}

/** Where the bearer token comes from: a value in configuration, a file re-read when it changes, or a kubeconfig's exec plugin. */
export type TokenSpec = { kind: 'static'; token: string; from: string } | { kind: 'file'; path: string } | { kind: 'exec'; plugin: ExecPluginSpec };

export interface UpstreamTarget {
  /** The API server URL; its path (without a trailing slash) prefixes every request path. */
  server: URL;
  /** PEM bundle to trust instead of the system roots. */
  ca?: Material;
  /** Skip certificate verification (test clusters only). */
  insecure: boolean;
  /** The name to verify the certificate against (kubeconfig `tls-server-name`). */
  serverName?: string;
  clientCert?: Material;
  clientKey?: Material;
  token?: TokenSpec;
  /** How the target was named, e.g. `kubeconfig /x, context "prod"` or `in-cluster service account`. */
  origin: string;
}

/** upstreamError builds the one error kind of this folder: connection, then what is wrong. */
export function upstreamError(connection: string, what: string, cause?: unknown): AirlockError {
  return new AirlockError('AIRLOCK_UPSTREAM_CONFIG', `connection "${connection}": ${what}`, cause === undefined ? undefined : { cause });
}

/**
 * readMaterial reads a certificate, key or CA file; it throws AIRLOCK_UPSTREAM_CONFIG naming
 * the file (and the kubeconfig that named it) and the system error code, never its contents,
 * when it cannot be read or is empty.
 */
export async function readMaterial(connection: string, path: string, what: string, namedBy?: string): Promise<Material> {
  // A file named by a kubeconfig is reported with the kubeconfig's name: that is the file to fix.
  const at = namedBy ? `${namedBy}: ` : '';
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw upstreamError(connection, `${at}the ${what} file ${path} cannot be read (${errorCode(err)})`, err);
  }
  if (data.length === 0) throw upstreamError(connection, `${at}the ${what} file ${path} is empty`);
  return { data, from: `file ${path}` };
}

/**
 * parseServerUrl checks an API server URL: http(s), no user name or password (basic auth is
 * not a credential airlock sends), no query or fragment. The path is kept as a prefix, minus
 * its trailing slashes, so `https://h/prefix/` and `https://h/prefix` mean the same.
 */
export function parseServerUrl(connection: string, text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw upstreamError(connection, `${where}: the server "${text}" is not a URL; expected e.g. https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw upstreamError(connection, `${where}: the server URL must start with https:// (or http:// for a local proxy)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw upstreamError(connection, `${where}: the server URL carries a user name or password; basic authentication is not supported, use a bearer token (tokenFile) or a client certificate`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw upstreamError(connection, `${where}: the server URL must not have a query or fragment`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** errorCode names a system error (`ENOENT`, `EACCES`) without echoing anything else. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unreadable';
}
