/**
 * withDecision asks policy about the exchange. Policy is pure and never throws; a `deny`
 * becomes a refusal naming the rules and their message, so the caller knows what was refused,
 * by which rule, and whom to ask.
 */
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import type { Stage } from './stage.js';

export interface DecisionDeps {
  /** The policy in force now (it may be replaced by a reload between requests). */
  policy: () => CompiledPolicy;
}

export function withDecision<X extends Exchange>(next: Stage<X>, deps: DecisionDeps): Stage<X> {
  return async function decision(x: X): Promise<Refusal | void> {
    // The adapter's interpretation and authentication ran first: both are needed to decide.
    if (!x.action || !x.identity) throw new Error('withDecision needs the identity and the action');
    const decided = evaluatePolicy(deps.policy(), { request: x.action, identity: x.identity, object: x.object });
    x.decision = decided;
    if (decided.effect === 'deny') {
      const rules = decided.rules.length > 0 ? `rule ${decided.rules.join(', ')}` : 'the policy default';
      return refusal(403, 'policy-denied', `airlock denied this request (${rules}): ${decided.message}`, { rules: decided.rules });
    }
    return next(x);
  };
}
