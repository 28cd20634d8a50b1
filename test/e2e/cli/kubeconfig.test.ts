/**
 * `airlock kubeconfig` and `airlock token exec` as a user runs them: the written file is a
 * kubeconfig real kubectl reads, its exec plugin (bin/airlock.js token exec) prints an
 * ExecCredential whose token the built-in issuer verifies, and kubectl itself runs that
 * plugin and presents the token to a listener serving airlock's quick-start certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse } from 'yaml';
import { resolveConfig } from '../../../src/config/index.js';
import { createAuthenticator, openBuiltinIssuer, type Identity } from '../../../src/identity/index.js';
import { runCli } from '../../support/cli.js';

interface AgentKubeconfig {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ user: { exec: { apiVersion: string; command: string; args: string[]; interactiveMode: string } } }>;
  'current-context': string;
}

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** verify checks a token the way airlock does: against the built-in issuer of that data dir. */
async function verify(data: string, token: string): Promise<Identity> {
  const config = resolveConfig({ flags: { data }, env: {} });
  const builtin = await openBuiltinIssuer({ dataDir: data, issuer: config.admin.url, audience: config.identity.builtin.audience });
  return createAuthenticator({ issuers: [], builtin }).authenticate(token);
}

function kubectlDir(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, 'kubectl'))) return dirname(realpathSync(join(d, 'kubectl')));
  }
  return undefined;
}

test('airlock kubeconfig writes a 0600 kubeconfig whose exec plugin mints tokens the built-in issuer verifies', async (t) => {
  const dir = tempDir(t, 'airlock-kubeconfig-');
  const data = join(dir, 'data');
  const out = join(dir, 'agent.kubeconfig');
  const res = await runCli(['kubeconfig', '--data', data, '--connection', 'sandbox', '--subject', 'agent:e2e', '--group', 'ci', '--ttl', '10m', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /wrote .*agent\.kubeconfig: context airlock-sandbox → https:\/\/127\.0\.0\.1:8443\/k8s\/sandbox as agent:e2e/);
  assert.equal(statSync(out).mode & 0o777, 0o600);

  const kc = parse(readFileSync(out, 'utf8')) as AgentKubeconfig;
  assert.equal(kc.clusters[0]?.cluster.server, 'https://127.0.0.1:8443/k8s/sandbox');
  assert.equal(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), readFileSync(join(data, 'tls', 'ca.crt'), 'utf8'));
  const exec = kc.users[0]!.user.exec;
  assert.equal(exec.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(exec.interactiveMode, 'Never');
  assert.match(exec.args[0] ?? '', /bin\/airlock\.js$/);
  assert.deepEqual(exec.args.slice(1), ['token', 'exec', '--data', data, '--subject', 'agent:e2e', '--group', 'ci', '--ttl', '10m']);

  // Run the plugin exactly as kubectl would.
  const plugin = await run(exec.command, exec.args);
  assert.equal(plugin.code, 0, plugin.stderr);
  const credential = JSON.parse(plugin.stdout) as { apiVersion: string; kind: string; status: { token: string; expirationTimestamp: string } };
  assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(credential.kind, 'ExecCredential');
  assert.match(credential.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const identity = await verify(data, credential.status.token);
  assert.equal(identity.subject, 'agent:e2e');
  assert.deepEqual(identity.groups, ['ci']);
  assert.equal(identity.expiresAt, Date.parse(credential.status.expirationTimestamp) / 1000);
  assert.ok(!readFileSync(out, 'utf8').includes(credential.status.token), 'the kubeconfig never holds a token');
});

test('real kubectl reads the kubeconfig, runs the plugin and presents the token over the quick-start CA', async (t) => {
  const kdir = kubectlDir();
  const pinned = kdir ? join(kdir, 'kubectl.1.33') : '';
  if (!kdir || !existsSync(pinned)) {
    t.skip('kubectl and kubectl.1.33 are not installed');
    return;
  }
  const dir = tempDir(t, 'airlock-kubeconfig-kubectl-');
  const data = join(dir, 'data');
  const out = join(dir, 'agent.kubeconfig');
  // The kubeconfig command creates the quick-start CA and server certificate; a listener
  // serving that certificate stands in for airlock's Kubernetes endpoint.
  const first = await runCli(['kubeconfig', '--data', data, '--connection', 'sandbox', '--subject', 'agent:e2e', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  const seen: Array<{ path: string; authorization?: string }> = [];
  const server = https.createServer({ cert: readFileSync(join(data, 'tls', 'server.crt')), key: readFileSync(join(data, 'tls', 'server.key')) }, (req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const res = await runCli(['kubeconfig', '--data', data, '--connection', 'sandbox', '--subject', 'agent:e2e', '--group', 'ci', '--server', `https://127.0.0.1:${port}`, '--out', out]);
  assert.equal(res.code, 0, res.stderr);

  const env = { PATH: process.env.PATH, HOME: dir };
  const view = await run(join(kdir, 'kubectl'), ['config', 'view', '--kubeconfig', out, '--raw', '-o', 'json'], env);
  assert.equal(view.code, 0, view.stderr);
  assert.equal((JSON.parse(view.stdout) as AgentKubeconfig).users[0]?.user.exec.interactiveMode, 'Never');

  const version = await run(pinned, ['version', '-o', 'json', '--kubeconfig', out], env);
  assert.equal(version.code, 0, version.stderr);
  const call = seen.find((s) => s.path.split('?')[0] === '/k8s/sandbox/version');
  assert.ok(call, `kubectl called /k8s/sandbox/version (saw ${seen.map((s) => s.path).join(', ')})`);
  const token = /^Bearer (.+)$/.exec(call.authorization ?? '')?.[1] ?? '';
  const identity = await verify(data, token);
  assert.equal(identity.subject, 'agent:e2e');
  assert.deepEqual(identity.groups, ['ci']);
});

test('airlock token exec prints an ExecCredential, and kubeconfig refuses an unknown connection by listing the known ones', async (t) => {
  const dir = tempDir(t, 'airlock-token-exec-');
  const data = join(dir, 'data');
  // An existing data directory that has no issuer key yet gets one on first use.
  mkdirSync(data);
  const exec = await runCli(['token', 'exec', '--data', data, '--subject', 'agent:e2e', '--ttl', '5m']);
  assert.equal(exec.code, 0, exec.stderr);
  const credential = JSON.parse(exec.stdout) as { kind: string; status: { token: string } };
  assert.equal(credential.kind, 'ExecCredential');
  assert.equal((await verify(data, credential.status.token)).subject, 'agent:e2e');

  const refused = await runCli(['kubeconfig', '--data', data, '--connection', 'prod', '--subject', 'agent:e2e', '--out', join(dir, 'x')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /connection "prod" is not configured; known connections: default \(airlock start --kubeconfig or --upstream\), sandbox/);
  assert.ok(!existsSync(join(dir, 'x')));
});
