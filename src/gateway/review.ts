/**
 * withReview handles a `review` decision: the request needs a human approver before it may
 * pass. Until approvals are configured, a review is answered with a refusal that says so,
 * names the rules and the approvers, and is recorded like any other refusal.
 */
import { refusal, type Exchange, type Refusal } from './exchange.js';
import type { Stage } from './stage.js';

export function withReview<X extends Exchange>(next: Stage<X>): Stage<X> {
  return async function review(x: X): Promise<Refusal | void> {
    const decision = x.decision;
    if (decision?.effect !== 'review') return next(x);
    const approvers = decision.review?.approvers.length ? ` by ${decision.review.approvers.join(' or ')}` : '';
    return refusal(
      403,
      'approval-required',
      `this request requires approval${approvers} (rule ${decision.rules.join(', ')}): ${decision.message}`,
      { rules: decision.rules },
    );
  };
}
