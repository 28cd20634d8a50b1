/**
 * The connection prefix of airlock's Kubernetes endpoint: an agent's kubeconfig points at
 * `https://airlock:8443/k8s/<connection>`, so every request arrives as
 * `/k8s/<connection>/<upstream path>?<query>`. This module splits that raw target into the
 * connection name and the raw upstream target that is forwarded to the cluster.
 *
 * It works on the raw target and never decodes: the connection name must be spelled plainly
 * (`[a-z0-9-]`, at most 63 characters, like a DNS label), so `%70rod` or `prod%2F..` are not
 * names of anything. Run `checkPath` on the whole target (or the upstream part) as well; this
 * module only finds the connection.
 *
 * Pure: no I/O.
 */

/** CONNECTION_PREFIX is the path under which airlock serves Kubernetes connections. */
export const CONNECTION_PREFIX = '/k8s/';

const CONNECTION_NAME = /^[a-z0-9-]{1,63}$/;

/** The longest request target quoted back in a refusal. */
const MAX_SHOWN = 200;

export type ConnectionSplit =
  | { ok: true; connection: string; upstreamTarget: string }
  | { ok: false; reason: string };

/** isConnectionName reports whether a string is a well-formed connection name. */
export function isConnectionName(name: string): boolean {
  return CONNECTION_NAME.test(name);
}

/**
 * splitConnectionPrefix splits `/k8s/<connection>[/rest][?query]` into the connection and the
 * upstream target (`/rest?query`; `/` when the rest is empty). Any other shape gives
 * `ok: false` with a reason; the caller answers 404 and forwards nothing.
 *
 * @example
 * splitConnectionPrefix('/k8s/prod/api/v1/pods?watch=1')
 * // → { ok: true, connection: 'prod', upstreamTarget: '/api/v1/pods?watch=1' }
 */
export function splitConnectionPrefix(rawTarget: string): ConnectionSplit {
  if (!rawTarget.startsWith(CONNECTION_PREFIX)) {
    // `kubectl get --raw PATH` sends PATH from the server's root, not under the kubeconfig's
    // server path: the one way a correct kubeconfig still lands here. Say how to write it.
    // The path only: a query may carry what nobody should see echoed.
    const path = rawTarget.split('?', 1)[0]!;
    const shown = path.length > MAX_SHOWN ? `${path.slice(0, MAX_SHOWN)}…` : path;
    const raw = rawTarget.startsWith('/') ? `; with kubectl get --raw, write the prefix too: --raw ${CONNECTION_PREFIX}<connection>${shown}` : '';
    return { ok: false, reason: `Kubernetes requests go to ${CONNECTION_PREFIX}<connection>/…, not ${JSON.stringify(shown)}${raw}` };
  }
  const rest = rawTarget.slice(CONNECTION_PREFIX.length);
  const end = rest.search(/[/?]/);
  const name = end < 0 ? rest : rest.slice(0, end);
  if (!isConnectionName(name)) {
    return { ok: false, reason: 'the connection name must be 1 to 63 characters of a-z, 0-9 and "-"' };
  }
  const tail = end < 0 ? '' : rest.slice(end);
  const upstreamTarget = tail === '' || tail.startsWith('?') ? `/${tail}` : tail;
  return { ok: true, connection: name, upstreamTarget };
}
