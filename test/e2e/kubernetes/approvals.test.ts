/**
 * Just-in-time approvals end to end, with real kubectl 1.33 and the `airlock approvals` CLI:
 * a privileged pod is held until a second identity approves it and kubectl's own retry
 * succeeds; a denial reaches kubectl as Forbidden with the reason; self-approval, approval by
 * an agent or by someone without the role are refused; a grant serves only its identity and
 * request, once, within its TTL; a two-approver rule needs two; an expired request cannot be
 * approved; every step is in the ledger, in order; a webhook receiver gets signed notifications.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../../src/review/notify/index.js';
import type { ApprovalRequest } from '../../../src/review/types.js';
import { runCli } from '../../support/cli.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';
import { reviewPolicy } from '../../support/review-policy.js';

const POLICY = reviewPolicy(`    approvers: [group:sre]
  - name: network-policies-need-two
    match: request.resource == "networkpolicies" && request.verb == "create"
    effect: review
    message: network policy changes need two approvals
    approvers: [group:sre]
    approvals: 2
  - name: shells-in-payments
    match: has(request.subresource) && request.subresource == "exec" && has(request.namespace) && request.namespace == "payments"
    effect: review
    message: a shell in payments needs an approval
    approvers: [group:sre]
    window: 30m
  - name: shells-in-scratch
    match: has(request.subresource) && request.subresource == "exec" && has(request.namespace) && request.namespace == "scratch"
    effect: review
    message: a shell in scratch needs an approval
    window: 3s
`);

const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';

function privilegedPod(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'debug', image: 'busybox:1.36', securityContext: { privileged: true } }] },
  });
}

function networkPolicy(name: string): string {
  return JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec: { podSelector: {} } });
}

describe('approvals through airlock', { concurrency: true }, () => {
  let h: GatewayHarness;
  let short: GatewayHarness;
  let dir: string;
  let kubectl: KubectlClient;
  let receiver: Server;
  const deliveries: Array<{ ok: boolean; reason?: string; event?: string; approvalId?: string; tamperedOk: boolean }> = [];
  const tokens: Record<string, string> = {};

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const verdict = verifySignature({ secret: WEBHOOK_SECRET, body, header: req.headers['airlock-signature'] });
        // The same delivery with one byte changed must not verify.
        const tampered = Buffer.from(body);
        tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
        const tamperedOk = verifySignature({ secret: WEBHOOK_SECRET, body: tampered, header: req.headers['airlock-signature'] }).ok;
        const payload = verdict.ok ? (JSON.parse(body.toString('utf8')) as { event: string; approval: ApprovalRequest }) : undefined;
        deliveries.push({ ok: verdict.ok, ...(verdict.ok ? {} : { reason: verdict.reason }), event: payload?.event, approvalId: payload?.approval.id, tamperedOk });
        res.writeHead(verdict.ok ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const webhook = { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/airlock`, secret: WEBHOOK_SECRET };
    [h, short] = await Promise.all([
      startGatewayHarness({ policy: POLICY, review: { holdTimeout: '2s', retryAfter: '1s', notify: { webhooks: [webhook] } } }),
      startGatewayHarness({ policy: POLICY, review: { holdTimeout: '1s', requestTtl: '2s', grantTtl: '2s' } }),
    ]);
    for (const ns of ['payments', 'scratch']) h.fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tmp-0', namespace: 'scratch' }, spec: { containers: [{ name: 'sh', image: 'busybox:1.36' }] }, status: { phase: 'Running' } });
    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ledger-api-0', namespace: 'payments' }, spec: { containers: [{ name: 'api', image: 'ledger-api:3' }] }, status: { phase: 'Running' } });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-approvals-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:deployer', groups: ['ci'] });
    kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    for (const [name, harness, subject, groups] of [
      ['sam', h, 'human:sam', ['sre', 'airlock:approvers']],
      ['ria', h, 'human:ria', ['sre', 'airlock:approvers']],
      ['eve', h, 'human:eve', ['sre']],
      ['bot', h, 'agent:reviewer-bot', ['sre', 'airlock:approvers']],
      ['agent', h, 'agent:deployer', ['ci']],
      ['shortSam', short, 'human:sam', ['sre', 'airlock:approvers']],
    ] as const) {
      tokens[name] = join(dir, `${name}.token`);
      writeFileSync(tokens[name]!, await harness.mintToken(subject, [...groups]));
    }
  });
  after(async () => {
    await Promise.all([h?.close(), short?.close()]);
    receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (harness: GatewayHarness, who: string, args: string[]) => runCli(['approvals', ...args, '--server', harness.runtime.adminUrl, '--token-file', tokens[who]!]);

  /** requested waits for the approval request a matching entry opened. */
  async function requested(harness: GatewayHarness, summary: RegExp): Promise<ApprovalRequest> {
    const entry = await harness.waitForEntry((e) => e.type === 'approval.requested' && summary.test(String((e.data?.approval as ApprovalRequest | undefined)?.request.summary)), `an approval request for ${summary}`);
    return entry.data!.approval as ApprovalRequest;
  }

  const post = (harness: GatewayHarness, token: string, path: string, body: string) =>
    harness.request(`/k8s/${harness.connection}${path}`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body });

  it('kubectl create of a privileged pod is held; approved by another person, kubectl\'s own retry succeeds; all of it in the ledger, in order', { skip: missingKubectl(33) }, async () => {
    writeFileSync(join(dir, 'priv.json'), privilegedPod('priv-debug'));
    const created = kubectl.run(['create', '-f', join(dir, 'priv.json')]);
    const approval = await requested(h, /create pods "priv-debug" in default/);
    assert.equal(approval.requester.subject, 'agent:deployer');
    assert.deepEqual([approval.approvers, approval.approvalsRequired, approval.rules], [['group:sre'], 1, ['privileged-pods-need-approval']]);
    assert.equal((approval.request.preview?.object as { metadata?: { name?: string } }).metadata?.name, 'priv-debug', 'the approver sees the dry run');

    const shown = await cli(h, 'sam', ['show', approval.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /dry run: what the cluster would store/);
    assert.match(shown.stdout, /requested by {2}agent:deployer/);
    const approved = await cli(h, 'sam', ['approve', approval.id, '--reason', 'debugging the node']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`${approval.id}: approved`));

    const result = await created;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pod\/priv-debug created/);
    assert.ok(h.fake.received.some((r) => r.method === 'POST' && r.path.endsWith('/namespaces/default/pods') && !r.url.includes('dryRun')), 'the create reached the cluster');

    const entries = await h.entries();
    const mine = entries.filter((e) => e.data?.approvalId === approval.id || (e.type === 'request' && (e.data?.approval as { id?: string } | undefined)?.id === approval.id));
    const steps = mine.map((e) => (e.type === 'request' ? `request:${e.data?.outcome}` : e.type)).filter((s, i, all) => s !== all[i - 1]);
    const forwarded = steps.indexOf('request:forwarded');
    assert.deepEqual(
      steps.filter((s) => ['approval.requested', 'approval.approved', 'approval.used', 'request:forwarded'].includes(s)),
      ['approval.requested', 'approval.approved', 'approval.used', 'request:forwarded'],
      steps.join(' → '),
    );
    assert.ok(forwarded > steps.indexOf('approval.used'));
    const approvedEntry = mine.find((e) => e.type === 'approval.approved')!;
    assert.equal(approvedEntry.identity?.subject, 'human:sam');
    assert.equal(approvedEntry.data?.reason, 'debugging the node');
    assert.equal((await h.verify()).ok, true);
  });

  it('a denial reaches kubectl as Forbidden with the approver\'s reason', { skip: missingKubectl(33) }, async () => {
    writeFileSync(join(dir, 'priv2.json'), privilegedPod('priv-denied'));
    const created = kubectl.run(['create', '-f', join(dir, 'priv2.json')]);
    const approval = await requested(h, /create pods "priv-denied"/);
    const denied = await cli(h, 'ria', ['deny', approval.id, '--reason', 'use an ephemeral debug container instead']);
    assert.equal(denied.code, 0, denied.stderr);
    const result = await created;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Forbidden/);
    assert.match(result.stderr, /denied by human:ria: use an ephemeral debug container instead/);
  });

  it('self-approval, approval by an agent, by someone without the role, and by someone the rule does not name are refused', async () => {
    const res = await post(h, await h.mintToken('human:sam', ['sre', 'airlock:approvers']), '/api/v1/namespaces/default/pods', privilegedPod('priv-self'));
    assert.equal(res.status, 429);
    const approval = await requested(h, /create pods "priv-self"/);
    // human:sam asked (as a person this time), so human:sam may not approve.
    const self = await cli(h, 'sam', ['approve', approval.id]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /cannot approve their own request/);
    const bot = await cli(h, 'bot', ['approve', approval.id]);
    assert.match(bot.stderr, /approvers are people/);
    const eve = await cli(h, 'eve', ['approve', approval.id]);
    assert.match(eve.stderr, /does not hold the approver role/);
    const ria = await cli(h, 'ria', ['show', approval.id, '--json']);
    assert.equal((JSON.parse(ria.stdout) as ApprovalRequest).state, 'pending', 'nothing was approved');
  });

  it('a 429 says which approval to ask for; a grant serves its identity and its exact request once, and no other', async () => {
    const agent = await h.mintToken('agent:deployer', ['ci']);
    const first = await post(h, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-once'));
    assert.equal(first.status, 429);
    assert.equal(first.headers['retry-after'], '1');
    const approval = await requested(h, /create pods "priv-once"/);
    assert.match(JSON.parse(first.body).message, new RegExp(`waiting for approval ${approval.id}.*airlock approvals approve ${approval.id}`));
    assert.equal((await cli(h, 'sam', ['approve', approval.id])).code, 0);

    // Another identity, the same request: not covered.
    const other = await post(h, await h.mintToken('agent:someone-else', ['ci']), '/api/v1/namespaces/default/pods', privilegedPod('priv-once'));
    assert.equal(other.status, 429);
    assert.doesNotMatch(JSON.parse(other.body).message, new RegExp(approval.id));
    // The same identity, another request (another pod): not covered.
    const otherRequest = await post(h, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-once-2'));
    assert.equal(otherRequest.status, 429);
    // The approved request: once.
    const used = await post(h, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-once'));
    assert.equal(used.status, 201, used.body);
    const again = await post(h, agent, '/api/v1/namespaces/default/pods?x=1', privilegedPod('priv-once'));
    assert.equal(again.status, 429);
    const replay = await post(h, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-once'));
    assert.notEqual(replay.status, 201, 'a used grant is not used twice');
    const shown = JSON.parse((await cli(h, 'sam', ['show', approval.id, '--json'])).stdout) as ApprovalRequest;
    assert.equal(shown.state, 'used');
  });

  it('a window grant: one approval lets the same caller exec into payments again until the window closes, and no one else', { skip: missingKubectl(33) }, async () => {
    const first = kubectl.run(['exec', '-n', 'payments', 'ledger-api-0', '--', 'echo', 'first-shell']);
    const approval = await requested(h, /exec pods "ledger-api-0" -- echo first-shell in payments/);
    assert.equal(approval.grant.kind, 'window');
    const decided = await h.runtime.approvals.approve(approval.id, { subject: 'human:sam', groups: ['sre', 'airlock:approvers'], issuer: 'https://approvers.example', tokenId: 's', expiresAt: 4102444800, kind: 'human', via: 'test' });
    const windowMs = Date.parse(decided.grant.expiresAt!) - Date.parse(decided.approvals[0]!.at);
    assert.equal(windowMs, 30 * 60_000, 'the grant lasts the rule\'s window');
    const ran = await first;
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'first-shell\n');
    // Another command, the same caller, the same namespace: inside the window, no new approval.
    const second = await kubectl.run(['exec', '-n', 'payments', 'ledger-api-0', '--', 'echo', 'second-shell']);
    assert.equal(second.code, 0, second.stderr);
    const uses = (await h.entries()).filter((e) => e.type === 'approval.used' && e.data?.approvalId === approval.id);
    assert.equal(uses.length, 2, 'each exec records its use of the window');
    assert.ok(uses.every((e) => e.data?.grant === 'window'));
    // Someone else is not covered by it.
    const other = await h.request(`/k8s/${h.connection}/api/v1/namespaces/payments/pods/ledger-api-0/exec?command=id&stdout=true`, { method: 'POST', token: await h.mintToken('agent:other', ['ci']) });
    assert.equal(other.status, 429);
    assert.doesNotMatch(JSON.parse(other.body).message, new RegExp(approval.id));
  });

  it('a shell let in by an approval window ends, with a Status saying why, when the window closes', { skip: missingKubectl(33) }, async () => {
    const child = spawn(kubectl.bin, ['exec', '-i', '-n', 'scratch', 'tmp-0', '--', 'cat'], {
      env: { PATH: process.env.PATH, HOME: kubectl.home, KUBECONFIG: kubectl.kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const echoed = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('still here')) resolve();
      });
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const approval = await requested(h, /exec pods "tmp-0" -- cat in scratch/);
    await h.runtime.approvals.approve(approval.id, { subject: 'human:sam', groups: ['sre', 'airlock:approvers'], issuer: 'https://approvers.example', tokenId: 's', expiresAt: 4102444800, kind: 'human', via: 'test' });
    child.stdin.write('still here\n');
    await echoed;
    const code = await exited;
    assert.notEqual(code, 0);
    assert.match(out, /airlock ended the session: the approval window that allowed it closed/);
    const request = (await h.entries()).findLast((e) => e.type === 'request' && (e.data?.approval as { id?: string } | undefined)?.id === approval.id);
    const end = await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request?.id, 'the end of the session');
    assert.equal((end.data?.limit as { reason?: string } | undefined)?.reason, 'approval-ended');
  });

  it('a two-approver rule needs two different approvers', async () => {
    const agent = await h.mintToken('agent:deployer', ['ci']);
    const path = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';
    assert.equal((await post(h, agent, path, networkPolicy('deny-all'))).status, 429);
    const approval = await requested(h, /create networkpolicies.networking.k8s.io "deny-all"/);
    const one = await cli(h, 'sam', ['approve', approval.id]);
    assert.match(one.stdout, /approval recorded; 1 more needed/);
    const twice = await cli(h, 'sam', ['approve', approval.id]);
    assert.match(twice.stderr, /already approved/);
    assert.equal((await post(h, agent, path, networkPolicy('deny-all'))).status, 429, 'one approval is not enough');
    const two = await cli(h, 'ria', ['approve', approval.id]);
    assert.match(two.stdout, /approved/);
    assert.equal((await post(h, agent, path, networkPolicy('deny-all'))).status, 201);
  });

  it('airlock approvals wait returns when the request is decided', async () => {
    const agent = await h.mintToken('agent:waiter', ['ci']);
    writeFileSync(join(dir, 'waiter.token'), agent);
    assert.equal((await post(h, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-wait'))).status, 429);
    const approval = await requested(h, /create pods "priv-wait"/);
    const waiting = runCli(['approvals', 'wait', approval.id, '--json', '--server', h.runtime.adminUrl, '--token-file', join(dir, 'waiter.token')]);
    await h.waitForEntry((e) => e.type === 'approval.requested' && e.data?.approvalId === approval.id, 'the request');
    assert.equal((await cli(h, 'ria', ['approve', approval.id])).code, 0);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((JSON.parse(waited.stdout) as ApprovalRequest).state, 'approved');
  });

  it('a pending request expires and can no longer be approved; an unused grant lapses after its TTL', async () => {
    const agent = await short.mintToken('agent:deployer', ['ci']);
    assert.equal((await post(short, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-late'))).status, 429);
    const late = await requested(short, /create pods "priv-late"/);
    await short.waitForEntry((e) => e.type === 'approval.expired' && e.data?.approvalId === late.id, 'the expiry');
    const tooLate = await cli(short, 'shortSam', ['approve', late.id]);
    assert.equal(tooLate.code, 1);
    assert.match(tooLate.stderr, /cannot be approved: it expired/);

    assert.equal((await post(short, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-lapse'))).status, 429);
    const lapse = await requested(short, /create pods "priv-lapse"/);
    // Over the API rather than the CLI: the request lives only two seconds.
    const approve = await fetch(`${short.runtime.adminUrl}/api/approvals/${lapse.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await short.mintToken('human:sam', ['sre', 'airlock:approvers'])}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(approve.status, 200, await approve.text());
    await short.waitForEntry((e) => e.type === 'approval.expired' && e.data?.approvalId === lapse.id, 'the grant lapsing');
    const afterTtl = await post(short, agent, '/api/v1/namespaces/default/pods', privilegedPod('priv-lapse'));
    assert.equal(afterTtl.status, 429, 'a lapsed grant lets nothing through');
    assert.doesNotMatch(JSON.parse(afterTtl.body).message, new RegExp(lapse.id));
  });

  it('a webhook receiver gets signed notifications that a changed byte would invalidate, and the ledger records each delivery', async () => {
    const entry = await h.waitForEntry((e) => e.type === 'approval.notified' && e.data?.ok === true, 'a delivered notification');
    const delivered = deliveries.find((d) => d.approvalId === entry.data?.approvalId);
    assert.ok(delivered, JSON.stringify(deliveries));
    assert.equal(delivered.ok, true);
    assert.equal(delivered.event, 'approval.requested');
    assert.equal(delivered.tamperedOk, false, 'a tampered delivery does not verify');
    assert.ok(deliveries.every((d) => d.ok), JSON.stringify(deliveries.filter((d) => !d.ok)));
  });

  it('the approvals API refuses callers without a token and hides other callers\' requests from those without a role', async () => {
    const res = await fetch(`${h.runtime.adminUrl}/api/approvals`);
    assert.equal(res.status, 401);
    const stranger = await fetch(`${h.runtime.adminUrl}/api/approvals`, { headers: { authorization: `Bearer ${await h.mintToken('agent:stranger', [])}` } });
    assert.deepEqual(((await stranger.json()) as { items: unknown[] }).items, []);
  });
});
