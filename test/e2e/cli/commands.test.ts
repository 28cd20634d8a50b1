/**
 * The offline commands as a user runs them: `config check`, `policy eval`, and `audit verify`
 * on a ledger whose file was edited behind airlock's back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, runCli, startCli } from '../../support/cli.js';

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('config check accepts a valid file and prints what it means', async (t) => {
  const dir = tempDir(t, 'airlock-cfg-');
  writeFileSync(join(dir, 'airlock.yaml'), 'listen: 127.0.0.1:9443\nledger:\n  checkpoint:\n    interval: 30s\n');
  const res = await runCli(['config', 'check', join(dir, 'airlock.yaml')]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /airlock\.yaml: ok/);
});

test('config check loads the policy too and warns of a deny rule that would deny kubectl discovery', async (t) => {
  const dir = tempDir(t, 'airlock-cfg-');
  writeFileSync(join(dir, 'policy.yaml'), ['default: allow', 'rules:', '  - name: no-secret-reads', '    match: request.resource == "secrets"', '    effect: deny', '    message: no', ''].join('\n'));
  writeFileSync(join(dir, 'airlock.yaml'), 'listen: 127.0.0.1:9443\npolicy: policy.yaml\n');
  const res = await runCli(['config', 'check', join(dir, 'airlock.yaml')]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /policy warning: .*policy\.yaml:3: rule "no-secret-reads": request\.resource is absent on some requests/);
  writeFileSync(join(dir, 'policy.yaml'), 'default: allow\nrules:\n  - name: broken\n    match: request.verb ==\n    effect: deny\n');
  const broken = await runCli(['config', 'check', join(dir, 'airlock.yaml')]);
  assert.equal(broken.code, 2, broken.stdout);
  assert.match(broken.stderr, /broken/);
});

test('token mint and the exec plugin refuse a data directory that does not exist, rather than sign with a new key no airlock trusts', async (t) => {
  const dir = tempDir(t, 'airlock-mint-');
  const missing = join(dir, 'typo');
  for (const command of ['mint', 'exec']) {
    const res = await runCli(['token', command, '--data', missing, '--subject', 'agent:x']);
    assert.equal(res.code, 2, res.stdout);
    assert.match(res.stderr, new RegExp(`there is no data directory at ${missing.replaceAll('/', '\\/')}, so no built-in issuer key to sign with`));
    assert.equal(res.stdout, '', 'no token');
  }
  assert.equal(existsSync(missing), false, 'nothing was created');
});

test('a file named on the command line that cannot be read is named with its flag, not a bare ENOENT', async (t) => {
  const dir = tempDir(t, 'airlock-argfile-');
  const missing = join(dir, 'missing');
  const cases: { args: string[]; flag: string }[] = [
    { args: ['audit', 'verify', '--data', dir, '--public-key', missing], flag: '--public-key' },
    { args: ['evidence', 'verify', dir, '--public-key', missing], flag: '--public-key' },
    { args: ['policy', 'eval', '--request', `@${missing}`], flag: '--request' },
    { args: ['approvals', 'list', '--token-file', missing], flag: '--token-file' },
  ];
  for (const c of cases) {
    const res = await runCli(c.args);
    assert.equal(res.code, 2, `${c.args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, new RegExp(`${c.flag}: cannot read ${missing.replaceAll('/', '\\/')} \\(no such file\\)`), c.args.join(' '));
  }
});

test('config check names the file, line, field and expectation of every mistake, and never echoes a secret', async (t) => {
  const dir = tempDir(t, 'airlock-cfg-');
  const file = join(dir, 'airlock.yaml');
  writeFileSync(file, ['listen: nowhere', 'ledger:', '  store: postgres', '  postgres:', '    url: ${LEDGER_URL}', '  failureMod: open', ''].join('\n'));
  const res = await runCli(['config', 'check', file], { env: { LEDGER_URL: 'not a url with s3cr3t-password' } });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /airlock\.yaml:1:\d+: listen: expected HOST:PORT/);
  assert.match(res.stderr, /airlock\.yaml:6:\d+: ledger\.failureMod: unknown field.*failureMode/);
  assert.match(res.stderr, /airlock\.yaml:5:\d+: ledger\.postgres\.url/);
  assert.ok(!res.stderr.includes('s3cr3t-password'), 'an interpolated value never appears in an error');
});

test('config check reports an unset environment variable by name and line', async (t) => {
  const dir = tempDir(t, 'airlock-cfg-');
  const file = join(dir, 'airlock.yaml');
  writeFileSync(file, 'ledger:\n  store: postgres\n  postgres:\n    url: ${AIRLOCK_TEST_UNSET_VAR}\n');
  const res = await runCli(['config', 'check', file], { env: { AIRLOCK_TEST_UNSET_VAR: undefined } });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /airlock\.yaml:4:\d+.*AIRLOCK_TEST_UNSET_VAR/);
});

test('policy eval prints the decision and the rules that matched', async (t) => {
  const dir = tempDir(t, 'airlock-pol-');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    [
      'default: allow',
      'rules:',
      '  - name: no-prod-deletes',
      '    match: request.verb == "delete" && request.namespace == "prod"',
      '    effect: deny',
      '    message: deletes in prod are not allowed',
      '  - name: sre-review-exec',
      '    match: request.subresource == "exec"',
      '    effect: review',
      '    message: a shell needs approval',
      '    approvers: [group:sre]',
      '',
    ].join('\n'),
  );
  const denied = await runCli(['policy', 'eval', '--policy', policy, '--json', '--request', JSON.stringify({ protocol: 'kubernetes', connection: 'prod', verb: 'delete', resource: 'pods', namespace: 'prod', name: 'web' })]);
  assert.equal(denied.code, 0, denied.stderr);
  const decision = JSON.parse(denied.stdout);
  assert.equal(decision.effect, 'deny');
  assert.deepEqual(decision.rules, ['no-prod-deletes']);
  const human = await runCli(['policy', 'eval', '--policy', policy, '--request', JSON.stringify({ protocol: 'kubernetes', connection: 'prod', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'dev' })]);
  assert.match(human.stdout, /review/);
  assert.match(human.stdout, /sre-review-exec/);
  const fallback = await runCli(['policy', 'eval', '--request', JSON.stringify({ protocol: 'kubernetes', connection: 'default', verb: 'delete', resource: 'namespaces', name: 'kube-system' })]);
  assert.match(fallback.stdout, /deny/, 'the embedded default policy protects kube-system');
  const bad = await runCli(['policy', 'eval', '--request', '{not json']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--request is not valid JSON/);
});

test('audit verify names the first bad entry after the SQLite file is edited, and exits non-zero', async (t) => {
  const cwd = tempDir(t, 'airlock-tamper-');
  const server = startCli(['start', '--admin', `127.0.0.1:${await freePort()}`, '--listen', `127.0.0.1:${await freePort()}`], { cwd });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);
  assert.equal(await server.stop('SIGTERM'), 0);
  const ok = await runCli(['audit', 'verify'], { cwd });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  const db = new Database(join(cwd, '.airlock', 'ledger.db'));
  // The entry's hashed content is the `canonical` column (docs/ledger.md); change one word.
  const changed = db.prepare(`update ledger_entries set canonical = replace(canonical, '"start"', '"stort"') where seq = 2`).run();
  assert.equal(changed.changes, 1);
  db.close();
  const bad = await runCli(['audit', 'verify'], { cwd });
  assert.equal(bad.code, 3);
  assert.match(bad.stdout, /FIRST BAD ENTRY: seq 2/);
  assert.match(bad.stdout, /verification FAILED/);
});
