/**
 * Cluster credentials that are not Secrets: `kubectl create token` asks the cluster to mint a
 * service-account token (TokenRequest). Handed over, it would let the agent reach the cluster
 * without airlock, so the agent gets a placeholder; a break-glass rule (`unmask: [secrets]`)
 * may hand the real token to a person. Either way the ledger never holds a minted token: not in
 * the answer, and not in the dry run airlock asks for to read a protobuf body.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultPolicySource } from '../../../src/policy/index.js';
import { FAKE_SA_TOKEN_PREFIX } from '../../fixtures/fake-apiserver/token-request.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

const policy = `${defaultPolicySource.trimEnd()}
  - name: break-glass-tokens
    match: request.resource == "serviceaccounts" && has(request.subresource) && request.subresource == "token" && "breakglass" in identity.groups
    effect: allow
    message: break-glass service-account token
    unmask: [secrets]
`;

describe('service-account tokens minted through airlock', () => {
  let h: GatewayHarness;
  let dir: string;
  before(async () => {
    h = await startGatewayHarness({ policy });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-tokens-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = async (minor: number, subject: string, groups: string[]) =>
    kubectlClient(minor, { home: mkdtempSync(join(dir, 'home-')), kubeconfig: await h.writeKubeconfig(dir, { subject, groups }) })!;

  for (const [minor, body] of [[33, 'protobuf'], [27, 'JSON']] as const) {
    it(`kubectl 1.${minor}: create token (${body} body) prints a placeholder; the cluster minted a token the agent never sees`, { skip: missingKubectl(minor) }, async () => {
      const result = await (await kubectl(minor, `agent:token-${minor}`, ['ci'])).run(['create', 'token', 'default', '--duration=10m']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.trim(), /^airlock-masked:[0-9a-f]{12}$/);
      const minted = h.fake.received.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/serviceaccounts/default/token' && r.query.get('dryRun') === null);
      assert.equal(minted.length > 0, true, 'the cluster was asked to mint a token');
    });
  }

  it('kubectl 1.33: a break-glass caller gets the real token; the ledger still records only the placeholder', { skip: missingKubectl(33) }, async () => {
    const result = await (await kubectl(33, 'user:alice', ['breakglass'])).run(['create', 'token', 'default', '--duration=10m']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.startsWith(FAKE_SA_TOKEN_PREFIX), result.stdout);
    const entries = await h.entries();
    const granted = entries.find((e) => e.type === 'request' && e.identity?.subject === 'user:alice' && e.action?.subresource === 'token');
    assert.deepEqual(granted?.decision?.unmasked, ['secrets']);
  });

  it('no minted token is in any ledger entry or in the ledger files', async () => {
    // Last in this describe (its tests run in order): the tokens above are minted by now.
    const token = await h.mintToken('agent:late', ['ci']);
    const res = await h.request(`/k8s/${h.connection}/api/v1/namespaces/default/serviceaccounts/default/token`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } }),
    });
    assert.equal(res.status, 201, res.body);
    assert.match(JSON.parse(res.body).status.token, /^airlock-masked:[0-9a-f]{12}$/);
    const text = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1') + readFileSync(`${h.ledgerFile}-wal`).toString('latin1');
    assert.ok(text.includes('airlock-masked:'), 'the ledger records the placeholder');
    assert.ok(!text.includes(FAKE_SA_TOKEN_PREFIX), 'no minted token in the ledger');
  });
});
