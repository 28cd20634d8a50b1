/**
 * Reading a kubeconfig the way client-go's clientcmd does, for the parts a long-running
 * gateway can use: the context (given, else `current-context`), its cluster (`server`,
 * `certificate-authority[-data]`, `insecure-skip-tls-verify`, `tls-server-name`) and its
 * user (`token`, `tokenFile`, `client-certificate[-data]`, `client-key[-data]`, or an `exec`
 * credential plugin, run by exec-plugin.ts). As in clientcmd, `-data` fields win over their
 * file twins, `tokenFile` wins over `token`, and relative paths are relative to the
 * kubeconfig's own directory (for an exec command, only one with a `/` in it: a bare name is
 * looked up on PATH).
 *
 * Refused, with what to use instead: `auth-provider` (removed from kubectl in 1.26), basic
 * auth (removed from Kubernetes in 1.19), `as*` impersonation in the user (airlock
 * impersonates each caller itself), and `proxy-url`.
 *
 * Reads files; opens no socket. Errors never quote the file's contents (a YAML error gives
 * only the line and column: the offending line could hold a token).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { EXEC_API_VERSIONS, type ExecApiVersion, type ExecClusterInfo } from './exec-plugin.js';
import { errorCode, parseServerUrl, readMaterial, upstreamError, type Material, type TokenSpec, type UpstreamTarget } from './target.js';

export interface KubeconfigOptions {
  connection: string;
  /** The context to use; absent: the file's `current-context`. */
  context?: string;
}

type Obj = Record<string, unknown>;

/**
 * readKubeconfigTarget reads the kubeconfig at `path` (absolute) and returns the selected
 * context's server, trust and credential; it throws AIRLOCK_UPSTREAM_CONFIG naming the
 * connection, the file and what is wrong (and the known contexts when one is missing).
 */
export async function readKubeconfigTarget(path: string, options: KubeconfigOptions): Promise<UpstreamTarget> {
  const { connection } = options;
  const fail = (what: string) => upstreamError(connection, `kubeconfig ${path}: ${what}`);
  const doc = await parseKubeconfig(path, connection);

  const contexts = namedList(doc, 'contexts', fail);
  const contextName = options.context ?? stringField(doc, 'current-context', fail);
  const known = `known contexts: ${[...contexts.keys()].join(', ') || '(none)'}`;
  if (contextName === undefined || contextName === '') {
    throw fail(`there is no current-context; set \`context\` on the connection (${known})`);
  }
  const context = contexts.get(contextName);
  if (!context) throw fail(`context "${contextName}" not found (${known})`);
  const clusterName = stringField(context, 'cluster', fail);
  const userName = stringField(context, 'user', fail);
  const cluster = clusterName ? namedList(doc, 'clusters', fail).get(clusterName) : undefined;
  if (!cluster) throw fail(`context "${contextName}" names cluster "${clusterName ?? ''}", which is not in the file`);
  const user = userName ? namedList(doc, 'users', fail).get(userName) : undefined;
  if (!user) {
    throw fail(`context "${contextName}" names ${userName ? `user "${userName}", which is not in the file` : 'no user'}; airlock needs a credential for the cluster`);
  }

  const at = (what: string) => `context "${contextName}": ${what}`;
  const dir = dirname(path);
  const server = stringField(cluster, 'server', fail);
  if (!server) throw fail(at(`cluster "${clusterName}" has no server`));
  if (cluster['proxy-url'] !== undefined) {
    throw fail(at(`cluster "${clusterName}" uses proxy-url, which airlock does not support; let airlock reach the API server directly`));
  }
  refuseUnsupportedAuth(user, (what) => fail(at(`user "${userName}" ${what}`)));

  const materials = {
    ca: await material(cluster, 'certificate-authority', dir, path, connection, fail),
    clientCert: await material(user, 'client-certificate', dir, path, connection, fail),
    clientKey: await material(user, 'client-key', dir, path, connection, fail),
  };
  if ((materials.clientCert === undefined) !== (materials.clientKey === undefined)) {
    throw fail(at(`user "${userName}" has a client certificate without its key, or a key without its certificate`));
  }
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  if (insecure && materials.ca) {
    throw fail(at(`cluster "${clusterName}" sets insecure-skip-tls-verify together with a certificate authority; keep one`));
  }
  const serverName = stringField(cluster, 'tls-server-name', fail);
  // Read only for an exec user: what a plugin given cluster info receives.
  const clusterInfo = (): ExecClusterInfo => ({
    server,
    ...(serverName && { 'tls-server-name': serverName }),
    ...(insecure && { 'insecure-skip-tls-verify': true }),
    ...(materials.ca && { 'certificate-authority-data': materials.ca.data.toString('base64') }),
    ...execExtension(cluster, (what) => fail(at(`cluster "${clusterName}" ${what}`))),
  });
  const userFail = (what: string) => fail(at(`user "${userName}" ${what}`));
  const token =
    user.exec !== undefined
      ? execSpec(user, clusterInfo, dir, `kubeconfig ${path}, context "${contextName}", user "${userName}"`, userFail)
      : tokenSpec(user, dir, path, fail);
  if (!token && !materials.clientCert) {
    throw fail(at(`user "${userName}" has no credential airlock can use; give it a token, tokenFile, exec plugin or client-certificate and client-key`));
  }
  return {
    server: parseServerUrl(connection, server, `kubeconfig ${path}`),
    insecure,
    ...(materials.ca && { ca: materials.ca }),
    ...(materials.clientCert && { clientCert: materials.clientCert }),
    ...(materials.clientKey && { clientKey: materials.clientKey }),
    ...(token && { token }),
    ...(serverName && { serverName }),
    origin: `kubeconfig ${path}, context "${contextName}"`,
  };
}

async function parseKubeconfig(path: string, connection: string): Promise<Obj> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw upstreamError(connection, `the kubeconfig ${path} cannot be read (${errorCode(err)})`, err);
  }
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first) {
    // Only the position: yaml's own message quotes the source line, which may hold a token.
    const pos = first.linePos?.[0];
    throw upstreamError(connection, `the kubeconfig ${path} is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`);
  }
  const value: unknown = doc.toJS();
  if (!isObj(value)) throw upstreamError(connection, `the kubeconfig ${path} is not a kubeconfig (expected a map with clusters, users and contexts)`);
  return value;
}

/** refuseUnsupportedAuth throws for every user field airlock will not act on, saying what to use instead. */
function refuseUnsupportedAuth(user: Obj, fail: (what: string) => Error): void {
  if (user['auth-provider'] !== undefined) {
    throw fail('uses an auth-provider, which kubectl itself dropped in 1.26; use the exec plugin that replaced it (e.g. gke-gcloud-auth-plugin, kubelogin), a service-account token file (tokenFile) or a client certificate');
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw fail('uses basic authentication (username/password), which Kubernetes removed in 1.19; use a service-account token file (tokenFile) or a client certificate');
  }
  for (const field of ['as', 'as-uid', 'as-groups', 'as-user-extra']) {
    if (user[field] !== undefined) {
      throw fail(`sets ${field}; airlock impersonates each caller itself, so remove the impersonation fields from this user`);
    }
  }
}

/** material reads `<field>-data` (base64 PEM) or else `<field>` (a path, relative to the kubeconfig). */
async function material(section: Obj, field: string, dir: string, path: string, connection: string, fail: (what: string) => Error): Promise<Material | undefined> {
  const data = stringField(section, `${field}-data`, fail);
  if (data) {
    // Checked before decoding: Buffer.from(…, 'base64') silently skips what is not base64.
    const decoded = /^[A-Za-z0-9+/=\s]+$/.test(data) ? Buffer.from(data, 'base64') : undefined;
    if (!decoded?.includes('-----BEGIN ')) throw fail(`${field}-data is not base64-encoded PEM`);
    return { data: decoded, from: `kubeconfig ${path} (${field}-data)` };
  }
  const file = stringField(section, field, fail);
  return file ? readMaterial(connection, resolve(dir, file), field, `kubeconfig ${path}`) : undefined;
}

/** tokenSpec prefers `tokenFile` (re-read as it rotates) over `token`, as client-go does. */
function tokenSpec(user: Obj, dir: string, path: string, fail: (what: string) => Error): TokenSpec | undefined {
  const file = stringField(user, 'tokenFile', fail);
  if (file) return { kind: 'file', path: resolve(dir, file) };
  const token = stringField(user, 'token', fail);
  return token ? { kind: 'static', token, from: `from kubeconfig ${path}` } : undefined;
}

/**
 * execSpec reads a user's `exec` plugin as client-go does; it throws (via `fail`) for what
 * client-go refuses too (no command, an unknown or removed apiVersion, a v1 plugin without
 * interactiveMode) and for what airlock cannot give a plugin (a terminal: interactiveMode
 * Always), and when the user also has a token (client-go would not know which to send).
 */
function execSpec(user: Obj, cluster: () => ExecClusterInfo, dir: string, from: string, fail: (what: string) => Error): TokenSpec {
  const exec = user.exec;
  if (!isObj(exec)) throw fail('has an exec entry that is not a map');
  if (user.token !== undefined || user.tokenFile !== undefined) throw fail('has both an exec plugin and a token; keep one');
  const command = stringField(exec, 'command', (what) => fail(`exec: ${what}`));
  if (!command) throw fail('exec: command is missing');
  const apiVersion = stringField(exec, 'apiVersion', (what) => fail(`exec: ${what}`));
  if (apiVersion === 'client.authentication.k8s.io/v1alpha1') throw fail('exec: apiVersion client.authentication.k8s.io/v1alpha1 was removed in Kubernetes 1.24; use client.authentication.k8s.io/v1');
  if (!EXEC_API_VERSIONS.includes(apiVersion as ExecApiVersion)) {
    throw fail(`exec: apiVersion must be one of ${EXEC_API_VERSIONS.join(', ')}${apiVersion ? ` (not ${JSON.stringify(apiVersion)})` : ''}`);
  }
  const mode = stringField(exec, 'interactiveMode', (what) => fail(`exec: ${what}`));
  if (mode === undefined && apiVersion === 'client.authentication.k8s.io/v1') throw fail('exec: interactiveMode must be set with client.authentication.k8s.io/v1 (Never or IfAvailable), as kubectl requires');
  if (mode === 'Always') throw fail('exec: interactiveMode is Always, but airlock runs the plugin without a terminal; use a plugin mode that needs no login prompt (Never or IfAvailable)');
  if (mode !== undefined && mode !== 'Never' && mode !== 'IfAvailable') throw fail(`exec: interactiveMode must be Never, IfAvailable or Always (not ${JSON.stringify(mode)})`);
  const args = exec.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw fail('exec: args must be a list of strings');
  const envList = exec.env ?? [];
  if (!Array.isArray(envList)) throw fail('exec: env must be a list of {name, value}');
  const env: Record<string, string> = {};
  envList.forEach((e: unknown, i) => {
    if (!isObj(e) || typeof e.name !== 'string' || e.name === '' || typeof e.value !== 'string') throw fail(`exec: env[${i}] must be a map with a name and a string value`);
    env[e.name] = e.value;
  });
  const installHint = stringField(exec, 'installHint', (what) => fail(`exec: ${what}`));
  const provideClusterInfo = exec.provideClusterInfo === true;
  return {
    kind: 'exec',
    plugin: {
      // As clientcmd: a command with a path separator is relative to the kubeconfig; a bare name is found on PATH.
      command: command.includes('/') ? resolve(dir, command) : command,
      args: args as string[],
      env,
      apiVersion: apiVersion as ExecApiVersion,
      ...(installHint && { installHint }),
      ...(provideClusterInfo && { cluster: cluster() }),
      from,
    },
  };
}

/** execExtension is the cluster's `client.authentication.k8s.io/exec` extension, which a plugin given cluster info receives as `config`. */
function execExtension(cluster: Obj, fail: (what: string) => Error): { config?: unknown } {
  const list = cluster.extensions ?? [];
  if (!Array.isArray(list)) throw fail('has extensions that are not a list');
  const found = list.find((e: unknown) => isObj(e) && e.name === 'client.authentication.k8s.io/exec') as Obj | undefined;
  return found && found.extension !== undefined ? { config: found.extension } : {};
}

/** namedList reads `clusters`/`users`/`contexts`: a list of `{name, <singular>: {...}}`. */
function namedList(doc: Obj, key: 'clusters' | 'users' | 'contexts', fail: (what: string) => Error): Map<string, Obj> {
  const list = doc[key] ?? [];
  if (!Array.isArray(list)) throw fail(`${key} must be a list`);
  const inner = key.slice(0, -1);
  const out = new Map<string, Obj>();
  list.forEach((entry: unknown, i) => {
    if (!isObj(entry) || typeof entry.name !== 'string') throw fail(`${key}[${i}] must be a map with a name`);
    const body = entry[inner] ?? {};
    if (!isObj(body)) throw fail(`${key}[${i}] (${entry.name}): ${inner} must be a map`);
    out.set(entry.name, body);
  });
  return out;
}

/** stringField reads an optional string; any other type is an error naming the field (never its value). */
function stringField(section: Obj, field: string, fail: (what: string) => Error): string | undefined {
  const value = section[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(`${field} must be a string`);
  return value;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
