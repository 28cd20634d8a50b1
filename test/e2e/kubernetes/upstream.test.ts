/**
 * What the cluster sees of a request that came through airlock: airlock's own credential
 * (never the caller's token), the caller as Impersonate-User/-Group (so `kubectl auth whoami`
 * names the agent), an Audit-ID equal to the request's ledger entry id, and — on resource
 * requests — an Accept rewritten to JSON, so airlock can read and mask what comes back, while
 * discovery keeps its own media types.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprint, type RecordedRequest } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl } from '../../support/kubectl.js';

const PROTOBUF_FIRST = 'application/vnd.kubernetes.protobuf,application/json';

/** isResourcePath: /api/v1/… or /apis/<group>/<version>/… (discovery roots excluded). */
function isResourcePath(path: string): boolean {
  return /^\/api\/v1\/.+/.test(path) || /^\/apis\/[^/]+\/[^/]+\/.+/.test(path);
}

describe('what the cluster receives from airlock', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-upstream-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** asSubject: the requests the cluster received on behalf of one subject. */
  const asSubject = (subject: string): RecordedRequest[] => h.fake.received.filter((r) => r.headers['impersonate-user']?.[0] === subject);

  for (const minor of kubectlMinors) {
    it(`kubectl 1.${minor}: auth whoami shows the impersonated agent and its groups`, { skip: missingKubectl(minor) }, async () => {
      const subject = `agent:whoami-${minor}`;
      const kubeconfig = await h.writeKubeconfig(dir, { subject, groups: ['ci', 'readers'] });
      const result = await kubectlClient(minor, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!.run(['auth', 'whoami']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Username\\s+${subject}$`, 'm'));
      assert.match(result.stdout, /^Groups\s+\[ci readers system:authenticated\]$/m);
    });
  }

  it('kubectl 1.33: a caller and groups named outside ASCII reach the cluster as named (UTF-8, as client-go sends them)', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:josé';
    const kubeconfig = await h.writeKubeconfig(dir, { subject, groups: ['équipe-日本', 'ops'] });
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    const whoami = await kubectl.run(['auth', 'whoami', '-o', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.deepEqual(JSON.parse(whoami.stdout).status.userInfo, { username: subject, groups: ['équipe-日本', 'ops', 'system:authenticated'] });
    const pods = await kubectl.run(['get', 'pods']);
    assert.equal(pods.code, 0, pods.stderr);
    // On the wire: the UTF-8 bytes of each name (Node shows them to the fake as Latin-1 characters).
    const wire = h.fake.received.filter((r) => r.headers['impersonate-user']?.[0] === Buffer.from(subject).toString('latin1'));
    assert.ok(wire.length >= 2, 'both requests arrived as the caller');
    assert.deepEqual(wire[0]!.headers['impersonate-group'], [Buffer.from('équipe-日本').toString('latin1'), 'ops']);
  });

  it('kubectl 1.33: the cluster gets airlock\'s credential, the caller\'s impersonation, and Audit-IDs that are ledger entry ids', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:upstream-headers';
    const token = await h.mintToken(subject, ['ci', 'ops']);
    const kubeconfig = await h.writeKubeconfig(dir, { subject, token });
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    // describe and create secret use the typed client: protobuf Accept, protobuf body.
    for (const args of [['get', 'pods'], ['describe', 'secret', 'db-credentials'], ['create', 'configmap', 'upstream-headers', '--from-literal=a=b']]) {
      const result = await kubectl.run(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }

    const received = asSubject(subject);
    assert.ok(received.length >= 5, `requests received: ${received.map((r) => r.url).join(', ')}`);
    const entries = await h.entries();
    const byId = new Map(entries.map((e) => [e.id, e]));
    for (const r of received) {
      const what = `${r.method} ${r.url}`;
      assert.equal(r.authorization?.isAdminToken, true, `${what}: airlock's own credential`);
      assert.notEqual(r.authorization?.credentialSha256, fingerprint(token), `${what}: never the caller's token`);
      assert.deepEqual(r.headers['impersonate-group'], ['ci', 'ops'], what);
      assert.deepEqual(Object.keys(r.headers).filter((k) => k.startsWith('impersonate-')).sort(), ['impersonate-group', 'impersonate-user'], what);
      const auditId = r.headers['audit-id']?.[0] ?? '';
      // A dry-run (resolving a protobuf body) carries the id of the request it serves.
      const entry = byId.get(auditId.replace(/-dry-run$/, ''));
      assert.ok(entry, `${what}: Audit-ID ${auditId} is a ledger entry id`);
      assert.equal(entry.type, 'request', what);
      assert.equal(entry.identity?.subject, subject, what);
      assert.equal(entry.data?.target, r.url.replace(/[?&]dryRun=All$/, ''), what);
    }
    assert.ok(received.some((r) => r.headers['audit-id']?.[0]?.endsWith('-dry-run')), 'the protobuf create was resolved by a dry-run');
  });

  it('kubectl 1.33: resource requests reach the cluster asking for JSON only, discovery keeps its media types', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:upstream-accept';
    const kubeconfig = await h.writeKubeconfig(dir, { subject });
    const result = await kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!.run(['describe', 'secret', 'db-credentials']);
    assert.equal(result.code, 0, result.stderr);
    const received = asSubject(subject);
    const resources = received.filter((r) => isResourcePath(r.path));
    assert.ok(resources.some((r) => r.path === '/api/v1/namespaces/default/secrets/db-credentials'), 'the typed GET of describe reached the cluster');
    for (const r of resources) assert.doesNotMatch(r.headers.accept?.[0] ?? '', /protobuf/, `${r.method} ${r.url}`);
    const discovery = received.filter((r) => r.path === '/api' || r.path === '/apis');
    assert.ok(discovery.length > 0, 'discovery went through airlock');
    for (const r of discovery) assert.match(r.headers.accept?.[0] ?? '', /apidiscovery\.k8s\.io/, `${r.url} keeps the aggregated discovery Accept`);
  });

  it('front-proxy identity headers a caller sends (X-Remote-User, -Group, -Extra-*) never reach the cluster', async () => {
    const subject = 'agent:upstream-remote-user';
    const token = await h.mintToken(subject);
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps/app-config', {
      token,
      headers: { 'x-remote-user': 'system:admin', 'x-remote-group': 'system:masters', 'x-remote-extra-scopes': 'all' },
    });
    assert.equal(res.status, 200, res.body);
    const [upstream] = asSubject(subject);
    assert.ok(upstream, 'the request reached the cluster as the caller');
    assert.deepEqual(Object.keys(upstream.headers).filter((k) => k.startsWith('x-remote-')), []);
  });

  it('a protobuf-first Accept on a resource request is rewritten to JSON upstream', async () => {
    const subject = 'agent:upstream-raw-accept';
    const token = await h.mintToken(subject);
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps/app-config', { token, headers: { accept: PROTOBUF_FIRST } });
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const [upstream] = asSubject(subject);
    assert.equal(upstream?.headers.accept?.[0], 'application/json');
    assert.equal(upstream?.headers['audit-id']?.[0], res.headers['audit-id']);
  });
});
