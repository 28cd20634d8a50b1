/**
 * Reloading the policy while airlock runs: a rewritten policy file decides the next request,
 * recorded as `policy.loaded` (and `masking.loaded`) with reason `reload`; a broken file is
 * refused with its line and the policy in force stays; the same policy again records nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { compilePolicy } from '../../../src/policy/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';

const open = `default: allow
rules:
  - name: no-kube-system-deletes
    match: request.verb == "delete" && request.namespace == "kube-system"
    effect: deny
    message: kube-system is not for agents
`;
const noPods = `${open}  - name: no-pod-reads
    match: request.resource == "pods" && request.verb in ["get", "list", "watch"]
    effect: deny
    message: pods are off limits for now
`;
// Line 8 refers to a field that does not exist.
const broken = `${open}  - name: typo
    match: reqest.verb == "get"
    effect: deny
    message: never compiles
`;
const noSecrets = `${open}  - name: no-secret-reads
    match: request.resource == "secrets"
    effect: deny
    message: secrets are off limits
`;
const hashOf = (source: string) => compilePolicy(source).policyHash;
const isReload = (hash: string) => (e: LedgerEntry) => e.type === 'policy.loaded' && e.data?.reason === 'reload' && e.data?.hash === hash;

describe('reloading the policy file', () => {
  let h: GatewayHarness;
  let file: string;
  let token: string;
  before(async () => {
    h = await startGatewayHarness({ policy: open });
    assert.ok(h.policyFile);
    file = h.policyFile;
    token = await h.mintToken('agent:reload', ['ci']);
  });
  after(() => h?.close());
  const pods = () => h.request(`/k8s/${h.connection}/api/v1/namespaces/default/pods`, { token });

  it('a rewritten policy decides the next request, without a restart, and is recorded with its source', async () => {
    assert.equal((await pods()).status, 200);
    writeFileSync(file, noPods);
    const loaded = await h.waitForEntry(isReload(hashOf(noPods)), 'the reloaded policy');
    assert.equal(loaded.data?.source, noPods);
    assert.equal(loaded.data?.file, file);

    const refused = await pods();
    assert.equal(refused.status, 403);
    assert.match(JSON.parse(refused.body).message, /rule no-pod-reads.*pods are off limits for now/);

    const entries = await h.entries();
    const masking = entries.filter((e) => e.type === 'masking.loaded').map((e) => e.data?.reason);
    assert.deepEqual(masking, ['start', 'reload']);
    const request = entries.filter((e) => e.type === 'request' && e.action?.resource === 'pods').at(-1);
    assert.deepEqual(request?.decision?.rules, ['no-pod-reads']);
    assert.ok((request?.seq ?? 0) > loaded.seq, 'the policy is recorded before the request it decided');
  });

  it('a broken file is refused with its line, recorded, and the policy in force stays', async () => {
    writeFileSync(file, broken);
    const refusal = await h.waitForEntry((e) => e.type === 'system' && e.data?.event === 'policy.reload-refused', 'the refused reload');
    assert.equal(refusal.data?.file, file);
    assert.match(String(refusal.data?.error), new RegExp(`${file}:8:\\d+: rule "typo"`));
    assert.equal(h.runtime.policy().policyHash, hashOf(noPods));
    assert.equal((await pods()).status, 403, 'the previous policy still decides');

    // Asked directly (as SIGHUP does), the answer names the same problem.
    const result = await h.runtime.reload();
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', new RegExp(`${file}:8:\\d+: rule "typo"`));
  });

  it('the same policy again records nothing', async () => {
    writeFileSync(file, noPods);
    assert.deepEqual(await h.runtime.reload(), { ok: true, hash: hashOf(noPods) });
    // A later, different policy is the event that shows what was recorded in between.
    writeFileSync(file, noSecrets);
    await h.waitForEntry(isReload(hashOf(noSecrets)), 'the next policy');
    const reloads = (await h.entries()).filter((e) => (e.type === 'policy.loaded' || e.type === 'masking.loaded') && e.data?.reason === 'reload');
    assert.deepEqual(
      reloads.map((e) => [e.type, e.type === 'policy.loaded' ? e.data?.hash : '']),
      [
        ['policy.loaded', hashOf(noPods)],
        ['masking.loaded', ''],
        ['policy.loaded', hashOf(noSecrets)],
        ['masking.loaded', ''],
      ],
    );
    assert.equal((await pods()).status, 200, 'pods are readable again under the newest policy');

    const metrics = await (await fetch(`${h.runtime.adminUrl}/metrics`)).text();
    assert.match(metrics, /^airlock_policy_reloads_total\{result="refused"\} [1-9]\d*$/m);
    assert.match(metrics, /^airlock_policy_reloads_total\{result="ok"\} [1-9]\d*$/m);
  });
});

describe('reloading with the embedded default policy', () => {
  it('has nothing to read and records nothing', async (t) => {
    const h = await startGatewayHarness();
    t.after(() => h.close());
    assert.equal(h.policyFile, undefined);
    const result = await h.runtime.reload();
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /embedded default policy/);
    const loads = (await h.entries()).filter((e) => e.type === 'policy.loaded' || e.type === 'masking.loaded' || e.data?.event === 'policy.reload-refused');
    assert.deepEqual(loads.map((e) => e.data?.reason), ['start', 'start']);
  });
});
