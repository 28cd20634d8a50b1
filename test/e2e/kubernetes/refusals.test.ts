/**
 * Policy refusals as real kubectl meets them, with the default policy: a denied request is
 * answered as a Kubernetes Status that kubectl prints as `Error from server (Forbidden): …`
 * naming the rule, and nothing of it reaches the cluster; `--as` is refused before anything
 * else; a privileged pod — however it is written (create, apply, server-side apply, a
 * strategic-merge patch) — is caught by the object-aware `review` rule: it waits for approval
 * (the approval request shows the cluster's dry run), and an approver's denial reaches kubectl as
 * Forbidden with the reason, recorded as a review. So does a privileged `kubectl debug` container,
 * and a debug container in kube-system is refused like a shell there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Identity } from '../../../src/identity/identity.js';
import type { ApprovalRequest } from '../../../src/review/types.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const PATCHED_POD = 'web-7d4b9c6f5-k2x8p';

/** The approver who turns the requests down (acting in-process on airlock's approval book). */
const reviewer: Identity = { subject: 'human:reviewer', groups: ['airlock:approvers'], issuer: 'https://approvers.example', tokenId: 'r-1', expiresAt: 4102444800, kind: 'human', via: 'test' };

function privilegedPodYaml(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  containers:
  - name: shell
    image: busybox:1.36
    securityContext: {privileged: true}
`;
}

interface ReviewRow {
  name: string;
  minor: number;
  /** kubectl arguments; FILE is replaced by the manifest's path. */
  args: string[];
  /** The pod the request is about. */
  pod: string;
}

const reviewRows: ReviewRow[] = [
  { name: 'create -f (JSON body)', minor: 27, args: ['create', '-f', 'FILE'], pod: 'priv-create-127' },
  { name: 'create -f (JSON body)', minor: 33, args: ['create', '-f', 'FILE'], pod: 'priv-create-133' },
  { name: 'apply -f', minor: 30, args: ['apply', '-f', 'FILE'], pod: 'priv-apply-130' },
  { name: 'apply -f', minor: 33, args: ['apply', '-f', 'FILE'], pod: 'priv-apply-133' },
  { name: 'apply --server-side', minor: 27, args: ['apply', '--server-side', '-f', 'FILE'], pod: 'priv-ssa-127' },
  { name: 'apply --server-side', minor: 33, args: ['apply', '--server-side', '-f', 'FILE'], pod: 'priv-ssa-133' },
  {
    name: 'patch (strategic merge adding privileged)',
    minor: 33,
    args: ['patch', 'pod', PATCHED_POD, '-p', JSON.stringify({ spec: { containers: [{ name: 'nginx', securityContext: { privileged: true } }] } })],
    pod: PATCHED_POD,
  },
];

describe('policy refusals through airlock with real kubectl (default policy)', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  const clients = new Map<number, KubectlClient>();

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-refusals-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:refused', groups: ['ci'] });
    for (const minor of kubectlMinors) {
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) clients.set(minor, client);
    }
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const minor of kubectlMinors) {
    it(`kubectl 1.${minor}: delete namespace kube-system is Forbidden by protect-system-namespaces and never reaches the cluster`, { skip: missingKubectl(minor) }, async () => {
      const result = await clients.get(minor)!.run(['delete', 'namespace', 'kube-system']);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^Error from server \(Forbidden\): airlock denied this request \(rule protect-system-namespaces[^)]*\): system namespaces cannot be deleted through airlock$/m);
      assert.equal(h.fake.received.filter((r) => r.method === 'DELETE').length, 0, 'no DELETE reached the cluster');
      assert.ok(h.fake.get('namespaces', 'kube-system'), 'kube-system still exists');
    });

    it(`kubectl 1.${minor}: --as someone is refused (403) and no request acting as someone reaches the cluster`, { skip: missingKubectl(minor) }, async () => {
      const kubectl = clients.get(minor)!;
      // With a cold discovery cache kubectl's first request is discovery, whose error body
      // client-go never decodes (it prints `Error from server (Forbidden): unknown`); with a
      // warm cache the refused request is the list, and kubectl prints airlock's message.
      const cold = await kubectl.run(['get', 'configmaps', '--as', `someone-${minor}`], { env: { HOME: mkdtempSync(join(dir, 'cold-')) } });
      assert.equal(cold.code, 1, cold.stdout);
      assert.match(cold.stderr, /^Error from server \(Forbidden\)/m);
      const warm = await kubectl.run(['get', 'namespaces']);
      assert.equal(warm.code, 0, warm.stderr);
      const result = await kubectl.run(['get', 'pods', '--as', `someone-${minor}`]);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^Error from server \(Forbidden\): airlock does not accept impersonate-user: it already acts as you \(drop --as\/--as-group\)$/m);
      assert.ok(!h.fake.received.some((r) => r.headers['impersonate-user']?.some((u) => u.startsWith('someone'))), 'nothing reached the cluster as someone');
      const entries = await h.entries();
      assert.ok(
        entries.some((e) => e.type === 'request' && e.data?.outcome === 'refused' && e.data.status === 403 && e.data.reason === 'forbidden' && e.identity === undefined),
        'the refusal is recorded',
      );
    });
  }

  it('kubectl 1.33: debug adds a plain debug container; a privileged one (--profile=sysadmin) waits for approval and the denial stops it; in kube-system it is refused', { skip: missingKubectl(33) }, async () => {
    const kubectl = clients.get(33)!;
    const pod = 'web-7d4b9c6f5-q7w4z';
    const debugContainers = () => ((h.fake.get('pods', pod, 'default') as { spec?: { ephemeralContainers?: Array<{ securityContext?: { privileged?: boolean } }> } } | undefined)?.spec?.ephemeralContainers ?? []);
    const plain = await kubectl.run(['debug', pod, '--image=busybox:1.36', '--profile=general', '--', 'true']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(debugContainers().length, 1, 'the plain debug container was added');

    const running = kubectl.run(['debug', pod, '--image=busybox:1.36', '--profile=sysadmin', '--', 'true']);
    const requested = await h.waitForEntry(
      (e) => e.type === 'approval.requested' && String((e.data?.approval as ApprovalRequest | undefined)?.request.summary).includes('ephemeralcontainers'),
      'the approval request for the privileged debug container',
    );
    const approval = requested.data!.approval as ApprovalRequest;
    assert.deepEqual(approval.rules, ['privileged-pods-need-approval']);
    await h.runtime.approvals.deny(approval.id, reviewer, 'no privileged debugging in this window');
    const denied = await running;
    assert.equal(denied.code, 1, denied.stdout);
    assert.match(denied.stderr, new RegExp(`Error from server \\(Forbidden\\): .*approval ${approval.id} was denied by human:reviewer: no privileged debugging in this window`));
    assert.deepEqual(debugContainers().map((c) => c.securityContext?.privileged ?? false), [false], 'no privileged debug container was added');

    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-debug-target', namespace: 'kube-system' }, spec: { securityContext: {}, containers: [{ name: 'coredns', image: 'coredns:1.11' }] } });
    const system = await kubectl.run(['debug', '-n', 'kube-system', 'coredns-debug-target', '--image=busybox:1.36', '--profile=general', '--', 'true']);
    assert.equal(system.code, 1, system.stdout);
    assert.match(system.stderr, /Error from server \(Forbidden\): .*no-shell-in-kube-system/);
    // Only the dry run that shows policy the patched pod reached the cluster; it persists nothing.
    const patches = h.fake.received.filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/namespaces/kube-system/'));
    assert.ok(patches.every((r) => r.query.get('dryRun') === 'All'), `only dry runs in kube-system: ${patches.map((r) => r.url).join(', ')}`);
    assert.equal((h.fake.get('pods', 'coredns-debug-target', 'kube-system') as { spec?: { ephemeralContainers?: unknown[] } }).spec?.ephemeralContainers, undefined, 'no debug container in kube-system');
  });

  for (const row of reviewRows) {
    it(`kubectl 1.${row.minor}: a privileged pod by ${row.name} waits for approval; the denial reaches kubectl as Forbidden and is recorded as a review`, { skip: missingKubectl(row.minor) }, async () => {
      const file = join(dir, `${row.pod}-${row.minor}.yaml`);
      writeFileSync(file, privilegedPodYaml(row.pod));
      const before = row.pod === PATCHED_POD ? JSON.stringify(h.fake.get('pods', row.pod, 'default')) : undefined;
      const running = clients.get(row.minor)!.run(row.args.map((a) => (a === 'FILE' ? file : a)));
      const requested = await h.waitForEntry(
        (e) => e.type === 'approval.requested' && e.data?.approval !== undefined && String((e.data.approval as ApprovalRequest).request.summary).includes(`"${row.pod}"`) && String(e.identity?.subject) === 'agent:refused',
        `the approval request for ${row.pod}`,
      );
      const approval = requested.data!.approval as ApprovalRequest;
      assert.deepEqual(approval.rules, ['privileged-pods-need-approval']);
      await h.runtime.approvals.deny(approval.id, reviewer, 'not through this change window');
      const result = await running;
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, new RegExp(`Error from server \\(Forbidden\\): .*approval ${approval.id} was denied by human:reviewer: not through this change window`));

      // Only dry-runs (which persist nothing: policy's view of a patch, the approver's preview) reached the cluster.
      const writes = h.fake.received.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && r.path.startsWith('/api/v1/namespaces/default/pods') && (r.path.endsWith(`/${row.pod}`) || r.body.includes(Buffer.from(row.pod))));
      assert.ok(writes.every((r) => r.query.get('dryRun') === 'All'), `only dry-runs reached the cluster: ${writes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
      if (before === undefined) assert.equal(h.fake.get('pods', row.pod, 'default'), undefined, 'the pod was not created');
      else assert.equal(JSON.stringify(h.fake.get('pods', row.pod, 'default')), before, 'the pod is unchanged');
      assert.equal((approval.request.preview?.object as { spec?: { containers?: Array<{ securityContext?: { privileged?: boolean } }> } }).spec?.containers?.some((c) => c.securityContext?.privileged), true, 'the approver saw the privileged container in the dry run');

      const entries = await h.entries();
      const recorded = entries.find((e) => e.type === 'request' && (e.data?.approval as { id?: string } | undefined)?.id === approval.id && e.data?.reason === 'approval-denied');
      assert.ok(recorded, 'the denied request is recorded');
      assert.equal(recorded.decision?.effect, 'review');
      assert.deepEqual(recorded.decision?.rules, ['privileged-pods-need-approval']);
      assert.equal(recorded.data?.outcome, 'refused');
      assert.equal(recorded.data?.status, 403);
    });
  }
});
