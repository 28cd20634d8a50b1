/**
 * The review rule the approval tests and benchmarks share: a privileged pod create waits for
 * approval. `reviewPolicy(more)` is a default-allow policy with that rule, then `more` (extra
 * YAML lines for the same rule, e.g. `    approvers: [group:sre]`, and further rules).
 */
export function reviewPolicy(more = ''): string {
  return `default: allow
rules:
  - name: privileged-pods-need-approval
    match: |
      request.resource == "pods" && request.verb == "create" && has(object.spec) && has(object.spec.containers)
      && object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)
    effect: review
    message: privileged pods need an approval
${more}`;
}
