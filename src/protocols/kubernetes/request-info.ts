/**
 * RequestInfo: what a Kubernetes API request is about (verb, group, version, namespace,
 * resource, subresource, name, selectors), resolved exactly as the apiserver's
 * `k8s.io/apiserver/pkg/endpoints/request/requestinfo.go` resolves it, with
 * `APIPrefixes = {api, apis}` and `GrouplessAPIPrefixes = {api}` as kube-apiserver configures.
 *
 * Why exact: policy decides on these fields and the apiserver authorises on its own reading.
 * Any difference (a `%2F` split differently, `?watch=` read as false, a name taken from a field
 * selector that Go would not parse) lets a request be judged as one thing and executed as
 * another. The traps are listed in reference `kubernetes-api.md` §1.3; the golden tests port
 * the apiserver's own cases.
 *
 * What it does not do: refuse ambiguous paths. Run `checkPath` first; this module reads what Go
 * reads, including paths airlock would rather refuse (`//`, `..`), so tests can show both views.
 *
 * Pure: no I/O.
 */
import { AirlockError } from '../../errors.js';
import { isValidPathSegmentName } from './field-selector.js';
import { decodeUtf8, firstValue, hasControlCharacter, parseGoQuery, percentDecode, splitTarget } from './go-url.js';
import { decodeListOptions } from './list-options.js';

/** RequestInfo mirrors the apiserver's struct; absent values are empty strings, as in Go. */
export interface RequestInfo {
  /** True for `/api/<v>/…` and `/apis/<g>/<v>/…` paths with something after the version. */
  isResourceRequest: boolean;
  /** The percent-decoded URL path (Go's `URL.Path`). */
  path: string;
  /** Kubernetes verb (`get`, `list`, `watch`, `create`, …); for non-resource requests the lower-cased method. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts starting at the resource: `[resource, name, subresource, …rest]`. */
  parts: string[];
  /** Raw first `fieldSelector` value, only for list/watch/deletecollection not using a `/watch/` path. */
  fieldSelector: string;
  /** Raw first `labelSelector` value, under the same conditions as `fieldSelector`. */
  labelSelector: string;
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_API_PREFIXES = new Set(['api']);
/** Path verbs of the deprecated `/api/v1/watch/…` and `/api/v1/proxy/…` forms. */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
/** Subresources of a namespace object, so `/namespaces/x/status` is not resource `status` in namespace x. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const VERBS_WITH_SELECTORS = new Set(['list', 'watch', 'deletecollection']);

/** Go's method switch is case-sensitive: `get` is not `GET`, and gives verb "". */
const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

function refused(detail: string): AirlockError {
  return new AirlockError('AIRLOCK_K8S_PATH_REFUSED', detail);
}

/**
 * decodeRequestPath returns Go's `URL.Path` for a raw path. It throws `AIRLOCK_K8S_PATH_REFUSED`
 * where Go's server answers 400 (a control character, a bad escape, not an absolute path) and
 * where a JS string cannot hold Go's bytes faithfully (raw non-ASCII, invalid UTF-8).
 */
export function decodeRequestPath(rawPath: string): string {
  if (rawPath === '*') return '*';
  if (!rawPath.startsWith('/')) throw refused('the request path must start with "/"');
  if (hasControlCharacter(rawPath)) throw refused('the request path holds a control character');
  if (/[^\x20-\x7e]/.test(rawPath)) throw refused('the request path holds a raw non-ASCII character');
  if (!rawPath.includes('%')) return rawPath;
  const bytes = percentDecode(rawPath, false);
  if (!bytes) throw refused('the request path has an invalid percent-encoding');
  const path = decodeUtf8(bytes, true);
  if (path === undefined) throw refused('the request path is not valid UTF-8 once decoded');
  return path;
}

/** splitPath is Go's `splitPath`: trim every leading and trailing `/`, then split on `/`. */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/**
 * resolveRequestInfo resolves a request as the apiserver's `NewRequestInfo` does, from the
 * method (case-sensitive, as Go) and the raw request target (path and query, as received).
 * It throws `AIRLOCK_K8S_PATH_REFUSED` where the apiserver would not produce a RequestInfo:
 * an undecodable target, or a `/watch/` or `/proxy/` path verb with nothing after it (Go: 500).
 *
 * @example
 * resolveRequestInfo('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds&watch=1')
 * // → { verb: 'watch', namespace: 'ns', resource: 'secrets', name: 's', fieldSelector: 'metadata.name=s', … }
 */
export function resolveRequestInfo(method: string, rawPathAndQuery: string): RequestInfo {
  if (hasControlCharacter(rawPathAndQuery)) throw refused('the request target holds a control character');
  const { rawPath, rawQuery } = splitTarget(rawPathAndQuery);
  const path = decodeRequestPath(rawPath);
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    fieldSelector: '',
    labelSelector: '',
  };

  let parts = splitPath(path);
  const prefix = parts[0];
  if (parts.length < 3 || prefix === undefined || !API_PREFIXES.has(prefix)) return info;
  info.apiPrefix = prefix;
  parts = parts.slice(1);
  if (!GROUPLESS_API_PREFIXES.has(prefix)) {
    // The group is one more part, so a grouped path needs group, version and something more.
    if (parts.length < 3) return info;
    info.apiGroup = parts[0] ?? '';
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0] ?? '';
  parts = parts.slice(1);

  let verbViaPathPrefix = false;
  const first = parts[0] ?? '';
  if (SPECIAL_VERBS.has(first)) {
    if (parts.length < 2) throw refused(`unable to determine kind and namespace from "${path}"`);
    info.verb = first;
    parts = parts.slice(1);
    verbViaPathPrefix = true;
  } else {
    info.verb = METHOD_VERBS[method] ?? '';
  }

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1] ?? '';
      // A third part that is not a namespace subresource starts a namespaced resource.
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
    }
  }
  info.parts = parts;
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2] ?? '';
  if (parts.length >= 2) info.name = parts[1] ?? '';
  if (parts.length >= 1) info.resource = parts[0] ?? '';

  const query = parseGoQuery(rawQuery);
  if (info.name === '' && info.verb === 'get') {
    const options = decodeListOptions(query);
    info.verb = options.watch ? 'watch' : 'list';
    if (options.exactName !== undefined && isValidPathSegmentName(options.exactName)) info.name = options.exactName;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  // Selectors are not honoured consistently on the deprecated `/watch/` paths, so Go skips them.
  if (!verbViaPathPrefix && VERBS_WITH_SELECTORS.has(info.verb)) {
    info.fieldSelector = firstValue(query, 'fieldSelector') ?? '';
    info.labelSelector = firstValue(query, 'labelSelector') ?? '';
  }
  return info;
}
