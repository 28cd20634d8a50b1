/**
 * The one-line start in front of a cluster, `airlock start --kubeconfig FILE`, with a cloud-style
 * kubeconfig whose user is an exec credential plugin (what `aws eks update-kubeconfig` and
 * `gcloud container clusters get-credentials` write): airlock runs the plugin, reaches the
 * cluster (the fake API server, a test double) with the token it printed, and kubectl works
 * through airlock as the impersonated agent, with the agent kubeconfig written by the command
 * the banner prints. A plugin that cannot give a token stops the start with what it said.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiServer } from '../../fixtures/fake-apiserver/index.js';
import { airlockBin, runCli, startCli } from '../../support/cli.js';
import { writeExecKubeconfig } from '../../support/exec-kubeconfig.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

/** writeCloudKubeconfig writes a kubeconfig for `server` whose user runs `plugin.cjs` (printing `answer`) beside it. */
function writeCloudKubeconfig(dir: string, server: string, caCert: string, answer: string): string {
  writeFileSync(join(dir, 'answer.txt'), answer);
  return writeExecKubeconfig(dir, {
    server,
    caCert,
    script: [
      "const { appendFileSync, readFileSync } = require('node:fs');",
      "const { join } = require('node:path');",
      "appendFileSync(join(__dirname, 'runs.log'), process.env.KUBERNETES_EXEC_INFO + '\\n');",
      "const answer = readFileSync(join(__dirname, 'answer.txt'), 'utf8');",
      "if (answer.startsWith('exit:')) { process.stderr.write(answer.slice(5)); process.exit(1); }",
      'process.stdout.write(answer);',
    ],
    exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', args: ['eks', 'get-token', '--cluster-name', 'prod'], interactiveMode: undefined },
    names: { cluster: 'eks-prod', user: 'eks-admin', context: 'eks-prod' },
  });
}

test('airlock start --kubeconfig with an exec plugin user: kubectl works through airlock, which reaches the cluster with the plugin\'s token', { skip: missingKubectl(33) }, async (t) => {
  const fake = await startFakeApiServer();
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-start-kubeconfig-'));
  t.after(async () => {
    await fake.close();
    rmSync(cwd, { recursive: true, force: true });
  });
  const credential = { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: fake.token, expirationTimestamp: new Date(Date.now() + 15 * 60_000).toISOString() } };
  const kubeconfig = writeCloudKubeconfig(cwd, fake.url, fake.caCert ?? '', JSON.stringify(credential));
  const data = join(cwd, 'data');
  const server = startCli(['start', '--kubeconfig', kubeconfig, '--data', data, '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0'], { cwd, env: { AIRLOCK_LOG_LEVEL: 'info' } });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);
  assert.match(server.output(), /bearer token from exec plugin .*plugin\.cjs/, 'the connection names where its credential comes from');

  // The banner's own first step, pasted into a shell as printed (without the --kubeconfig flag).
  const step = /write an agent's kubeconfig:\s+npx airlock (.*)$/m.exec(server.output())?.[1];
  assert.ok(step, server.output());
  const written = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${airlockBin}" ${step.replace('agent:deploy-bot', 'agent:cloud-bot')}`], { cwd, encoding: 'utf8' });
  assert.equal(written.status, 0, `${step}\n${written.stderr}`);
  fake.clearReceived();
  const kubectl = kubectlClient(33, { home: cwd, kubeconfig: join(cwd, 'agent.kubeconfig') })!;
  const namespaces = await kubectl.run(['get', 'namespaces', '-o', 'name']);
  assert.equal(namespaces.code, 0, namespaces.stderr);
  assert.match(namespaces.stdout, /^namespace\/default$/m);
  const seen = await fake.waitForRequest((r) => r.path === '/api/v1/namespaces');
  assert.equal(seen.authorization?.isAdminToken, true, "the cluster saw the plugin's token");
  assert.equal(seen.headers['impersonate-user']?.[0], 'agent:cloud-bot');

  const runs = readFileSync(join(cwd, 'runs.log'), 'utf8').trim().split('\n');
  assert.equal(runs.length, 1, 'one run while the token is fresh');
  assert.deepEqual(JSON.parse(runs[0] ?? '{}'), { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', spec: { interactive: false } });
  assert.ok(!server.output().includes(fake.token), 'the token is never logged');
});

test('airlock start --kubeconfig stops with what an exec plugin said when it gives no token', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-start-kubeconfig-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const kubeconfig = writeCloudKubeconfig(cwd, 'https://127.0.0.1:1', '', 'exit:Error loading SSO Token: the SSO session has expired or is invalid\n');
  const result = await runCli(['start', '--kubeconfig', kubeconfig, '--data', join(cwd, 'data'), '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0'], { cwd });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /AIRLOCK_UPSTREAM_CONFIG/);
  assert.match(result.stderr, /connection "default": the exec plugin .*plugin\.cjs \(kubeconfig .*cloud\.kubeconfig, context "eks-prod", user "eks-admin"\) gave no token: it exited with code 1: Error loading SSO Token: the SSO session has expired or is invalid/);
});
