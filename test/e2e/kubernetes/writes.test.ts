/**
 * Writes through airlock with real kubectl: `apply -f` of an ordinary manifest reaches the
 * cluster; a masked Secret can never be written back. `replace -f` or `apply -f` of what
 * `get -o yaml` printed, and an `edit` that carries a placeholder back (a renamed key keeps
 * its masked value), are refused with a 400 that names the placeholders, and the cluster's
 * value stays as it was. An `edit` that changes one value sends only that key, with the
 * value the user typed, so it passes and the other keys keep their real values.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEEDED_SECRET_VALUES } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

interface SecretLike {
  data?: Record<string, string>;
}

const MANIFEST = (suffix: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api-${suffix}, labels: {app: api}}
spec:
  replicas: 1
  selector: {matchLabels: {app: api-${suffix}}}
  template:
    metadata: {labels: {app: api-${suffix}}}
    spec:
      containers: [{name: api, image: "registry.example/api:1.0"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config-${suffix}}
data: {mode: blue}
`;

/**
 * The KUBE_EDITOR script: AIRLOCK_E2E_EDIT=value replaces the value of `username`;
 * AIRLOCK_E2E_EDIT=rename renames the key `username` to `login`, keeping its (masked) value.
 */
const EDIT_SCRIPT = `import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const edited = process.env.AIRLOCK_E2E_EDIT === 'rename'
  ? text.replace(/^(\\s+)username:/m, '$1login:')
  : text.replace(/^(\\s+username: ).*$/m, '$1' + process.env.AIRLOCK_E2E_NEW_VALUE);
if (edited === text) { console.error('the editor script found nothing to change'); process.exit(1); }
writeFileSync(file, edited);
`;

describe('writes through airlock with real kubectl', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  let editor: string;
  const clients = new Map<number, KubectlClient>();

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-writes-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:writer', groups: ['ci'] });
    for (const minor of kubectlMinors) {
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) clients.set(minor, client);
    }
    writeFileSync(join(dir, 'edit.mjs'), EDIT_SCRIPT);
    editor = join(dir, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'edit.mjs')}" "$1"\n`);
    chmodSync(editor, 0o755);
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A Secret of its own per test, read through airlock (masked) and written in clear to the cluster. */
  function seedSecret(name: string): Record<string, string> {
    const data = { username: b64(SEEDED_SECRET_VALUES.username), password: b64(SEEDED_SECRET_VALUES.password) };
    h.fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'Opaque', data });
    return data;
  }

  const storedData = (name: string) => (h.fake.get('secrets', name, 'default') as SecretLike | undefined)?.data;

  it('kubectl 1.33: create deployment sends a protobuf Deployment; airlock decides and records the JSON object the cluster reads from it', { skip: missingKubectl(33) }, async () => {
    const created = await clients.get(33)!.run(['create', 'deployment', 'typed-web', '--image=registry.example/web:1.0', '--port=8080', '--replicas=2']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /deployment.apps\/typed-web created/);
    const stored = h.fake.get('deployments.apps', 'typed-web', 'default') as { spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string; ports?: unknown }> } } } } | undefined;
    assert.equal(stored?.spec?.replicas, 2);
    assert.deepEqual(stored?.spec?.template?.spec?.containers?.map((c) => [c.image, c.ports]), [['registry.example/web:1.0', [{ containerPort: 8080 }]]]);
    // A protobuf body is read through the cluster's dry run of the same request, then forwarded as sent.
    const posts = h.fake.received.filter((r) => r.method === 'POST' && r.path === '/apis/apps/v1/namespaces/default/deployments' && r.body.includes(Buffer.from('typed-web')));
    assert.deepEqual(posts.map((r) => `${r.query.get('dryRun') ?? 'real'} ${r.headers['content-type']?.[0]}`), ['All application/vnd.kubernetes.protobuf', 'real application/vnd.kubernetes.protobuf']);
    const request = (await h.entries()).findLast((e) => e.type === 'request' && e.action?.resource === 'deployments' && e.action?.name === undefined && String(e.request?.inline ?? '').includes('typed-web'));
    assert.ok(request, 'the create is recorded with its body');
    const recorded = JSON.parse(String(request.request!.inline)) as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } };
    assert.equal(recorded.kind, 'Deployment', 'recorded as the JSON object, not protobuf bytes');
    assert.equal(recorded.spec?.template?.spec?.containers?.[0]?.image, 'registry.example/web:1.0');
  });

  for (const minor of kubectlMinors) {
    it(`kubectl 1.${minor}: apply -f of a manifest creates its objects in the cluster`, { skip: missingKubectl(minor) }, async () => {
      const file = join(dir, `manifest-${minor}.yaml`);
      writeFileSync(file, MANIFEST(String(minor)));
      const applied = await clients.get(minor)!.run(['apply', '-f', file]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, new RegExp(`deployment.apps/api-${minor} created`));
      assert.match(applied.stdout, new RegExp(`configmap/api-config-${minor} created`));
      assert.ok(h.fake.get('deployments.apps', `api-${minor}`, 'default'), 'the Deployment is in the cluster');
      assert.deepEqual((h.fake.get('configmaps', `api-config-${minor}`, 'default') as { data?: unknown } | undefined)?.data, { mode: 'blue' });
    });

    it(`kubectl 1.${minor}: replace -f and apply -f of get -o yaml output are refused (400, placeholders), the cluster unchanged`, { skip: missingKubectl(minor) }, async () => {
      const kubectl = clients.get(minor)!;
      const name = `replace-me-${minor}`;
      const original = seedSecret(name);
      const read = await kubectl.run(['get', 'secret', name, '-o', 'yaml']);
      assert.equal(read.code, 0, read.stderr);
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, read.stdout);
      const [replaced, applied] = await Promise.all([kubectl.run(['replace', '-f', file]), kubectl.run(['apply', '-f', file])]);
      for (const [verb, result] of [['replace', replaced], ['apply', applied]] as const) {
        assert.equal(result.code, 1, `${verb}: ${result.stdout}`);
        assert.match(result.stderr, /Error from server \(BadRequest\)/, verb);
        assert.match(result.stderr, /read through airlock with masked values; write the real values explicitly: masked placeholders/, verb);
      }
      assert.deepEqual(storedData(name), original);
    });

    it(`kubectl 1.${minor}: edit that renames a masked key is refused (400, placeholders), the cluster unchanged`, { skip: missingKubectl(minor) }, async () => {
      const name = `edit-rename-${minor}`;
      const original = seedSecret(name);
      const edited = await clients.get(minor)!.run(['edit', 'secret', name], { env: { KUBE_EDITOR: editor, AIRLOCK_E2E_EDIT: 'rename' } });
      assert.equal(edited.code, 1, edited.stdout);
      assert.match(edited.stderr, /read through airlock with masked values; write the real values explicitly: masked placeholders or the airlock\.dev\/masked marker at \$\.data\.login/);
      assert.deepEqual(storedData(name), original);
    });
  }

  for (const minor of [27, 33]) {
    it(`kubectl 1.${minor}: edit that changes one value sends only that key; the others keep their real values`, { skip: missingKubectl(minor) }, async () => {
      const name = `edit-value-${minor}`;
      const original = seedSecret(name);
      const value = b64(`new-user-${minor}`);
      const edited = await clients.get(minor)!.run(['edit', 'secret', name], { env: { KUBE_EDITOR: editor, AIRLOCK_E2E_EDIT: 'value', AIRLOCK_E2E_NEW_VALUE: value } });
      assert.equal(edited.code, 0, edited.stderr);
      assert.match(edited.stdout, new RegExp(`secret/${name} edited`));
      const patch = h.fake.received.find((r) => r.method === 'PATCH' && r.path.endsWith(`/secrets/${name}`));
      assert.deepEqual(JSON.parse(patch?.body.toString() ?? '{}'), { data: { username: value } });
      assert.deepEqual(storedData(name), { username: value, password: original.password });
    });
  }
});
