/**
 * airlock's own credential running out, with a cloud-style kubeconfig (an exec credential
 * plugin, as `aws eks update-kubeconfig` writes): when the cluster refuses the plugin's token,
 * airlock runs the plugin again and sends the refused request once more, so kubectl never sees
 * the 401 that was about airlock, not about the agent. Upstream: the fake API server (a test double).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

describe('an upstream token from an exec plugin that the cluster refuses', () => {
  let h: GatewayHarness;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-renewal-'));
    h = await startGatewayHarness({
      connection: (fake) => {
        // First run: a token the cluster no longer accepts (no expiry given, so airlock keeps it
        // until refused); every run after: the cluster's token.
        writeFileSync(join(dir, 'tokens.json'), JSON.stringify(['revoked-token-0123456789', fake.token]));
        writeFileSync(
          join(dir, 'plugin.cjs'),
          [
            '#!/usr/bin/env node',
            "const fs = require('node:fs'); const path = require('node:path');",
            "const log = path.join(__dirname, 'runs.log');",
            "const runs = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').length : 0;",
            "fs.appendFileSync(log, 'x');",
            "const tokens = JSON.parse(fs.readFileSync(path.join(__dirname, 'tokens.json'), 'utf8'));",
            "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: tokens[Math.min(runs, 1)] } }));",
            '',
          ].join('\n'),
        );
        chmodSync(join(dir, 'plugin.cjs'), 0o755);
        const kubeconfig = join(dir, 'cloud.kubeconfig');
        writeFileSync(
          kubeconfig,
          stringify({
            apiVersion: 'v1',
            kind: 'Config',
            clusters: [{ name: 'c', cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.caCert ?? '').toString('base64') } }],
            users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './plugin.cjs', interactiveMode: 'Never' } } }],
            contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
            'current-context': 'c',
          }),
        );
        return { upstream: { kubeconfig } };
      },
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
  });
});
