/**
 * SIGHUP reloads the policy file of a running `airlock start`, logged and recorded; with the
 * embedded default policy there is nothing to reload, and SIGHUP says so without stopping airlock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedgerReader, type LedgerEntry } from '../../../src/ledger/index.js';
import { compilePolicy } from '../../../src/policy/index.js';
import { freePort, startCli } from '../../support/cli.js';

const before = `default: allow
rules:
  - name: no-kube-system-deletes
    match: request.verb == "delete" && request.namespace == "kube-system"
    effect: deny
    message: kube-system is not for agents
`;
const after = `${before}  - name: no-pod-reads
    match: request.resource == "pods"
    effect: deny
    message: pods are off limits for now
`;

async function ledgerEntries(cwd: string): Promise<LedgerEntry[]> {
  const reader = await openLedgerReader({ dataDir: join(cwd, '.airlock'), store: { kind: 'sqlite' } });
  try {
    const out: LedgerEntry[] = [];
    for await (const entry of reader.entries({})) out.push(entry);
    return out;
  } finally {
    await reader.close();
  }
}

test('SIGHUP makes a running airlock read its policy file again', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-sighup-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  // --policy names a link into another directory: edits there are not seen by the directory
  // watch, so only the signal can have caused the reload.
  mkdirSync(join(cwd, 'policies'));
  mkdirSync(join(cwd, 'conf'));
  const target = join(cwd, 'policies', 'policy.yaml');
  writeFileSync(target, before);
  const file = join(cwd, 'conf', 'policy.yaml');
  symlinkSync(target, file);

  const server = startCli(['start', '--admin', `127.0.0.1:${await freePort()}`, '--listen', `127.0.0.1:${await freePort()}`, '--policy', file], {
    cwd,
    env: { AIRLOCK_LOG_LEVEL: 'info' },
  });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);

  writeFileSync(target, after);
  const hash = compilePolicy(after).policyHash;
  server.child.kill('SIGHUP');
  const [, logged] = await server.waitFor(/policy reloaded \(hash ([0-9a-f]{12})\)/);
  assert.equal(logged, hash.slice(0, 12));
  assert.equal(await server.stop('SIGTERM'), 0, 'SIGHUP does not stop airlock; SIGTERM stops it cleanly');

  const loads = (await ledgerEntries(cwd)).filter((e) => e.type === 'policy.loaded' || e.type === 'masking.loaded');
  assert.deepEqual(
    loads.map((e) => [e.type, e.data?.reason]),
    [
      ['policy.loaded', 'start'],
      ['masking.loaded', 'start'],
      ['policy.loaded', 'reload'],
      ['masking.loaded', 'reload'],
    ],
  );
  assert.equal(loads[2]?.data?.hash, hash);
  assert.equal(loads[2]?.data?.source, after);
});

test('SIGHUP with the embedded default policy says there is nothing to reload and records nothing', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-sighup-embedded-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const server = startCli(['start', '--admin', `127.0.0.1:${await freePort()}`, '--listen', `127.0.0.1:${await freePort()}`], {
    cwd,
    env: { AIRLOCK_LOG_LEVEL: 'info' },
  });
  t.after(() => server.stop('SIGKILL'));
  await server.waitFor(/Stop with Ctrl-C/);
  server.child.kill('SIGHUP');
  await server.waitFor(/no policy file to reload/);
  assert.equal(await server.stop('SIGTERM'), 0);
  const entries = await ledgerEntries(cwd);
  assert.deepEqual(
    entries.filter((e) => e.type === 'policy.loaded' || e.type === 'masking.loaded' || e.data?.event === 'policy.reload-refused').map((e) => e.data?.reason),
    ['start', 'start'],
  );
});
