/**
 * The headers a request carries upstream. What the client sent passes, except: its
 * credential (airlock authenticates with its own), any Impersonate-* header (refused earlier;
 * dropped here as a second line), the request-header authentication headers a front proxy
 * asserts a user with (`X-Remote-User`, `X-Remote-Group`, `X-Remote-Extra-*`: were airlock's
 * upstream credential ever a front-proxy certificate, they would let a caller name any user),
 * hop-by-hop headers (RFC 9110 §7.6.1), and Accept-Encoding (airlock must read what comes back). Airlock adds its upstream credential, the caller's
 * impersonation, Audit-ID (its ledger entry id, so both audit trails correlate) and, on
 * resource requests, an Accept rewritten to JSON.
 */
import type { IncomingHttpHeaders } from 'node:http';

const dropped = new Set([
  'authorization',
  'proxy-authorization',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'host',
  'accept-encoding',
  'content-length',
  'audit-id',
  'expect',
]);

export interface UpstreamHeaderOptions {
  authorization?: string;
  impersonation: Record<string, string | string[]>;
  auditId: string;
  /** Replacement Accept for resource requests; undefined keeps the client's. */
  accept?: string;
}

/** upstreamHeaders builds the header map for undici from the client's headers. */
export function upstreamHeaders(incoming: IncomingHttpHeaders, options: UpstreamHeaderOptions): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = String(incoming.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (dropped.has(lower) || lower.startsWith('impersonate-') || lower.startsWith('x-remote-') || connectionTokens.includes(lower)) continue;
    out[lower] = value;
  }
  if (options.accept !== undefined) out.accept = options.accept;
  if (options.authorization) out.authorization = options.authorization;
  for (const [name, value] of Object.entries(options.impersonation)) out[name.toLowerCase()] = value;
  out['audit-id'] = options.auditId;
  return out;
}

const responseDropped = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-connection', 'te']);

/** clientHeaders copies upstream response headers for the client, without hop-by-hop ones. */
export function clientHeaders(upstream: Record<string, string | string[] | undefined>, drop: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (responseDropped.has(lower) || drop.includes(lower)) continue;
    out[lower] = value;
  }
  return out;
}
