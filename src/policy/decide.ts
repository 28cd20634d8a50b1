/**
 * How rule outcomes become a Decision, shared by the fast and the reference evaluators so
 * that they cannot drift apart.
 *
 * Precedence: any matching deny rule wins, then review, then allow; when nothing matches,
 * the policy default decides. A rule whose evaluation failed counts as matched when it is a
 * deny or review rule (fail closed) and as not matched when it is an allow rule. Rules of a
 * lower precedence than the winning effect are not consulted, so `errors` lists only the
 * failures among the rules that were.
 */
import type { CompiledPolicy, CompiledRule } from './compiled-policy.js';
import type { Decision, Effect } from './decision.js';

/** A rule's failure, as recorded in `Decision.errors`. */
export interface RuleError {
  rule: string;
  error: string;
}

/** What one precedence level produced: rules that matched (in policy order) and failures. */
export interface PhaseResult {
  hits: CompiledRule[];
  errors: RuleError[];
}

/**
 * decideMatched builds the Decision when rules of `effect` matched (`hits` is non-empty).
 * `hits` is copied; `errors`, when non-empty, becomes the decision's own.
 */
export function decideMatched(effect: Effect, hits: readonly CompiledRule[], errors: RuleError[] | undefined): Decision {
  const first = hits[0] as CompiledRule;
  const names = new Array<string>(hits.length);
  for (let i = 0; i < hits.length; i++) names[i] = (hits[i] as CompiledRule).name;
  const decision: Decision = { effect, rules: names, message: first.message, defaulted: false };
  if (errors !== undefined && errors.length > 0) decision.errors = errors;
  if (effect === 'review') decision.review = reviewOf(hits);
  // Break-glass: an allow rule that grants clear values; the decision (and so the ledger) says so.
  if (effect === 'allow' && hits.some((r) => r.unmask.includes('secrets'))) decision.mask = { secrets: 'clear' };
  return decision;
}

const defaultMessages = {
  allow: 'no rule matched; the policy default is allow',
  deny: 'no rule matched; the policy default is deny',
} as const;

/** decideDefault builds the Decision when no rule matched; failed allow rules are reported. */
export function decideDefault(policy: CompiledPolicy, errors: RuleError[] | undefined): Decision {
  const decision: Decision = { effect: policy.default, rules: [], message: defaultMessages[policy.default], defaulted: true };
  if (errors !== undefined && errors.length > 0) decision.errors = errors;
  return decision;
}

/** reviewOf merges matching review rules: every named approver may approve, the strictest count applies. */
function reviewOf(hits: readonly CompiledRule[]): NonNullable<Decision['review']> {
  const approvers = new Set<string>();
  let approvals = 1;
  for (const r of hits) {
    for (const a of r.approvers) approvers.add(a);
    approvals = Math.max(approvals, r.approvals);
  }
  return { approvers: [...approvers], approvals, rules: hits.map((r) => r.name) };
}
