/**
 * How rule outcomes become a Decision, shared by the fast and the reference evaluators so
 * that they cannot drift apart.
 *
 * Precedence: any matching deny rule wins, then review, then allow; when nothing matches,
 * the policy default decides. A rule whose evaluation failed counts as matched when it is a
 * deny or review rule (fail closed) and as not matched when it is an allow rule. Rules of a
 * lower precedence than the winning effect are not consulted, so `errors` lists only the
 * failures among the rules that were.
 *
 * Masking comes from every matching allow rule, never from the first alone: `unmask: [secrets]`
 * on any of them shows Secret values in the clear, and their `mask` detectors are united.
 */
import type { CompiledPolicy, CompiledRule } from './compiled-policy.js';
import type { Decision, Effect, MaskPlan } from './decision.js';

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
  if (effect === 'allow') {
    const mask = maskOf(hits);
    if (mask) decision.mask = mask;
  }
  return decision;
}

/**
 * maskOf merges the matching allow rules' masking: break-glass (`unmask: [secrets]`, clear
 * Secret values) when any grants it, and the sorted union of the detectors they add to the
 * gateway's stream masking. Undefined when no rule says anything: the defaults apply.
 */
function maskOf(hits: readonly CompiledRule[]): MaskPlan | undefined {
  let clear = false;
  let detectors: Set<string> | undefined;
  for (const r of hits) {
    if (r.unmask.includes('secrets')) clear = true;
    for (const d of r.mask) (detectors ??= new Set()).add(d);
  }
  if (!clear && detectors === undefined) return undefined;
  return { secrets: clear ? 'clear' : 'mask', ...(detectors ? { detectors: [...detectors].sort() } : {}) };
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

/** reviewOf merges matching review rules: every named approver may approve, the strictest count and the shortest window apply. */
function reviewOf(hits: readonly CompiledRule[]): NonNullable<Decision['review']> {
  const approvers = new Set<string>();
  let approvals = 1;
  // A window is granted only when every matching rule grants one; the shortest applies.
  let window: { ms: number; text: string } | undefined = hits[0]?.window;
  for (const r of hits) {
    for (const a of r.approvers) approvers.add(a);
    approvals = Math.max(approvals, r.approvals);
    if (!r.window) window = undefined;
    else if (window && r.window.ms < window.ms) window = r.window;
  }
  return { approvers: [...approvers], approvals, rules: hits.map((r) => r.name), ...(window ? { window: { ms: window.ms, text: window.text } } : {}) };
}
