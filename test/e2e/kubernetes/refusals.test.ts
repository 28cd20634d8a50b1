/**
 * Policy refusals as real kubectl meets them, with the default policy: a denied request is
 * answered as a Kubernetes Status that kubectl prints as `Error from server (Forbidden): …`
 * naming the rule, and nothing of it reaches the cluster; `--as` is refused before anything
 * else; a privileged pod — however it is written (create, apply, server-side apply, a
 * strategic-merge patch) — is caught by the object-aware `review` rule and refused with
 * "requires approval", recorded as a review.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const PATCHED_POD = 'web-7d4b9c6f5-k2x8p';

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
  /** Whether a dry-run of the request reaches the cluster (patches need one to see the resulting object). */
  dryRun: boolean;
}

const reviewRows: ReviewRow[] = [
  { name: 'create -f (JSON body)', minor: 27, args: ['create', '-f', 'FILE'], pod: 'priv-create-127', dryRun: false },
  { name: 'create -f (JSON body)', minor: 33, args: ['create', '-f', 'FILE'], pod: 'priv-create-133', dryRun: false },
  { name: 'apply -f', minor: 30, args: ['apply', '-f', 'FILE'], pod: 'priv-apply-130', dryRun: false },
  { name: 'apply -f', minor: 33, args: ['apply', '-f', 'FILE'], pod: 'priv-apply-133', dryRun: false },
  { name: 'apply --server-side', minor: 27, args: ['apply', '--server-side', '-f', 'FILE'], pod: 'priv-ssa-127', dryRun: true },
  { name: 'apply --server-side', minor: 33, args: ['apply', '--server-side', '-f', 'FILE'], pod: 'priv-ssa-133', dryRun: true },
  {
    name: 'patch (strategic merge adding privileged)',
    minor: 33,
    args: ['patch', 'pod', PATCHED_POD, '-p', JSON.stringify({ spec: { containers: [{ name: 'nginx', securityContext: { privileged: true } }] } })],
    pod: PATCHED_POD,
    dryRun: true,
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

  for (const row of reviewRows) {
    it(`kubectl 1.${row.minor}: a privileged pod by ${row.name} is refused as "requires approval" and recorded as a review`, { skip: missingKubectl(row.minor) }, async () => {
      const file = join(dir, `${row.pod}-${row.minor}.yaml`);
      writeFileSync(file, privilegedPodYaml(row.pod));
      const before = row.pod === PATCHED_POD ? JSON.stringify(h.fake.get('pods', row.pod, 'default')) : undefined;
      const result = await clients.get(row.minor)!.run(row.args.map((a) => (a === 'FILE' ? file : a)));
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /Error from server \(Forbidden\): .*this request requires approval \(rule privileged-pods-need-approval\): privileged pods/);

      // Only a dry-run (which persists nothing) may have reached the cluster.
      const writes = h.fake.received.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && r.path.startsWith('/api/v1/namespaces/default/pods') && (r.path.endsWith(`/${row.pod}`) || r.body.includes(Buffer.from(row.pod))));
      assert.ok(writes.every((r) => r.query.get('dryRun') === 'All'), `only dry-runs reached the cluster: ${writes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
      assert.equal(writes.length > 0, row.dryRun, row.dryRun ? 'the object was resolved by a dry-run' : 'no dry-run was needed');
      if (before === undefined) assert.equal(h.fake.get('pods', row.pod, 'default'), undefined, 'the pod was not created');
      else assert.equal(JSON.stringify(h.fake.get('pods', row.pod, 'default')), before, 'the pod is unchanged');

      const entries = await h.entries();
      const recorded = entries.find((e) => e.type === 'request' && e.action?.resource === 'pods' && (e.action.name === row.pod || Boolean(e.request?.inline?.includes(`"name":"${row.pod}"`))) && e.decision?.effect === 'review' && String(e.data?.userAgent).includes(`/v1.${row.minor}.`));
      assert.ok(recorded, 'the review is recorded');
      assert.deepEqual(recorded.decision?.rules, ['privileged-pods-need-approval']);
      assert.equal(recorded.data?.outcome, 'refused');
      assert.equal(recorded.data?.reason, 'approval-required');
      assert.equal(recorded.data?.status, 403);
    });
  }
});
