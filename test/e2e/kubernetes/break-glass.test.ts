/**
 * Who may see clear Secret values is a policy decision: an allow rule with `unmask: [secrets]`
 * (break-glass). Everyone else reads placeholders. The ledger records which rule granted clear
 * values, and the recorded response is still masked — the clear value never enters the ledger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { defaultPolicySource } from '../../../src/policy/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';

const breakGlass = `${defaultPolicySource.trimEnd()}
  - name: break-glass-secrets
    match: request.resource == "secrets" && "breakglass" in identity.groups && identity.kind == "human"
    effect: allow
    message: break-glass read of Secret values
    unmask: [secrets]
`;

describe('break-glass reads of Secret values', () => {
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness({ policy: breakGlass });
  });
  after(() => h?.close());

  const path = () => `/k8s/${h.connection}/api/v1/namespaces/default/secrets/db-credentials`;
  const password = (body: string) => Buffer.from(JSON.parse(body).data.password, 'base64').toString('utf8');

  it('an agent reads a placeholder; a human in the break-glass group reads the value; both are recorded', async () => {
    const agent = await h.request(path(), { token: await h.mintToken('agent:bot', ['ci']) });
    assert.equal(agent.status, 200);
    assert.match(password(agent.body), /^airlock-masked:[0-9a-f]{12}$/);

    const human = await h.request(path(), { token: await h.mintToken('user:alice', ['breakglass']) });
    assert.equal(human.status, 200);
    assert.equal(password(human.body), 'fake-password-not-a-secret');

    const entries = await h.entries();
    const granted = entries.find((e) => e.type === 'request' && e.identity?.subject === 'user:alice' && e.action?.resource === 'secrets');
    assert.deepEqual(granted?.decision?.rules, ['break-glass-secrets']);
    assert.deepEqual(granted?.decision?.unmasked, ['secrets']);
    const refused = entries.find((e) => e.type === 'request' && e.identity?.subject === 'agent:bot' && e.action?.resource === 'secrets');
    assert.equal(refused?.decision?.unmasked, undefined);
  });
});

// The clear value reached the break-glass caller; the ledger keeps only what it records of the
// response, which is the masked body: assert the file holds no clear value after the run.
describe('the ledger after a break-glass read', () => {
  it('holds no clear Secret value', async () => {
    const h = await startGatewayHarness({ policy: breakGlass });
    try {
      const res = await h.request(`/k8s/${h.connection}/api/v1/namespaces/default/secrets/db-credentials`, { token: await h.mintToken('user:alice', ['breakglass']) });
      assert.equal(res.status, 200);
      const entries = JSON.stringify(await h.entries());
      const raw = readFileSync(h.ledgerFile).toString('latin1') + readFileSync(`${h.ledgerFile}-wal`).toString('latin1');
      for (const text of [entries, raw]) {
        assert.ok(!text.includes('fake-password-not-a-secret'));
        assert.ok(!text.includes(Buffer.from('fake-password-not-a-secret').toString('base64')));
      }
    } finally {
      await h.close();
    }
  });
});

// The Helm recipe of docs/kubernetes.md: Helm keeps each release (with the chart's values) in a
// Secret labelled owner=helm and named sh.helm.release.v1.<release>.v<revision>; masked, Helm
// cannot read its own records. The recipe unmasks exactly those reads, for the deployers.
const helmRecipe = `${defaultPolicySource.trimEnd()}
  - name: helm-reads-its-releases
    match: |
      request.resource == "secrets" && "deployers" in identity.groups
      && ((request.verb in ["list", "watch"] && has(request.labelSelector) && request.labelSelector.matches("(^|,)owner=helm(,|$)"))
        || (request.verb == "get" && has(request.name) && request.name.startsWith("sh.helm.release.v1.")))
    effect: allow
    message: Helm reads its release records
    unmask: [secrets]
`;

describe('the Helm recipe: Helm reads its release Secrets in the clear, nothing else is unmasked', () => {
  let h: GatewayHarness;
  const release = Buffer.from('H4sIAAAAAAAA/helm-release-record-for-the-test').toString('base64');
  before(async () => {
    h = await startGatewayHarness({ policy: helmRecipe });
    h.fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'helm.sh/release.v1',
      metadata: { name: 'sh.helm.release.v1.web.v1', namespace: 'default', labels: { owner: 'helm', name: 'web', status: 'deployed', version: '1' } },
      data: { release },
    });
    h.fake.put({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'lookalike', namespace: 'default', labels: { notowner: 'helm' } }, data: { release } });
  });
  after(() => h?.close());

  const secrets = (query: string) => `/k8s/${h.connection}/api/v1/namespaces/default/secrets${query}`;
  const values = (body: string): string[] => {
    const doc = JSON.parse(body) as { items?: Array<{ data?: Record<string, string> }>; data?: Record<string, string> };
    return (doc.items ?? [doc]).flatMap((s) => Object.values(s.data ?? {}));
  };

  it('a deployer lists (owner=helm) and gets (sh.helm.release.v1.*) release records in the clear', async () => {
    const token = await h.mintToken('agent:helm', ['deployers']);
    const listed = await h.request(secrets('?labelSelector=owner%3Dhelm%2Cname%3Dweb'), { token });
    assert.equal(listed.status, 200, listed.body);
    assert.deepEqual(values(listed.body), [release]);
    const got = await h.request(secrets('/sh.helm.release.v1.web.v1'), { token });
    assert.deepEqual(values(got.body), [release]);
    const granted = (await h.entries()).filter((e) => e.type === 'request' && e.identity?.subject === 'agent:helm');
    assert.ok(granted.every((e) => e.decision?.rules?.includes('helm-reads-its-releases') && e.decision.unmasked?.includes('secrets')));
  });

  it('other Secrets, look-alike selectors and other callers stay masked', async () => {
    const deployer = await h.mintToken('agent:helm', ['deployers']);
    const masked = (body: string) => values(body).every((v) => /^airlock-masked:[0-9a-f]{12}$/.test(Buffer.from(v, 'base64').toString('utf8')));
    for (const [what, path, token] of [
      ['a Secret that is not a release', secrets('/db-credentials'), deployer],
      ['a selector that only contains owner=helm', secrets('?labelSelector=notowner%3Dhelm'), deployer],
      ['an unfiltered list', secrets(''), deployer],
      ['a caller outside the deployers', secrets('?labelSelector=owner%3Dhelm'), await h.mintToken('agent:bot', ['ci'])],
    ] as const) {
      const res = await h.request(path, { token });
      assert.equal(res.status, 200, `${what}: ${res.body}`);
      assert.ok(values(res.body).length > 0 && masked(res.body), `${what}: masked`);
    }
  });
});
