/**
 * Content negotiation towards the apiserver: make resource responses JSON so airlock can mask
 * and record them, and classify what came back.
 *
 * Why rewriting `Accept` is safe: client-go and kubectl pick their decoder from the *response*
 * `Content-Type`, so a client that asked for protobuf first reads JSON without noticing
 * (reference `kubernetes-api.md` §2.6). Keeping the `application/json` clauses with their
 * parameters keeps Tables and PartialObjectMetadata (`as=…;g=…;v=…`) working.
 *
 * What it never touches: discovery (`/api`, `/apis`), OpenAPI, `/version` and other
 * non-resource paths use their own media types, and streaming subresources (exec, attach,
 * port-forward, proxy, log) do not negotiate a body format.
 *
 * Pure: no I/O.
 */
import type { RequestInfo } from './request-info.js';

/** The Accept value sent when nothing JSON-compatible was asked for (the apiserver's default too). */
export const JSON_ACCEPT = 'application/json';

/** Media ranges that the apiserver answers with JSON: `application/json` itself, and wildcards. */
const JSON_RANGES = new Set(['application/json', 'application/*', '*/*']);

/** Subresources whose bodies are streams, not negotiated objects. */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy', 'log']);

/**
 * rewriteAccept keeps only the Accept clauses that negotiate JSON, each verbatim (so `as`, `g`,
 * `v` and `q` parameters survive), joined with `,`; protobuf, CBOR, YAML and anything else are
 * dropped. When nothing is left it returns `application/json`.
 *
 * @example
 * rewriteAccept('application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1,application/json;as=Table;g=meta.k8s.io;v=v1,application/json')
 * // → 'application/json;as=Table;g=meta.k8s.io;v=v1,application/json'
 */
export function rewriteAccept(accept: string | undefined): string {
  if (accept === undefined) return JSON_ACCEPT;
  const kept: string[] = [];
  for (const raw of accept.split(',')) {
    const clause = raw.trim();
    const range = (clause.split(';')[0] ?? '').trim().toLowerCase();
    if (JSON_RANGES.has(range)) kept.push(clause);
  }
  return kept.length > 0 ? kept.join(',') : JSON_ACCEPT;
}

/**
 * isNegotiationExempt reports requests whose Accept must pass untouched: every non-resource
 * request (discovery, OpenAPI, version, health), the `proxy` path verb, and streaming
 * subresources.
 */
export function isNegotiationExempt(info: RequestInfo): boolean {
  if (!info.isResourceRequest) return true;
  if (info.verb === 'proxy') return true;
  return STREAMING_SUBRESOURCES.has(info.subresource);
}

export type ResponseContentClass = 'json' | 'json-watch' | 'protobuf' | 'yaml' | 'text' | 'other';

/**
 * classifyResponseContentType sorts a response `Content-Type` into what airlock can read.
 * Note that a JSON *watch* usually answers plain `application/json` (only the other formats add
 * `;stream=watch`), so 'json-watch' appears only when the parameter is present; the caller
 * knows a watch from `RequestInfo.verb`. CBOR and anything unknown are 'other': opaque.
 */
export function classifyResponseContentType(contentType: string | undefined): ResponseContentClass {
  if (contentType === undefined) return 'other';
  const [rawType = '', ...params] = contentType.split(';');
  const type = rawType.trim().toLowerCase();
  const isWatch = params.some((p) => p.trim().toLowerCase().replace(/\s*=\s*/, '=') === 'stream=watch');
  if (type === 'application/json' || /^application\/[^/]+\+json$/.test(type)) return isWatch ? 'json-watch' : 'json';
  if (type === 'application/vnd.kubernetes.protobuf' || type.endsWith('+protobuf')) return 'protobuf';
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml' || type.endsWith('+yaml')) {
    return 'yaml';
  }
  if (type.startsWith('text/')) return 'text';
  return 'other';
}
