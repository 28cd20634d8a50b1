/**
 * The quick start, end to end with the real command: `airlock start` on embedded defaults,
 * a token minted by the CLI and verified by an independent OIDC client through the admin
 * server's discovery document, health/readiness/metrics, and a clean stop that leaves a
 * verifiable ledger recording the policy in force.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedgerReader } from '../../../src/ledger/index.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { airlockBin, freePort, runCli, startCli } from '../../support/cli.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

test('airlock start runs on embedded defaults, prints where it listens, and publishes its issuer for other tools', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-start-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const adminPort = await freePort();
  const admin = `127.0.0.1:${adminPort}`;
  const listenPort = await freePort();
  const server = startCli(['start', '--admin', admin, '--listen', `127.0.0.1:${listenPort}`], { cwd });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);
  const banner = server.output();
  assert.match(banner, new RegExp(`admin server\\s+http://127\\.0\\.0\\.1:${adminPort}`));
  assert.match(banner, /ledger\s+.*\.airlock\/ledger\.db \(SQLite, chain main\)/);
  assert.match(banner, /airlock token mint .*--subject agent:deploy-bot/);
  // "try the policy" evaluates the embedded policy, on a connection this airlock has.
  const tryPolicy = /try the policy:\s+npx airlock (.*)$/m.exec(banner)?.[1];
  assert.ok(tryPolicy, banner);
  const decided = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${airlockBin}" ${tryPolicy}`], { cwd, encoding: 'utf8' });
  assert.equal(decided.status, 0, `${tryPolicy}\n${decided.stdout}${decided.stderr}`);
  assert.match(decided.stdout, /rules:\s+protect-system-namespaces/);

  const base = `http://${admin}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(((await ready.json()) as any).checks, [{ name: 'ledger', ok: true }]);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^airlock_ledger_writable 1$/m);
  assert.match(metrics, /^airlock_ledger_append_seconds_count \d+$/m);

  // A token minted by the CLI verifies with a generic OIDC client that only knows the issuer URL.
  const minted = await runCli(['token', 'mint', '--admin', admin, '--subject', 'agent:deploy-bot', '--group', 'ci', '--ttl', '15m'], { cwd });
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  const discovery = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as any;
  assert.equal(discovery.issuer, base);
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: base, audience: 'airlock' });
  assert.equal(payload.sub, 'agent:deploy-bot');
  assert.deepEqual(payload.groups, ['ci']);
  assert.ok((payload.exp ?? 0) - (payload.iat ?? 0) === 900);
  assert.ok(!server.output().includes(token), 'the token is never logged by the server');

  assert.equal(await server.stop('SIGTERM'), 0);
  const verify = await runCli(['audit', 'verify'], { cwd });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /ledger verified: ok/);
  const tail = await runCli(['audit', 'tail', '--help'], { cwd });
  assert.equal(tail.code, 0);
});

test('a second start resumes the same chain, and the ledger names every start, stop, policy and masking configuration in force', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-restart-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  for (let i = 0; i < 2; i++) {
    const server = startCli(['start', '--admin', `127.0.0.1:${await freePort()}`, '--listen', `127.0.0.1:${await freePort()}`], { cwd });
    t.after(() => server.stop('SIGKILL'));
    await server.waitFor(/Stop with Ctrl-C/);
    assert.equal(await server.stop('SIGTERM'), 0);
  }
  const verify = await runCli(['audit', 'verify', '--json'], { cwd });
  assert.equal(verify.code, 0, verify.stdout);
  const report = JSON.parse(verify.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.chains[0].entries, 8, 'policy.loaded, masking.loaded, start, stop — twice');
  const reader = await openLedgerReader({ dataDir: join(cwd, '.airlock'), store: { kind: 'sqlite' } });
  const types: string[] = [];
  for await (const entry of reader.entries({})) types.push(entry.type);
  await reader.close();
  assert.deepEqual(types.filter((type) => type.endsWith('.loaded')), ['policy.loaded', 'masking.loaded', 'policy.loaded', 'masking.loaded']);
});

test('the next steps printed by a start on moved listeners and a data dir with a space work when pasted into a shell', { skip: missingKubectl(33) }, async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-next-steps-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  // A policy file of its own, so "try the policy" must name it to show what is in force.
  mkdirSync(join(cwd, 'my config'));
  writeFileSync(
    join(cwd, 'my config', 'my policy.yaml'),
    'default: allow\nrules:\n  - name: custom-guard\n    match: request.protocol == "kubernetes" && request.verb == "delete" && request.resource == "namespaces"\n    effect: deny\n    message: no namespace deletes here\n',
  );
  writeFileSync(join(cwd, 'my config', 'airlock.yaml'), 'policy: ./my policy.yaml\n');
  // Port 0 for both: the printed commands must carry what this start was given and what it got.
  const server = startCli(['start', '--config', join(cwd, 'my config', 'airlock.yaml'), '--data', join(cwd, 'my data'), '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0'], { cwd });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);
  const banner = server.output();
  const step = (label: string): string => {
    const line = new RegExp(`${label}:\\s+(npx airlock .*)$`, 'm').exec(banner)?.[1];
    assert.ok(line, `the banner has a "${label}" command:\n${banner}`);
    return line.replace(/^npx airlock/, `"${process.execPath}" "${airlockBin}"`);
  };
  const sh = (command: string) => {
    const run = spawnSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, AIRLOCK_LOG_LEVEL: 'warn' } });
    assert.equal(run.status, 0, `${command}\n${run.stdout}${run.stderr}`);
    return run.stdout;
  };
  sh(step("write an agent's kubeconfig"));
  const kubectl = kubectlClient(33, { home: cwd, kubeconfig: join(cwd, 'agent.kubeconfig') })!;
  const secrets = await kubectl.run(['get', 'secrets', '-o', 'yaml']);
  assert.equal(secrets.code, 0, secrets.stderr);
  assert.match(secrets.stdout, /airlock\.dev\/masked/);
  const whoami = await kubectl.run(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.match(whoami.stdout, /agent:deploy-bot/);

  const token = sh(step('mint a token for an agent')).trim();
  const direct = await kubectl.run(['get', 'namespaces', '--token', token], { env: { KUBECONFIG: join(cwd, 'agent.kubeconfig') } });
  assert.equal(direct.code, 0, `a token minted by the printed command is accepted: ${direct.stderr}`);
  assert.match(sh(step('verify the ledger')), /ledger verified: ok/);
  const decided = sh(step('try the policy'));
  assert.match(decided, /effect:\s+deny/);
  assert.match(decided, /rules:\s+custom-guard/, 'the policy in force, not the embedded one');
});

test('a second airlock start on the same data directory is refused, and the running one keeps serving and recording', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-twice-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const admin = `127.0.0.1:${await freePort()}`;
  const first = startCli(['start', '--admin', admin, '--listen', `127.0.0.1:${await freePort()}`], { cwd });
  t.after(() => first.stop('SIGKILL'));
  await first.waitFor(/Stop with Ctrl-C/);

  const second = startCli(['start', '--admin', `127.0.0.1:${await freePort()}`, '--listen', `127.0.0.1:${await freePort()}`], { cwd });
  t.after(() => second.stop('SIGKILL'));
  // Whichever comes first: a refusal, or (wrongly) a second gateway running.
  const [said] = await second.waitFor(/airlock is running|another airlock process.*\n/);
  assert.match(said, new RegExp(`another airlock process \\(pid ${first.child.pid} on [^)]+\\) is writing chain "main" of .*ledger\\.db`));
  assert.match(said, /its own chain \(ledger\.chain\) or its own data directory/);
  assert.equal(await second.exit(), 2);

  // The first is undisturbed: ready, and its record of a request verifies with the rest.
  assert.equal((await fetch(`http://${admin}/readyz`)).status, 200);
  const minted = await runCli(['token', 'mint', '--admin', admin, '--subject', 'agent:still-here', '--ttl', '5m'], { cwd });
  assert.equal(minted.code, 0, minted.stderr);
  assert.equal(await first.stop('SIGTERM'), 0);
  const verify = await runCli(['audit', 'verify'], { cwd });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /chain main: \d+ entries, .* ok/);
});

test('an address already in use is named with its listener and the flag that moves it, not a stack trace', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-port-taken-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const cases = [
    { args: ['--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${await freePort()}`], what: 'Kubernetes gateway', flag: '--listen' },
    { args: ['--listen', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${port}`], what: 'admin server', flag: '--admin' },
  ];
  for (const c of cases) {
    const res = await runCli(['start', ...c.args], { cwd });
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} for the ${c.what}: the address is in use .*choose another address with ${c.flag}`));
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  }
  // Nothing was left half-started: the ledger still verifies.
  const verify = await runCli(['audit', 'verify'], { cwd });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('airlock start refuses to run with a broken policy and says which rule and column', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-badpolicy-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(cwd, 'policy.yaml'), 'default: deny\nrules:\n  - name: broken\n    match: request.verb == \n    effect: deny\n    message: x\n');
  const res = await runCli(['start', '--policy', 'policy.yaml', '--admin', `127.0.0.1:${await freePort()}`], { cwd });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /broken/);
  assert.match(res.stderr, /column \d+/);
});

test('npx airlock --help lists the command groups', async () => {
  const res = await runCli(['--help']);
  assert.equal(res.code, 0);
  for (const cmd of ['start', 'token', 'config', 'policy', 'audit']) assert.match(res.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
});
