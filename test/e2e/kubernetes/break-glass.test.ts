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
