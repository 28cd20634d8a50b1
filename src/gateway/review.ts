/**
 * withReview handles a `review` decision: the request needs a human approver before it may
 * pass.
 *
 * - A grant this identity already holds for this exact request (or a window grant for the same
 *   rules and scope) lets it through once; the use is recorded first (`approval.used`).
 * - Otherwise the request becomes (or joins) an approval request bound to the caller and the
 *   request's digest, and is held open for up to `review.holdTimeout`. Approved in time: it
 *   goes on as if nothing happened. Denied: 403 with the approver's reason. Still pending: 429
 *   with Retry-After and the approval id — client-go retries by itself, so an agent's kubectl
 *   succeeds once someone approves.
 */
import type { Approvals } from '../review/approvals.js';
import type { ApprovalRequest } from '../review/types.js';
import type { ProtocolAdapter } from './adapter.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import type { Stage } from './stage.js';

export interface ReviewDeps {
  approvals: Approvals;
  /** How long a request is held waiting for a decision (ms). */
  holdMs: number;
  /** Retry-After of the 429 (ms, rounded up to whole seconds). */
  retryAfterMs: number;
}

export function withReview<X extends Exchange>(next: Stage<X>, adapter: ProtocolAdapter<X>, deps: ReviewDeps): Stage<X> {
  return async function review(x: X): Promise<Refusal | void> {
    const decision = x.decision;
    if (decision?.effect !== 'review') return next(x);
    if (!x.identity || !x.connection) throw new Error('withReview needs the identity and the connection');
    const described = adapter.describeForReview(x);
    const rules = decision.review?.rules ?? decision.rules;
    const grant = deps.approvals.grantFor({ identity: x.identity, digest: described.digest, connection: x.connection, rules, ...(described.scope !== undefined ? { scope: described.scope } : {}) });
    if (grant) return pass(x, grant);

    const approval = await deps.approvals.open({
      connection: x.connection,
      identity: x.identity,
      ...(x.sessionId ? { sessionId: x.sessionId } : {}),
      rules,
      message: decision.message,
      approvers: decision.review?.approvers ?? [],
      approvals: decision.review?.approvals ?? 1,
      ...(decision.review?.window ? { window: decision.review.window } : {}),
      digest: described.digest,
      ...(described.scope !== undefined ? { scope: described.scope } : {}),
      subject: described.subject,
      ...(described.preview ? { preview: described.preview } : {}),
      requestEntryId: x.id,
      entry: { action: (x.recordedAction ?? x.action) as unknown as Record<string, unknown> },
    });
    x.facts.approval = { id: approval.id };
    const decided = (await deps.approvals.wait(approval.id, deps.holdMs)) ?? approval;
    if (decided.state === 'approved') {
      const granted = deps.approvals.grantFor({ identity: x.identity, digest: described.digest, connection: x.connection, rules, ...(described.scope !== undefined ? { scope: described.scope } : {}) });
      if (granted) return pass(x, granted);
    }
    return refusalFor(decided, deps);
  };

  function pass(x: X, grant: ApprovalRequest): Promise<Refusal | void> {
    // The use is appended now and the request entry right after it, in the same group commit:
    // the chain is sequential, so once the request entry is durable (recording waits for it
    // before forwarding) the use is too — one fsync for both.
    deps.approvals.use(grant, { requestEntryId: x.id, identity: x.identity!, ...(x.sessionId ? { sessionId: x.sessionId } : {}) }).catch(() => deps.approvals.release(grant));
    x.facts.approval = { id: grant.id, grant: grant.grant.kind, approvedBy: grant.approvals.map((v) => v.subject) };
    // A shell let in by a window lasts no longer than the window.
    if (grant.grant.kind === 'window' && grant.grant.expiresAt) x.approvalEndsAtMs = Date.parse(grant.grant.expiresAt);
    return next(x);
  }
}

/** refusalFor answers a request whose approval is not (or no longer) granted. */
function refusalFor(a: ApprovalRequest, deps: ReviewDeps): Refusal {
  const rules = { rules: a.rules, details: { approvalId: a.id } };
  switch (a.state) {
    case 'denied': {
      const reason = a.denial?.reason ? `: ${a.denial.reason}` : ' (no reason given)';
      return refusal(403, 'approval-denied', `approval ${a.id} was denied by ${a.denial?.subject ?? 'an approver'}${reason}`, rules);
    }
    case 'expired':
    case 'revoked':
    case 'used':
      // The next attempt opens a new approval request.
      return refusal(403, 'approval-required', `approval ${a.id} is ${a.state}; send the request again to ask for a new approval (rule ${a.rules.join(', ')}): ${a.message}`, rules);
    default: {
      const who = a.approvers.length > 0 ? a.approvers.join(' or ') : 'an approver';
      const votes = a.approvalsRequired > 1 ? ` (${a.approvals.length} of ${a.approvalsRequired} approvals so far)` : '';
      return refusal(
        429,
        'approval-pending',
        `this request is waiting for approval ${a.id}${votes} (rule ${a.rules.join(', ')}: ${a.message}); ${who} can run \`airlock approvals approve ${a.id}\`; ` +
          `the request is retried automatically until ${a.expiresAt}`,
        { ...rules, retryAfterSeconds: Math.max(1, Math.ceil(deps.retryAfterMs / 1000)) },
      );
    }
  }
}
