/**
 * The quick-start policy, embedded so that `airlock start` works without a policy file.
 * It is the same text as examples/policy.yaml (a test keeps them identical): allow by
 * default, deny the destructive and the escalating, review the privileged.
 */
export const defaultPolicySource = `# airlock quick-start policy (also embedded as the default when no policy file is configured).
#
# Allow by default, with guard rails around what an agent can break: system namespaces,
# shells in kube-system, privileged workloads, network policy and impersonation.
# Every field test is guarded with has(), so a request without that field simply does not
# match instead of failing closed. See docs/policy.md for the request shape.
default: allow
rules:
  - name: protect-system-namespaces
    match: |
      request.protocol == "kubernetes" && request.verb == "delete" && has(request.resource) && request.resource == "namespaces"
      && has(request.name) && request.name in ["kube-system", "kube-public", "kube-node-lease", "default"]
    effect: deny
    message: system namespaces cannot be deleted through airlock

  - name: protect-kube-system
    match: |
      request.protocol == "kubernetes" && request.verb in ["delete", "deletecollection"]
      && has(request.namespace) && request.namespace == "kube-system"
    effect: deny
    message: nothing in kube-system can be deleted through airlock

  - name: no-shell-in-kube-system
    match: |
      request.protocol == "kubernetes" && has(request.subresource)
      && request.subresource in ["exec", "attach", "portforward", "ephemeralcontainers"]
      && has(request.namespace) && request.namespace == "kube-system"
    effect: deny
    message: exec, attach, port-forward and debug containers into kube-system are not allowed through airlock

  - name: privileged-pods-need-approval
    match: |
      request.protocol == "kubernetes" && has(request.resource) && request.resource == "pods"
      && request.verb in ["create", "update", "patch"] && has(object.spec)
      && ((has(object.spec.hostNetwork) && object.spec.hostNetwork == true)
      || (has(object.spec.hostPID) && object.spec.hostPID == true)
      || (has(object.spec.hostIPC) && object.spec.hostIPC == true)
      || (has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.hostPath)))
      || (has(object.spec.containers) && object.spec.containers.exists(c,
            has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true))
      || (has(object.spec.initContainers) && object.spec.initContainers.exists(c,
            has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true))
      || (has(object.spec.ephemeralContainers) && object.spec.ephemeralContainers.exists(c,
            has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)))
    effect: review
    message: privileged pods (privileged containers, also debug containers; host network, PID or IPC; hostPath volumes) need an approval

  - name: privileged-workloads-need-approval
    match: |
      request.protocol == "kubernetes"
      && has(request.resource) && request.resource in ["deployments", "statefulsets", "daemonsets", "replicasets", "jobs"]
      && request.verb in ["create", "update", "patch"]
      && has(object.spec) && has(object.spec.template) && has(object.spec.template.spec)
      && ((has(object.spec.template.spec.hostNetwork) && object.spec.template.spec.hostNetwork == true)
      || (has(object.spec.template.spec.hostPID) && object.spec.template.spec.hostPID == true)
      || (has(object.spec.template.spec.hostIPC) && object.spec.template.spec.hostIPC == true)
      || (has(object.spec.template.spec.volumes) && object.spec.template.spec.volumes.exists(v, has(v.hostPath)))
      || (has(object.spec.template.spec.containers) && object.spec.template.spec.containers.exists(c,
            has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true))
      || (has(object.spec.template.spec.initContainers) && object.spec.template.spec.initContainers.exists(c,
            has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)))
    effect: review
    message: workloads that run privileged pods need an approval

  - name: network-policy-changes-need-approval
    match: |
      request.protocol == "kubernetes" && has(request.resource) && request.resource == "networkpolicies"
      && request.verb in ["create", "update", "patch", "delete", "deletecollection"]
    effect: review
    message: changes to network policies need an approval

  - name: no-impersonation
    match: request.verb == "impersonate"
    effect: deny
    message: impersonation is not allowed through airlock; each caller acts as itself
`;
