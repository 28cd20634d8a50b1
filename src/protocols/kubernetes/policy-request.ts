/**
 * Turns a resolved Kubernetes request into the protocol-neutral `PolicyRequest` that policy
 * reads as `request`. Fields that do not apply are absent, so a CEL rule tests them with
 * `has(request.name)`; resource requests always carry `apiGroup` (`""` for the core group) and
 * `dryRun`, so `request.apiGroup == ""` and `!request.dryRun` need no `has()`.
 *
 * Query parameters are read with Go's rules (`parseGoQuery`), the same reading the apiserver
 * and `resolveRequestInfo` use, so `?tty=` means tty, as it does for the kubelet.
 *
 * `dryRun` is true only when the apiserver will certainly not persist the change: a mutating
 * verb on an object or its `status`/`scale`, and every `dryRun` value is `All`. Reads ignore
 * `dryRun`, connect subresources (exec, attach, portforward, proxy) ignore it, and a DELETE
 * body's `DeleteOptions` may overwrite it, so a DELETE counts only when the caller says it has
 * no body. Aggregated APIs implement dry-run themselves; a policy that trusts `dryRun` should
 * also check `apiGroup`.
 *
 * Pure: no I/O.
 */
import type { PolicyRequest } from '../../policy/request.js';
import { firstValue, goBool, parseGoQuery, type GoQuery } from './go-url.js';
import type { RequestInfo } from './request-info.js';

export interface PolicyRequestContext {
  /** Connection name from the `/k8s/<connection>` prefix. */
  connection: string;
  /** The HTTP method as received (upper case). */
  method: string;
  /** The raw query (without `?`) or an already parsed Go query. */
  query: string | GoQuery;
  /** Whether the request has a body; needed to trust `dryRun` on DELETE (unknown counts as yes). */
  hasBody?: boolean;
}

const DRY_RUN_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const DRY_RUN_SUBRESOURCES = new Set(['', 'status', 'scale']);
const DELETE_VERBS = new Set(['delete', 'deletecollection']);

/** isDryRun applies the rules in the module comment; `dryRun` values other than `All` are refused by the apiserver. */
function isDryRun(info: RequestInfo, query: GoQuery, hasBody: boolean | undefined): boolean {
  const values = query.get('dryRun');
  if (!values || values.length === 0 || !values.every((v) => v === 'All')) return false;
  if (!DRY_RUN_VERBS.has(info.verb) || !DRY_RUN_SUBRESOURCES.has(info.subresource)) return false;
  return !DELETE_VERBS.has(info.verb) || hasBody === false;
}

/** portsOf reads `ports` as Go's `Convert_Slice_string_To_Slice_int32`: every value, comma lists, uint16. */
function portsOf(values: readonly string[]): number[] | undefined {
  const ports: number[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      if (!/^[0-9]+$/.test(part) || Number(part) > 65535) return undefined;
      ports.push(Number(part));
    }
  }
  return ports;
}

/** addStreamFields adds what exec, attach, portforward and log requests ask for. */
function addStreamFields(request: PolicyRequest, subresource: string, query: GoQuery): void {
  const container = firstValue(query, 'container');
  if (subresource === 'exec' || subresource === 'attach') {
    if (subresource === 'exec') request.command = [...(query.get('command') ?? [])];
    if (container !== undefined) request.container = container;
    request.tty = goBool(query.get('tty'));
    request.stdin = goBool(query.get('stdin'));
  } else if (subresource === 'portforward') {
    // WebSocket clients list ports in the query; SPDY clients name them per stream, which the
    // stream layer must check. Unparsable ports make the apiserver refuse the request: [].
    request.ports = portsOf(query.get('ports') ?? []) ?? [];
  } else if (subresource === 'log') {
    if (container !== undefined) request.container = container;
    request.follow = goBool(query.get('follow'));
  }
}

/**
 * toPolicyRequest builds the policy view of a Kubernetes request. Non-resource requests get
 * `path`, `method` and the lower-cased method as `verb`, and no resource fields.
 *
 * @example
 * toPolicyRequest(resolveRequestInfo('POST', '/api/v1/namespaces/a/pods/p/exec?command=ls'),
 *   { connection: 'prod', method: 'POST', query: 'command=ls' })
 * // → { protocol: 'kubernetes', connection: 'prod', verb: 'create', resource: 'pods',
 * //     subresource: 'exec', name: 'p', namespace: 'a', command: ['ls'], tty: false, stdin: false, … }
 */
export function toPolicyRequest(info: RequestInfo, context: PolicyRequestContext): PolicyRequest {
  const request: PolicyRequest = {
    protocol: 'kubernetes',
    connection: context.connection,
    verb: info.verb,
    path: info.path,
    method: context.method,
  };
  if (!info.isResourceRequest) return request;

  const query = typeof context.query === 'string' ? parseGoQuery(context.query.replace(/^\?/, '')) : context.query;
  request.resource = info.resource;
  request.apiGroup = info.apiGroup;
  request.apiVersion = info.apiVersion;
  if (info.namespace !== '') request.namespace = info.namespace;
  if (info.name !== '') request.name = info.name;
  if (info.subresource !== '') request.subresource = info.subresource;
  if (info.labelSelector !== '') request.labelSelector = info.labelSelector;
  if (info.fieldSelector !== '') request.fieldSelector = info.fieldSelector;
  request.dryRun = isDryRun(info, query, context.hasBody);
  addStreamFields(request, info.subresource, query);
  return request;
}
