/**
 * A realistic 50-rule policy for the benchmark: what a platform team running Kubernetes
 * and PostgreSQL behind airlock might write. Mixed effects, guards on verb/resource/
 * protocol like people write them, identity tests, object inspection with has() guards,
 * one rule that compares a number (so cel-js, not a closure, evaluates it), default deny.
 */
const writes = '["create", "update", "patch", "delete", "deletecollection"]';
const sqlWrites = '["insert", "update", "delete", "merge", "truncate", "copy"]';

export const benchPolicySource = `
default: deny
rules:
  # --- Kubernetes: hard denies
  - name: no-impersonation
    match: request.verb == "impersonate"
    effect: deny
    message: impersonation is not allowed
  - name: protect-system-namespaces
    match: request.protocol == "kubernetes" && request.verb == "delete" && request.resource == "namespaces" && has(request.name) && request.name in ["kube-system", "kube-public", "kube-node-lease", "default"]
    effect: deny
    message: system namespaces cannot be deleted
  - name: protect-kube-system
    match: request.protocol == "kubernetes" && request.verb in ["delete", "deletecollection"] && has(request.namespace) && request.namespace == "kube-system"
    effect: deny
    message: nothing in kube-system is deleted through airlock
  - name: no-shell-in-kube-system
    match: request.protocol == "kubernetes" && has(request.subresource) && request.subresource in ["exec", "attach", "portforward"] && has(request.namespace) && request.namespace == "kube-system"
    effect: deny
    message: no shells in kube-system
  - name: agents-no-secret-writes
    match: request.protocol == "kubernetes" && request.resource == "secrets" && request.verb in ${writes} && identity.kind == "agent"
    effect: deny
    message: agents cannot change secrets
  - name: agents-no-cluster-wide-secret-lists
    match: request.protocol == "kubernetes" && request.resource == "secrets" && request.verb in ["list", "watch"] && !has(request.namespace) && identity.kind == "agent"
    effect: deny
    message: agents cannot list secrets across namespaces
  - name: rbac-cluster-writes-admins-only
    match: request.protocol == "kubernetes" && request.resource in ["clusterroles", "clusterrolebindings"] && request.verb in ${writes} && !("platform-admins" in identity.groups)
    effect: deny
    message: cluster RBAC is changed by platform admins only
  - name: no-crd-deletes
    match: request.protocol == "kubernetes" && request.resource == "customresourcedefinitions" && request.verb in ["delete", "deletecollection"]
    effect: deny
    message: CRDs are not deleted through airlock
  - name: no-node-proxy
    match: request.protocol == "kubernetes" && request.resource == "nodes" && has(request.subresource) && request.subresource == "proxy"
    effect: deny
    message: node proxy is not allowed
  - name: agents-no-exec-in-prod
    match: request.protocol == "kubernetes" && has(request.subresource) && request.subresource in ["exec", "attach"] && request.connection == "prod" && identity.kind == "agent"
    effect: deny
    message: agents cannot exec in production
  - name: agents-no-ephemeral-containers
    match: request.protocol == "kubernetes" && request.resource == "pods" && has(request.subresource) && request.subresource == "ephemeralcontainers" && identity.kind == "agent"
    effect: deny
    message: agents cannot add debug containers
  - name: admission-webhooks-admins-only
    match: request.protocol == "kubernetes" && request.resource in ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"] && request.verb in ${writes} && !("platform-admins" in identity.groups)
    effect: deny
    message: admission webhooks are changed by platform admins only
  - name: storage-classes-admins-only
    match: request.protocol == "kubernetes" && request.resource == "storageclasses" && request.verb in ${writes} && !("platform-admins" in identity.groups)
    effect: deny
    message: storage classes are changed by platform admins only
  - name: no-event-deletes
    match: request.protocol == "kubernetes" && request.resource == "events" && request.verb in ["delete", "deletecollection"]
    effect: deny
    message: events are evidence; they are not deleted through airlock
  - name: kube-public-read-only
    match: request.protocol == "kubernetes" && has(request.namespace) && request.namespace == "kube-public" && request.verb in ${writes}
    effect: deny
    message: kube-public is read-only
  - name: agents-no-lease-writes
    match: request.protocol == "kubernetes" && request.resource == "leases" && request.verb in ${writes} && identity.kind == "agent"
    effect: deny
    message: agents do not touch leases

  # --- Kubernetes: reviews
  - name: privileged-pods-need-approval
    match: request.protocol == "kubernetes" && request.resource == "pods" && request.verb in ["create", "update", "patch"] && has(object.spec) && ((has(object.spec.hostNetwork) && object.spec.hostNetwork == true) || (has(object.spec.hostPID) && object.spec.hostPID == true) || (has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.hostPath))) || (has(object.spec.containers) && object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)))
    effect: review
    message: privileged pods need an approval
    approvers: [group:sre]
  - name: privileged-workloads-need-approval
    match: request.protocol == "kubernetes" && request.resource in ["deployments", "statefulsets", "daemonsets"] && request.verb in ["create", "update", "patch"] && has(object.spec) && has(object.spec.template) && has(object.spec.template.spec) && has(object.spec.template.spec.containers) && object.spec.template.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)
    effect: review
    message: privileged workloads need an approval
    approvers: [group:sre]
  - name: untrusted-images-need-approval
    match: request.protocol == "kubernetes" && request.resource == "pods" && request.verb == "create" && has(object.spec) && has(object.spec.containers) && object.spec.containers.exists(c, has(c.image) && !c.image.startsWith("registry.example.com/"))
    effect: review
    message: images from outside registry.example.com need an approval
    approvers: [group:security]
  - name: network-policy-changes
    match: request.protocol == "kubernetes" && request.resource == "networkpolicies" && request.verb in ${writes}
    effect: review
    message: network policy changes need an approval
    approvers: [group:sre, group:security]
  - name: rolebinding-changes
    match: request.protocol == "kubernetes" && request.resource in ["roles", "rolebindings"] && request.verb in ${writes}
    effect: review
    message: RBAC changes need an approval
    approvers: [group:security]
  - name: node-changes
    match: request.protocol == "kubernetes" && request.resource == "nodes" && request.verb in ["update", "patch", "delete"]
    effect: review
    message: node changes need an approval
    approvers: [group:sre]
  - name: scale-to-zero-in-prod
    match: request.protocol == "kubernetes" && has(request.subresource) && request.subresource == "scale" && request.connection == "prod" && has(object.spec) && has(object.spec.replicas) && object.spec.replicas == 0
    effect: review
    message: scaling a production workload to zero needs an approval
    approvers: [group:sre]
  - name: prod-deployment-deletes
    match: request.protocol == "kubernetes" && request.resource in ["deployments", "statefulsets"] && request.verb == "delete" && request.connection == "prod"
    effect: review
    message: deleting production workloads needs two approvals
    approvers: [group:sre]
    approvals: 2
  - name: humans-exec-in-prod
    match: request.protocol == "kubernetes" && has(request.subresource) && request.subresource in ["exec", "attach"] && request.connection == "prod" && identity.kind == "human" && !("sre" in identity.groups)
    effect: review
    message: exec in production needs an approval
    approvers: [group:sre]
  - name: pv-deletes
    match: request.protocol == "kubernetes" && request.resource in ["persistentvolumes", "persistentvolumeclaims"] && request.verb == "delete"
    effect: review
    message: deleting volumes needs an approval
    approvers: [group:sre]
  - name: prod-ingress-changes
    match: request.protocol == "kubernetes" && request.resource == "ingresses" && request.verb in ${writes} && request.connection == "prod"
    effect: review
    message: production ingress changes need an approval
    approvers: [group:sre]
  - name: load-balancer-services
    match: request.protocol == "kubernetes" && request.resource == "services" && request.verb in ["create", "update", "patch"] && has(object.spec) && has(object.spec.type) && object.spec.type == "LoadBalancer"
    effect: review
    message: public load balancers need an approval
    approvers: [group:security]
  - name: flux-system-changes
    match: request.protocol == "kubernetes" && has(request.namespace) && request.namespace == "flux-system" && request.verb in ${writes}
    effect: review
    message: GitOps controller changes need an approval
    approvers: [group:platform-admins]

  # --- Kubernetes: allows
  - name: kubernetes-reads
    match: request.protocol == "kubernetes" && request.verb in ["get", "list", "watch"]
    effect: allow
  - name: sre-anything
    match: request.protocol == "kubernetes" && "sre" in identity.groups
    effect: allow
  - name: team-web-owns-web
    match: request.protocol == "kubernetes" && has(request.namespace) && request.namespace == "web" && "team-web" in identity.groups
    effect: allow
  - name: team-payments-owns-payments
    match: request.protocol == "kubernetes" && has(request.namespace) && request.namespace == "payments" && "team-payments" in identity.groups
    effect: allow
  - name: ci-deploys
    match: request.protocol == "kubernetes" && request.resource in ["deployments", "services", "configmaps"] && request.verb in ["create", "update", "patch"] && has(identity.clientId) && identity.clientId == "ci"
    effect: allow
  - name: agents-pod-logs
    match: request.protocol == "kubernetes" && request.resource == "pods" && has(request.subresource) && request.subresource == "log"
    effect: allow
  - name: dev-cluster-open
    match: request.protocol == "kubernetes" && request.connection == "dev"
    effect: allow

  # --- PostgreSQL
  - name: no-drop-database
    match: request.protocol == "postgres" && request.verb == "ddl" && has(request.statement) && request.statement.contains("DROP DATABASE")
    effect: deny
    message: databases are not dropped through airlock
  - name: audit-tables-append-only
    match: request.protocol == "postgres" && request.verb in ["update", "delete", "truncate", "merge"] && has(request.tables) && "audit_log" in request.tables
    effect: deny
    message: audit tables are append-only
  - name: agents-no-truncate
    match: request.protocol == "postgres" && request.verb == "truncate" && identity.kind == "agent"
    effect: deny
    message: agents cannot truncate tables
  - name: agents-not-in-billing
    match: request.protocol == "postgres" && has(request.database) && request.database == "billing" && identity.kind == "agent"
    effect: deny
    message: agents have no access to billing
  - name: agents-no-procedures
    match: request.protocol == "postgres" && request.verb in ["call", "do"] && identity.kind == "agent"
    effect: deny
    message: agents cannot run procedures or DO blocks
  - name: sql-ddl-review
    match: request.protocol == "postgres" && request.verb == "ddl"
    effect: review
    message: schema changes need a DBA
    approvers: [group:dba]
  - name: payments-writes-review
    match: request.protocol == "postgres" && request.verb in ${sqlWrites} && has(request.tables) && request.tables.exists(t, t.startsWith("payments"))
    effect: review
    message: payment data changes need two approvals
    approvers: [group:dba, group:payments-leads]
    approvals: 2
  - name: sql-copy-review
    match: request.protocol == "postgres" && request.verb == "copy"
    effect: review
    message: bulk copies need an approval
    approvers: [group:dba]
  - name: sql-dcl-review
    match: request.protocol == "postgres" && request.verb == "dcl"
    effect: review
    message: grants and roles need a DBA
    approvers: [group:dba]
  - name: sql-reads
    match: request.protocol == "postgres" && request.verb in ["select", "transaction", "session"]
    effect: allow
  - name: orders-team-writes
    match: request.protocol == "postgres" && request.verb in ${sqlWrites} && has(request.database) && request.database == "orders" && "team-orders" in identity.groups
    effect: allow
  - name: dba-anything
    match: request.protocol == "postgres" && "dba" in identity.groups
    effect: allow
  - name: analytics-readonly-role
    match: request.protocol == "postgres" && has(request.database) && request.database == "analytics" && request.verb == "select"
    effect: allow
  - name: break-glass
    match: '"break-glass" in identity.groups && identity.kind == "human"'
    effect: allow
    message: break-glass access, recorded
`;
