/**
 * What an approver is shown about a Kubernetes request that waits for approval, and what the
 * grant is bound to:
 * - the digest of the exact request: SHA-256 of the canonical (RFC 8785) form of the connection,
 *   method, path, the query parameters sorted, and the body (canonical JSON when it is JSON or
 *   YAML, else the SHA-256 of its bytes) — a retry of the same call has the same digest, any
 *   other call (another name, another field, another body) has another;
 * - a one-line summary and the masked request;
 * - for writes, the cluster's dry-run of the request as the caller: what the object would become,
 *   Secret values and tokens masked.
 */
import { jcs, sha256Hex } from '../../ledger/canonical.js';
import type { Placeholder } from '../../masking/placeholder.js';
import { maskSecretWriteBody } from '../../masking/index.js';
import type { ApprovalSubject } from '../../review/types.js';
import { dryRun } from './dry-run.js';
import type { KubeExchange } from './kube-exchange.js';
import { maskToken, tokenSectionOf } from './token-objects.js';

/** requestDigest is the SHA-256 (hex) the grant of an approval is bound to. */
export function requestDigest(x: KubeExchange): string {
  const target = x.target ?? '';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const query = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let body: unknown = null;
  if (x.body && x.body.length > 0) {
    // The parsed body (JSON or YAML) compares by meaning; anything else by its bytes.
    body = x.parsedBody !== undefined ? { json: x.parsedBody } : { sha256: sha256Hex(x.body) };
  }
  return sha256Hex(jcs({ connection: x.connection ?? '', method: x.req.method ?? 'GET', path, query, body }));
}

const writeVerbs = new Set(['create', 'update', 'patch']);
const streamSubresources = new Set(['exec', 'attach', 'portforward']);

/** summary reads like `create pods "debug" in default` or `exec pods "web" -- sh in prod`. */
export function requestSummary(x: KubeExchange): string {
  const info = x.info;
  if (!info) return `${x.req.method ?? 'GET'} ${x.target ?? ''}`;
  if (!info.isResourceRequest) return `${info.verb} ${info.path}`;
  const objectName = (x.object as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  const name = info.name || (typeof objectName === 'string' ? objectName : '');
  const group = info.apiGroup ? `.${info.apiGroup}` : '';
  const where = info.namespace ? ` in ${info.namespace}` : '';
  // A stream reads as what it does (the verb of an exec is `get` over WebSocket, `create` over SPDY).
  if (streamSubresources.has(info.subresource)) {
    // Approvers see the command as the ledger records it: masked.
    const shown = x.recordedAction?.command ?? x.action?.command;
    const command = Array.isArray(shown) && shown.length > 0 ? ` -- ${shown.join(' ')}` : '';
    const ports = Array.isArray(x.action?.ports) && x.action.ports.length > 0 ? ` ports ${x.action.ports.join(',')}` : '';
    return `${info.subresource} ${info.resource}${group} "${name}"${command}${ports}${where}`;
  }
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  return `${info.verb} ${resource}${group}${name ? ` "${name}"` : ''}${where}`;
}

/** reviewSubject: the masked request as approvers see it, without the preview. */
export function reviewSubject(x: KubeExchange): ApprovalSubject {
  return {
    protocol: 'kubernetes',
    method: x.req.method ?? 'GET',
    // The target and action as recorded: an exec's command masked (recorded-command.ts).
    target: typeof x.facts.target === 'string' ? x.facts.target : (x.target ?? ''),
    summary: requestSummary(x),
    action: { ...(x.recordedAction ?? x.action ?? {}) } as Record<string, unknown>,
    ...(x.recordedRequest ? { body: typeof x.recordedRequest.body === 'string' ? x.recordedRequest.body : Buffer.from(x.recordedRequest.body).toString('utf8') } : {}),
  };
}

/**
 * reviewPreview asks the cluster what a write would produce (dry run, as the caller) and masks
 * Secret values in it; undefined for requests that write nothing.
 */
export async function reviewPreview(x: KubeExchange, deps: { placeholder: Placeholder; requestTimeoutMs: number }): Promise<ApprovalSubject['preview']> {
  const info = x.info;
  if (!info?.isResourceRequest || !writeVerbs.has(info.verb) || x.upgrade) return undefined;
  const result = await dryRun(x, deps.requestTimeoutMs);
  if (!result.ok) {
    if ('error' in result) return { error: `the cluster could not be asked: ${result.error}` };
    let message = `the cluster answered ${result.status}`;
    try {
      const status = JSON.parse(result.body.toString('utf8')) as { message?: unknown };
      if (typeof status.message === 'string') message += `: ${status.message}`;
    } catch {
      // Not a Status; the code says enough.
    }
    return { error: message };
  }
  const isSecret = info.apiGroup === '' && info.resource === 'secrets';
  const tokens = tokenSectionOf(info);
  if (isSecret) return { object: maskSecretWriteBody(result.object, deps.placeholder) };
  return { object: tokens ? maskToken(result.object, tokens, deps.placeholder) : result.object };
}
