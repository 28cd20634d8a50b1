/**
 * The approvals API on the admin server. Every call carries a bearer token, verified like any
 * caller's (OIDC or the built-in issuer); what the identity may do comes from its roles
 * (`review.roles`): approvers and admins list, read, approve and deny; auditors list and read;
 * a requester may read (and so wait for) their own approval requests.
 *
 *   GET  /api/approvals[?state=pending]      list (newest first)
 *   GET  /api/approvals/:id[?wait=SECONDS]   one approval; with `wait`, answered when it is
 *                                            decided or after the wait (at most 60 s)
 *   POST /api/approvals/:id/approve          {"reason": "…"}
 *   POST /api/approvals/:id/deny             {"reason": "…"}
 *   POST /api/approvals/:id/revoke           {"reason": "…"} (admins, or one of its approvers)
 *   GET  /approvals/:id                      a small HTML page with the request, preview and
 *                                            the CLI lines to approve or deny
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAirlockError } from '../errors.js';
import type { Identity } from '../identity/identity.js';
import type { Approvals } from '../review/approvals.js';
import { isApprovalActionError } from '../review/approvals.js';
import type { ApprovalRequest } from '../review/types.js';

export interface ApprovalsApiDeps {
  approvals: Approvals;
  authenticate(token: string): Promise<Identity>;
}

const STATES = new Set(['pending', 'approved', 'denied', 'expired', 'used', 'revoked']);
const MAX_WAIT_SECONDS = 60;
const MAX_REASON = 1000;

export function registerApprovalsApi(app: FastifyInstance, deps: ApprovalsApiDeps): void {
  const { approvals } = deps;

  /** caller authenticates the request; on failure it answers 401 and returns undefined. */
  async function caller(req: FastifyRequest, reply: FastifyReply): Promise<Identity | undefined> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a bearer token is required (airlock token mint, or your OIDC token)' });
      return undefined;
    }
    try {
      return await deps.authenticate(match[1]!);
    } catch (err) {
      const message = isAirlockError(err) ? `${err.message} [${err.code}]` : 'the token could not be verified';
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: message });
      return undefined;
    }
  }

  const canRead = (who: Identity, a?: ApprovalRequest) =>
    approvals.roles(who).length > 0 || (a !== undefined && a.requester.subject === who.subject && a.requester.issuer === who.issuer);

  app.get('/api/approvals', async (req, reply) => {
    const who = await caller(req, reply);
    if (!who) return reply;
    const state = (req.query as Record<string, unknown>).state;
    if (state !== undefined && (typeof state !== 'string' || !STATES.has(state))) {
      return reply.code(400).send({ error: `state must be one of ${[...STATES].join(', ')}` });
    }
    const filter = state ? { state: state as ApprovalRequest['state'] } : {};
    // Without a role, a caller sees only their own requests.
    const list = approvals.roles(who).length > 0 ? approvals.list(filter) : approvals.list({ ...filter, requester: who });
    return reply.send({ items: list });
  });

  app.get('/api/approvals/:id', async (req, reply) => {
    const who = await caller(req, reply);
    if (!who) return reply;
    const { id } = req.params as { id: string };
    const found = approvals.get(id);
    if (!found || !canRead(who, found)) return reply.code(404).send({ error: `no approval request ${id} (finished approvals are listed for review.retain, 24h by default; the ledger keeps them all: airlock sessions, airlock evidence export)` });
    const waitRaw = (req.query as Record<string, unknown>).wait;
    if (waitRaw !== undefined) {
      const seconds = Number(waitRaw);
      if (!Number.isFinite(seconds) || seconds < 0) return reply.code(400).send({ error: 'wait must be a number of seconds' });
      const decided = await approvals.wait(id, Math.min(seconds, MAX_WAIT_SECONDS) * 1000);
      return reply.send(decided ?? found);
    }
    return reply.send(found);
  });

  for (const verb of ['approve', 'deny', 'revoke'] as const) {
    app.post(`/api/approvals/:id/${verb}`, async (req, reply) => {
      const who = await caller(req, reply);
      if (!who) return reply;
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const reason = body.reason;
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON)) {
        return reply.code(400).send({ error: `reason must be text of at most ${MAX_REASON} characters` });
      }
      try {
        const text = typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : undefined;
        const result = verb === 'approve' ? await approvals.approve(id, who, text) : verb === 'deny' ? await approvals.deny(id, who, text) : await approvals.revoke(id, who, text);
        return reply.send(result);
      } catch (err) {
        if (isApprovalActionError(err)) return reply.code(err.status).send({ error: err.message });
        if (isAirlockError(err)) return reply.code(503).send({ error: `the ledger could not record it, so nothing changed: ${err.message}` });
        throw err;
      }
    });
  }

  app.get('/approvals/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    // The page shows nothing without a token either: it says how to look the request up.
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(approvalPage(id));
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** approvalPage: the landing page of notification links. It holds no request data (that needs a token). */
function approvalPage(id: string): string {
  const safe = escapeHtml(id);
  return `<!doctype html><meta charset="utf-8"><title>airlock approval ${safe}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f4f4f4;padding:.1rem .3rem}</style>
<h1>Approval request <code>${safe}</code></h1>
<p>Review the request — who asked, the exact call, the masked body and the cluster's dry run — then decide:</p>
<pre>airlock approvals show ${safe}
airlock approvals approve ${safe} --reason "…"
airlock approvals deny ${safe} --reason "…"</pre>
<p>The same over HTTP, with your token: <code>GET /api/approvals/${safe}</code>, <code>POST /api/approvals/${safe}/approve</code> or <code>/deny</code> with <code>{"reason": "…"}</code>.</p>`;
}
