/**
 * Graceful shutdown: when airlock stops, a request held for approval is answered at once (429,
 * retry — on another replica, say), an exec session still running past the drain deadline ends
 * with a Status kubectl prints, its recording is closed with the reason, and the stop is recorded
 * after the last drained request.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlPath, missingKubectl } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';

describe('graceful shutdown', { skip: missingKubectl(33) }, () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    h = await startGatewayHarness({ shutdownTimeout: '1s', review: { holdTimeout: '60s' } });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-shutdown-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers held requests, ends long streams with a Status after the deadline, and records the stop last', async () => {
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:draining', groups: ['ci'] });
    const child = spawn(kubectlPath(33)!, ['exec', '-i', POD, '--', 'cat'], { env: { PATH: process.env.PATH, HOME: mkdtempSync(join(dir, 'home-')), KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const echoed = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('before the stop')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write('before the stop\n');
    await echoed;

    // A privileged pod waits for approval (the default policy's review rule).
    const token = await h.mintToken('agent:draining', ['ci']);
    const requested = h.waitForEntry((e) => e.type === 'approval.requested', 'the approval request');
    const held = h.request(`/k8s/${h.connection}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'held-at-stop' }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } }),
    });
    await requested;

    const stopping = h.runtime.close();
    const answer = await held;
    assert.equal(answer.status, 429, 'the held request is answered, not cut');
    assert.ok(answer.headers['retry-after']);
    const code = await exited;
    await stopping;
    assert.notEqual(code, 0);
    assert.match(out, /airlock ended the session: it is shutting down; connect again to continue/);

    const entries = await h.entries();
    const exec = entries.findLast((e) => e.type === 'request' && e.action?.subresource === 'exec');
    const end = entries.find((e) => e.type === 'response' && e.data?.requestId === exec?.id);
    assert.equal((end?.data?.limit as { reason?: string } | undefined)?.reason, 'shutdown');
    const stop = entries.findIndex((e) => e.type === 'system' && e.data?.event === 'stop');
    assert.ok(stop > entries.indexOf(end!), 'the stop is recorded after the drained session');
    assert.equal((await h.verify()).ok, true);
  });
});
