/**
 * Asking the cluster what a write would produce: the same request with `dryRun=All`, as the
 * caller (impersonated), answered in JSON. Authorization of a dry-run is identical to the real
 * call and nothing is persisted (reference §2.8), so the result is exactly the object policy
 * should judge, whatever the body's encoding (protobuf, server-side apply, any patch type).
 */
import type { KubeExchange } from './kube-exchange.js';
import { sendRenewing, upstreamPath } from './upstream/index.js';
import { upstreamHeaders } from './upstream-headers.js';

export type DryRunResult =
  | { ok: true; object: unknown }
  | { ok: false; status: number; contentType?: string; body: Buffer }
  | { ok: false; status: 0; error: string };

/** withDryRun adds `dryRun=All` to a raw request target, keeping every other parameter. */
export function withDryRun(target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const kept = query.split('&').filter((p) => p !== '' && !/^dryRun(=|$)/.test(p));
  kept.push('dryRun=All');
  return `${path}?${kept.join('&')}`;
}

/** dryRun sends the exchange's request as a dry-run; it never throws for upstream failures. */
export async function dryRun(x: KubeExchange, timeoutMs: number): Promise<DryRunResult> {
  const { conn, req } = x;
  if (!conn || x.target === undefined || !x.identity) throw new Error('dry-run needs the connection and the identity');
  const { identity, target } = x;
  try {
    const res = await sendRenewing(conn.upstream, () =>
      conn.upstream.dispatcher.request({
        origin: conn.upstream.baseUrl.origin,
        path: upstreamPath(conn.upstream, withDryRun(target)),
        method: req.method as 'POST',
        headers: upstreamHeaders(req.headers, {
          authorization: conn.upstream.authorization(),
          impersonation: x.impersonation ?? conn.impersonate(identity),
          auditId: `${x.id}-dry-run`,
          accept: 'application/json',
        }),
        body: x.body ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }),
    );
    const body = Buffer.from(await res.body.arrayBuffer());
    const contentType = [res.headers['content-type']].flat()[0];
    if (res.statusCode >= 200 && res.statusCode < 300) {
      try {
        return { ok: true, object: JSON.parse(body.toString('utf8')) };
      } catch {
        return { ok: false, status: 0, error: `the dry-run answer was not JSON (${contentType ?? 'no content type'})` };
      }
    }
    return { ok: false, status: res.statusCode, ...(contentType ? { contentType } : {}), body };
  } catch (err) {
    return { ok: false, status: 0, error: err instanceof Error ? err.message : String(err) };
  }
}
