/**
 * airlock's own credential running out, with a cloud-style kubeconfig (an exec credential
 * plugin, as `aws eks update-kubeconfig` writes): when the cluster refuses the plugin's token,
 * airlock runs the plugin again and sends the refused request once more, so kubectl never sees
 * the 401 that was about airlock, not about the agent. An exec upgrade is not sent again (its
 * client already has the answer), but the token is renewed before the refusal is recorded, so
 * the next attempt goes through. A cluster that keeps refusing airlock's credential gets the
 * caller a 502 that says so, not the cluster's 401 (which would send the agent to log in again).
 * Upstream: the fake API server (a test double).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { FakeApiServer } from '../../fixtures/fake-apiserver/index.js';
import { writeExecKubeconfig } from '../../support/exec-kubeconfig.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

/**
 * cloudConnection writes, into `dir`, a kubeconfig for the fake whose user is an exec plugin:
 * its first run prints a token the cluster no longer accepts (no expiry given, so airlock keeps it
 * until refused), every run after it the cluster's token. `runs.log` counts the runs.
 */
function cloudConnection(dir: string, fake: FakeApiServer): Record<string, unknown> {
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(['revoked-token-0123456789', fake.token]));
  const kubeconfig = writeExecKubeconfig(dir, {
    server: fake.url,
    caCert: fake.caCert ?? '',
    script: [
      "const fs = require('node:fs'); const path = require('node:path');",
      "const log = path.join(__dirname, 'runs.log');",
      "const runs = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').length : 0;",
      "fs.appendFileSync(log, 'x');",
      "const tokens = JSON.parse(fs.readFileSync(path.join(__dirname, 'tokens.json'), 'utf8'));",
      "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: tokens[Math.min(runs, 1)] } }));",
    ],
  });
  return { upstream: { kubeconfig } };
}

describe('an upstream token from an exec plugin that the cluster refuses', () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-renewal-'));
    h = await startGatewayHarness({
      connection: (fake) => cloudConnection(dir, fake),
    });
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl 1.33: the first request succeeds; the cluster saw the refused token, then the renewed one, and the ledger records one answer', { skip: missingKubectl(33) }, async () => {
    h.fake.clearReceived();
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:renewal' });
    const result = await kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!.run(['get', 'configmaps', '-o', 'name']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(dir, 'runs.log'), 'utf8').length, 2, 'the plugin ran at start and once more after the refusal');
    // kubectl's first request (discovery, with a fresh cache) met the refused token.
    const refused = h.fake.received.filter((r) => r.authorization?.isAdminToken !== true);
    assert.equal(refused.length, 1, 'one request met the refused token');
    const auditId = refused[0]?.headers['audit-id']?.[0];
    const sent = h.fake.received.filter((r) => r.headers['audit-id']?.[0] === auditId);
    assert.deepEqual(
      sent.map((r) => [r.path, r.authorization?.isAdminToken === true]),
      [
        [refused[0]?.path, false],
        [refused[0]?.path, true],
      ],
      'the same request, with the same Audit-ID, first with the refused token, then with the renewed one',
    );
    const answers = (await h.entries()).filter((e) => e.type === 'response' && e.data?.requestId === auditId);
    assert.deepEqual(answers.map((e) => e.data?.status), [200], 'the ledger records the answer the client got');
    const metrics = await (await fetch(`${h.runtime.adminUrl}/metrics`)).text();
    assert.match(metrics, /^airlock_upstream_credential_renewals_total\{connection="sandbox",result="ok"\} 1$/m, 'the renewal is counted for alerting');
  });
});

describe('an exec upgrade that meets a refused exec-plugin token', () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-renewal-exec-'));
    h = await startGatewayHarness({ connection: (fake) => cloudConnection(dir, fake) });
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** execEcho runs `echo hello` through airlock with @kubernetes/client-node: the status, or the error it failed with. */
  async function execEcho(kc: KubeConfig): Promise<{ status?: V1Status; stdout: string; error?: string }> {
    let stdout = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        stdout += chunk.toString();
        done();
      },
    });
    let report!: (status: V1Status) => void;
    const status = new Promise<V1Status>((resolve) => (report = resolve));
    try {
      await new Exec(kc).exec('default', 'web-7d4b9c6f5-k2x8p', 'nginx', ['echo', 'hello'], out, null, null, false, report);
    } catch (err) {
      return { stdout, error: err instanceof Error ? err.message : String(err) };
    }
    return { status: await status, stdout };
  }

  it('@kubernetes/client-node: the first exec is refused with the cluster\'s 401, recorded after the renewal; the next one runs', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(await h.writeKubeconfig(dir, { subject: 'agent:renewal-exec' }), 'utf8'));
    const first = await execEcho(kc);
    assert.ok(first.error, `the first exec fails: ${JSON.stringify(first)}`);
    await h.waitForEntry((e) => e.type === 'response' && e.data?.status === 401, 'the refused upgrade in the ledger');
    assert.equal(readFileSync(join(dir, 'runs.log'), 'utf8').length, 2, 'renewed before the refusal was recorded');
    const second = await execEcho(kc);
    assert.equal(second.status?.status, 'Success', JSON.stringify(second));
    assert.equal(second.stdout, 'hello\n');
  });
});

describe("a cluster that refuses airlock's own credential for good", () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-refused-'));
    h = await startGatewayHarness({
      connection: (fake) => {
        writeFileSync(join(dir, 'ca.crt'), fake.caCert ?? '');
        return { upstream: { url: fake.url, ca: join(dir, 'ca.crt'), token: 'a-static-token-the-cluster-refuses' } };
      },
    });
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the cluster's 401 is not passed on as the caller's: a 502 Status says airlock's credential was refused, recorded with the cluster's status", async () => {
    const token = await h.mintToken('agent:refused');
    const res = await h.request('/k8s/sandbox/api/v1/namespaces/default/configmaps', { token });
    assert.equal(res.status, 502);
    const status = JSON.parse(res.body) as { kind: string; code: number; message: string };
    assert.equal(status.kind, 'Status');
    assert.match(status.message, /the cluster behind connection "sandbox" refused airlock's own credential \(HTTP 401\), so the request was not carried out; the caller's credential is fine/);
    const request = await h.waitForEntry((e) => e.type === 'request' && e.identity?.subject === 'agent:refused', 'the request');
    const answer = await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, 'its answer');
    assert.equal(answer.data?.status, 502);
    assert.equal(answer.data?.upstreamStatus, 401);
  });

  it('kubectl 1.33 is not told to log in: it prints the message (its discovery shows only a server error)', { skip: missingKubectl(33) }, async () => {
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:refused-kubectl' });
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    const raw = await kubectl.run(['get', '--raw', '/k8s/sandbox/api/v1/namespaces/default/configmaps']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /Error from server \(InternalError\): the cluster behind connection "sandbox" refused airlock's own credential/);
    // client-go's discovery does not read a Status out of a 5xx answer; what matters is that it is a server error.
    const get = await kubectl.run(['get', 'configmaps']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /Error from server \(InternalError\)/);
    assert.doesNotMatch(get.stderr + raw.stderr, /You must be logged in|Unauthorized/);
  });
});
