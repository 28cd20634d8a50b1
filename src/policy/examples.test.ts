import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compilePolicy } from './compile.js';
import { engineKey } from './compiled-policy.js';
import { defaultPolicySource } from './default-policy.js';
import { evaluatePolicy, evaluatePolicyReference, type PolicyIdentity, type PolicyInput } from './evaluate.js';
import type { PolicyRequest } from './request.js';

/** The repository root, found from this file whether it runs from src/ or from dist/src/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
  return dir;
}

const examples = join(repoRoot(), 'examples');
const read = (name: string) => readFileSync(join(examples, name), 'utf8');

const agent: PolicyIdentity = { subject: 'agent:bot', groups: ['agents'], issuer: 'https://idp', kind: 'agent', tokenId: 't', via: 'builtin' };
const alice: PolicyIdentity = { subject: 'alice', groups: ['staff'], issuer: 'https://idp', kind: 'human', tokenId: 't', via: 'corp' };
const breakGlass: PolicyIdentity = { ...alice, groups: ['staff', 'break-glass'] };

const k8s = (f: Partial<PolicyRequest>): PolicyRequest => ({ protocol: 'kubernetes', connection: 'production', verb: 'get', ...f });
const pg = (f: Partial<PolicyRequest>): PolicyRequest => ({ protocol: 'postgres', connection: 'orders', verb: 'select', database: 'orders', ...f });

const privileged = { spec: { containers: [{ name: 'x', image: 'busybox', securityContext: { privileged: true } }] } };
const plainPod = { spec: { containers: [{ name: 'x', image: 'busybox' }] } };

interface Row {
  title: string;
  input: PolicyInput;
  effect: string;
  rules: string[];
}

function check(policy: ReturnType<typeof compilePolicy>, rows: Row[]) {
  for (const r of rows) {
    it(r.title, () => {
      const d = evaluatePolicy(policy, r.input);
      assert.deepStrictEqual(d, evaluatePolicyReference(policy, r.input));
      assert.equal(d.effect, r.effect, JSON.stringify(d));
      assert.deepEqual(d.rules, r.rules);
      assert.equal(d.errors, undefined, 'example rules guard every field with has()');
    });
  }
}

describe('examples compile', () => {
  for (const name of ['policy.yaml', 'policy-strict.yaml']) {
    it(`examples/${name} compiles, every rule on the fast path`, () => {
      const p = compilePolicy(read(name), { file: `examples/${name}` });
      assert.ok(p.rules.length > 0);
      const slow = p[engineKey].programs.filter((x) => !x.fast).map((x) => x.rule.name);
      assert.deepEqual(slow, []);
      assert.deepEqual(p.warnings, [], 'the examples draw no warning');
    });
  }

  it('the embedded default policy is examples/policy.yaml, word for word', () => {
    assert.equal(defaultPolicySource, read('policy.yaml'));
  });
});

describe('the default policy', () => {
  const p = compilePolicy(defaultPolicySource);
  check(p, [
    { title: 'reads are allowed by default', input: { request: k8s({ verb: 'list', resource: 'pods', namespace: 'web' }), identity: agent }, effect: 'allow', rules: [] },
    ...['kube-system', 'kube-public', 'kube-node-lease', 'default'].map((name) => ({
      title: `deleting namespace ${name} is denied`,
      input: { request: k8s({ verb: 'delete', resource: 'namespaces', name }), identity: agent },
      effect: 'deny',
      rules: ['protect-system-namespaces'],
    })),
    // A DELETE of a path that is no resource (the cluster answers 404) matches no rule rather than failing one.
    { title: 'a DELETE without a resource is not taken for a namespace or network policy change', input: { request: k8s({ verb: 'delete' }), identity: agent }, effect: 'allow', rules: [] },
    { title: 'deleting another namespace is allowed', input: { request: k8s({ verb: 'delete', resource: 'namespaces', name: 'scratch' }), identity: agent }, effect: 'allow', rules: [] },
    { title: 'deleting anything in kube-system is denied', input: { request: k8s({ verb: 'delete', resource: 'configmaps', namespace: 'kube-system', name: 'x' }), identity: agent }, effect: 'deny', rules: ['protect-kube-system'] },
    { title: 'deletecollection in kube-system is denied', input: { request: k8s({ verb: 'deletecollection', resource: 'pods', namespace: 'kube-system' }), identity: agent }, effect: 'deny', rules: ['protect-kube-system'] },
    ...['exec', 'attach', 'portforward', 'ephemeralcontainers'].map((subresource) => ({
      title: `${subresource} into kube-system is denied`,
      input: { request: k8s({ verb: 'create', resource: 'pods', subresource, namespace: 'kube-system', name: 'coredns-1' }), identity: agent },
      effect: 'deny',
      rules: ['no-shell-in-kube-system'],
    })),
    { title: 'exec elsewhere is allowed', input: { request: k8s({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'web', name: 'w-1' }), identity: agent }, effect: 'allow', rules: [] },
    { title: 'a privileged pod needs a review', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: privileged }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'a privileged init container needs a review', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: { spec: { containers: [], initContainers: privileged.spec.containers } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'a hostNetwork pod needs a review', input: { request: k8s({ verb: 'patch', resource: 'pods', namespace: 'web', name: 'p' }), identity: agent, object: { spec: { hostNetwork: true } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'a hostPID pod needs a review', input: { request: k8s({ verb: 'update', resource: 'pods', namespace: 'web', name: 'p' }), identity: agent, object: { spec: { hostPID: true, containers: [] } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'a privileged debug container (kubectl debug --profile=sysadmin) needs a review', input: { request: k8s({ verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'web', name: 'p' }), identity: agent, object: { spec: { containers: plainPod.spec.containers, ephemeralContainers: [{ name: 'debugger-x', image: 'busybox', securityContext: { privileged: true } }] } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'an ordinary debug container elsewhere is allowed', input: { request: k8s({ verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'web', name: 'p' }), identity: agent, object: { spec: { containers: plainPod.spec.containers, ephemeralContainers: [{ name: 'debugger-x', image: 'busybox' }] } } }, effect: 'allow', rules: [] },
    { title: 'a hostIPC pod needs a review', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: { spec: { hostIPC: true, containers: [] } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'a hostPath volume needs a review', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [] } } }, effect: 'review', rules: ['privileged-pods-need-approval'] },
    { title: 'an ordinary pod is allowed', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: plainPod }, effect: 'allow', rules: [] },
    { title: 'a pod with an explicitly unprivileged container is allowed', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent, object: { spec: { containers: [{ name: 'x', securityContext: { privileged: false, runAsNonRoot: true } }] } } }, effect: 'allow', rules: [] },
    { title: 'a pod create without a body is allowed (nothing to judge)', input: { request: k8s({ verb: 'create', resource: 'pods', namespace: 'web' }), identity: agent }, effect: 'allow', rules: [] },
    { title: 'a deployment with a privileged template needs a review', input: { request: k8s({ verb: 'create', resource: 'deployments', apiGroup: 'apps', namespace: 'web' }), identity: agent, object: { spec: { template: privileged } } }, effect: 'review', rules: ['privileged-workloads-need-approval'] },
    { title: 'a deployment with a privileged init container needs a review', input: { request: k8s({ verb: 'create', resource: 'deployments', apiGroup: 'apps', namespace: 'web' }), identity: agent, object: { spec: { template: { spec: { containers: [], initContainers: privileged.spec.containers } } } } }, effect: 'review', rules: ['privileged-workloads-need-approval'] },
    { title: 'an ordinary deployment is allowed', input: { request: k8s({ verb: 'create', resource: 'deployments', apiGroup: 'apps', namespace: 'web' }), identity: agent, object: { spec: { template: plainPod } } }, effect: 'allow', rules: [] },
    { title: 'a network policy change needs a review', input: { request: k8s({ verb: 'delete', resource: 'networkpolicies', namespace: 'web', name: 'deny-all' }), identity: agent }, effect: 'review', rules: ['network-policy-changes-need-approval'] },
    { title: 'reading network policies is allowed', input: { request: k8s({ verb: 'list', resource: 'networkpolicies', namespace: 'web' }), identity: agent }, effect: 'allow', rules: [] },
    { title: 'impersonation is denied', input: { request: k8s({ verb: 'impersonate', resource: 'users', name: 'admin' }), identity: alice }, effect: 'deny', rules: ['no-impersonation'] },
    { title: 'a deny beats a review on the same request', input: { request: k8s({ verb: 'delete', resource: 'networkpolicies', namespace: 'kube-system', name: 'x' }), identity: agent }, effect: 'deny', rules: ['protect-kube-system'] },
  ]);
});

describe('the strict policy', () => {
  const p = compilePolicy(read('policy-strict.yaml'));
  check(p, [
    { title: 'agents may read Kubernetes', input: { request: k8s({ verb: 'list', resource: 'pods', namespace: 'web' }), identity: agent }, effect: 'allow', rules: ['kubernetes-reads'] },
    { title: 'agents may select', input: { request: pg({ statement: 'select 1', tables: [] }), identity: agent }, effect: 'allow', rules: ['sql-reads'] },
    { title: 'agents may not write Kubernetes', input: { request: k8s({ verb: 'patch', resource: 'deployments', namespace: 'web', name: 'w' }), identity: agent }, effect: 'deny', rules: ['agents-are-read-only'] },
    { title: 'agents may not write SQL', input: { request: pg({ verb: 'update', tables: ['orders'] }), identity: agent }, effect: 'deny', rules: ['agents-are-read-only'] },
    { title: 'agents may not exec, even over a GET', input: { request: k8s({ verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'web', name: 'w' }), identity: agent }, effect: 'deny', rules: ['agents-no-shell'] },
    { title: 'a person’s write waits for an SRE', input: { request: k8s({ verb: 'create', resource: 'configmaps', namespace: 'web' }), identity: alice }, effect: 'review', rules: ['kubernetes-writes-need-approval'] },
    { title: 'a person’s production delete needs two approvals', input: { request: k8s({ verb: 'delete', resource: 'deployments', namespace: 'web', name: 'w' }), identity: alice }, effect: 'review', rules: ['kubernetes-writes-need-approval', 'production-deletes-need-two'] },
    { title: 'a person’s exec waits for an SRE', input: { request: k8s({ verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'web', name: 'w' }), identity: alice }, effect: 'review', rules: ['kubernetes-writes-need-approval'] },
    { title: 'DDL waits for two DBAs', input: { request: pg({ verb: 'ddl', statement: 'alter table orders add column x int', tables: ['orders'] }), identity: alice }, effect: 'review', rules: ['sql-ddl-needs-two'] },
    { title: 'break-glass skips the review', input: { request: k8s({ verb: 'delete', resource: 'deployments', namespace: 'web', name: 'w' }), identity: breakGlass }, effect: 'allow', rules: ['break-glass'] },
    { title: 'break-glass does not lift hard denies', input: { request: k8s({ verb: 'delete', resource: 'namespaces', name: 'kube-system' }), identity: breakGlass }, effect: 'deny', rules: ['protect-system-namespaces'] },
    { title: 'an unknown protocol is denied by default', input: { request: { protocol: 'mysql', connection: 'x', verb: 'select' }, identity: alice }, effect: 'deny', rules: [] },
  ]);

  it('the review of a production delete asks for the strictest count', () => {
    const d = evaluatePolicy(p, { request: k8s({ verb: 'delete', resource: 'deployments', namespace: 'web', name: 'w' }), identity: alice });
    assert.deepEqual(d.review, { approvers: ['group:sre'], approvals: 2, rules: ['kubernetes-writes-need-approval', 'production-deletes-need-two'] });
  });
});
