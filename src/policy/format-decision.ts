/**
 * formatDecision renders a Decision for people: `airlock policy eval` prints it, and it is
 * what an operator reads when asking "why was this refused?". Plain text, one fact a line.
 */
import type { Decision } from './decision.js';

/**
 * formatDecision returns the decision as aligned lines: effect, matched rules, message,
 * masking beyond the defaults (allow only), review requirements (review only) and evaluation
 * errors (when any). It never throws.
 *
 * @example
 * console.log(formatDecision(evaluatePolicy(policy, input)));
 * // effect:   deny
 * // rules:    protect-system-namespaces
 * // message:  system namespaces cannot be deleted through airlock
 */
export function formatDecision(decision: Decision): string {
  const lines = [
    `effect:   ${decision.effect}${decision.defaulted ? ' (policy default)' : ''}`,
    `rules:    ${decision.rules.length > 0 ? decision.rules.join(', ') : '(none matched)'}`,
    `message:  ${decision.message}`,
  ];
  if (decision.mask?.detectors && decision.mask.detectors.length > 0) {
    lines.push(`mask:     ${decision.mask.detectors.join(', ')} (added to the default stream detectors)`);
  }
  if (decision.mask?.secrets === 'clear') lines.push('unmask:   secrets (Secret values shown in the clear)');
  if (decision.review) {
    const { approvals, approvers } = decision.review;
    const who = approvers.length > 0 ? approvers.join(', ') : 'the default approvers';
    lines.push(`review:   ${approvals} approval${approvals === 1 ? '' : 's'} from ${who}`);
  }
  if (decision.errors && decision.errors.length > 0) {
    lines.push('errors:   (failed deny/review rules count as matched; failed allow rules do not)');
    for (const e of decision.errors) lines.push(`  ${e.rule}: ${e.error}`);
  }
  return lines.join('\n');
}
