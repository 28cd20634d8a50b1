/**
 * `airlock import k8s-audit` run in-process through a commander program against a real SQLite
 * ledger in a temp dir, with its output and exit code captured.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { exportLedgerPublicKey, openLedger, openLedgerReader, verifyLedger, type LedgerEntry } from '../ledger/index.js';
import { silentLogger } from '../log.js';
import type { K8sAuditImportReport } from '../evidence/k8s-audit-import.js';
import { registerImport } from './import.js';

const SECRET = 'synthetic-secret-value-93be71';

function auditEvent(n: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Request',
    auditID: `3c9a5e1f-0d2b-4a6c-8e7f-${String(n).padStart(12, '0')}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/shop/configmaps/settings-${n}`,
    verb: 'update',
    user: { username: 'carol@example.com', groups: ['developers', 'system:authenticated'] },
    sourceIPs: ['192.0.2.44'],
    userAgent: 'kubectl/v1.32.1 (linux/amd64) kubernetes/e9c9be4',
    objectRef: { resource: 'configmaps', namespace: 'shop', name: `settings-${n}`, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `settings-${n}` }, data: { apiKey: SECRET } },
    requestReceivedTimestamp: `2024-11-0${n}T12:00:00.123456Z`,
    stageTimestamp: `2024-11-0${n}T12:00:00.140000Z`,
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    ...fields,
  };
}

const lines = (...events: unknown[]) => events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-import-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  code: number | string | undefined;
  stdout: string;
  stderr: string;
}

/** runImport runs `airlock import ARGS` in-process, as `airlock` would, and captures it. */
async function runImport(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const program = new Command('airlock').exitOverride();
  program.configureOutput({ writeOut: (t) => void (stdout += t), writeErr: (t) => void (stderr += t) });
  registerImport(program, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), logger: silentLogger });
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number | string | undefined;
  try {
    await program.parseAsync(['import', ...args], { from: 'user' });
    code = process.exitCode;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { code, stdout, stderr };
}

async function stored(dataDir: string): Promise<LedgerEntry[]> {
  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  try {
    const out: LedgerEntry[] = [];
    for await (const e of reader.entries({})) out.push(e);
    return out;
  } finally {
    await reader.close();
  }
}

describe('airlock import k8s-audit', () => {
  let dataDir: string;
  let log: string;

  before(async () => {
    dataDir = join(dir, 'data');
    // The gateway's own chain already holds an entry; the import must leave it alone.
    const gateway = await openLedger({ dataDir, store: { kind: 'sqlite' } });
    await gateway.append({ type: 'system', data: { event: 'gateway.started' } });
    await gateway.close();
    log = write('audit.log', lines({ ...auditEvent(1), stage: 'RequestReceived' }, auditEvent(1), auditEvent(2), auditEvent(3)));
  });

  it('imports each request once into its own chain and says so', async () => {
    const run = await runImport(['k8s-audit', log, '--data', dataDir, '--connection', 'prod-eu']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'imported 3 into chain import as connection prod-eu, not witnessed by airlock (4 events read from 1 file)',
        'skipped duplicates 0',
        'earlier stages folded into their request 1',
        'bad lines 0',
        '',
      ].join('\n'),
    );
    const entries = await stored(dataDir);
    const imported = entries.filter((e) => e.type === 'imported');
    assert.deepEqual(imported.map((e) => [e.chain, e.connection, e.action?.connection, e.time]), [
      ['import', 'prod-eu', 'prod-eu', '2024-11-01T12:00:00.123Z'],
      ['import', 'prod-eu', 'prod-eu', '2024-11-02T12:00:00.123Z'],
      ['import', 'prod-eu', 'prod-eu', '2024-11-03T12:00:00.123Z'],
    ]);
    assert.deepEqual(entries.filter((e) => e.chain === 'main').map((e) => e.seq), [1]);
    assert.ok(!JSON.stringify(entries).includes(SECRET));
  });

  it('running it again imports nothing', async () => {
    const run = await runImport(['k8s-audit', log, '--data', dataDir, '--connection', 'prod-eu']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^imported 0 into chain import/);
    assert.match(run.stdout, /^skipped duplicates 3$/m);
    assert.equal((await stored(dataDir)).filter((e) => e.type === 'imported').length, 3);
  });

  it('`airlock audit verify` still passes: both chains intact and signed', async () => {
    const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
    try {
      const report = await verifyLedger(reader, { publicKey: exportLedgerPublicKey(dataDir) });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(report.chains.map((c) => [c.chain, c.entries, c.unsigned]), [['import', 3, 0], ['main', 1, 0]]);
    } finally {
      await reader.close();
    }
  });

  it('bad lines are listed with file:line and reason, the rest imported, exit 1', async () => {
    const file = write('partly-bad.log', lines(auditEvent(4), '{"kind":"Event",', { ...auditEvent(5), user: {} }, 'garbage \u001b[2J', auditEvent(6)));
    const run = await runImport(['k8s-audit', file, '--data', dataDir]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^imported 2 into chain import as connection imported/);
    assert.match(run.stdout, /^bad lines 3$/m);
    assert.ok(run.stdout.includes(`  ${file}:2: not JSON: it ends early (truncated after 16 characters?)\n`), run.stdout);
    assert.ok(run.stdout.includes(`  ${file}:3: no user.username\n`), run.stdout);
    assert.ok(run.stdout.includes(`  ${file}:4: not JSON: unexpected character\n`), run.stdout);
    assert.ok(!run.stdout.includes('\u001b'));
  });

  it('lists the first ten bad lines and counts the rest', async () => {
    const file = write('all-bad.log', lines(...Array.from({ length: 13 }, (_, i) => `bad line ${i}`)));
    const run = await runImport(['k8s-audit', file, '--data', dataDir]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^bad lines 13$/m);
    assert.equal(run.stdout.split('\n').filter((l) => l.startsWith(`  ${file}:`)).length, 10);
    assert.match(run.stdout, /^ {2}… and 3 more$/m);
  });

  it('--strict refuses the whole import on one bad line, exit 2', async () => {
    const before = (await stored(dataDir)).length;
    const file = write('strict.log', lines(auditEvent(7), { ...auditEvent(8), stage: 'Done' }));
    const run = await runImport(['k8s-audit', file, '--data', dataDir, '--strict']);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /^nothing imported: --strict and 1 bad line in 1 file$/m);
    assert.match(run.stdout, /strict\.log:2: stage "Done" is not one of/);
    assert.equal((await stored(dataDir)).length, before);
  });

  it('--dry-run counts against the ledger and writes nothing', async () => {
    const before = (await stored(dataDir)).length;
    const file = write('dry.log', lines(auditEvent(1), auditEvent(9)));
    const run = await runImport(['k8s-audit', file, '--data', dataDir, '--dry-run', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as K8sAuditImportReport;
    assert.deepEqual([report.dryRun, report.imported, report.duplicates], [true, 1, 1]);
    assert.equal((await stored(dataDir)).length, before);
  });

  it('--dry-run on a data dir without a ledger creates none', async () => {
    const fresh = join(dir, 'fresh');
    const run = await runImport(['k8s-audit', log, '--data', fresh, '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^dry run: would import 3 from 1 file \(4 events read\); nothing written$/m);
    assert.equal(existsSync(join(fresh, 'ledger.db')), false);
  });

  it('a missing file or a bad chain id: a plain error, exit 2, nothing written', async () => {
    const before = (await stored(dataDir)).length;
    const missing = await runImport(['k8s-audit', log, join(dir, 'nope.log'), '--data', dataDir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^airlock: the input is invalid: cannot read .*nope\.log: no such file \[AIRLOCK_INPUT_INVALID\]$/m);
    const badChain = await runImport(['k8s-audit', log, '--data', dataDir, '--chain', '../x']);
    assert.equal(badChain.code, 2);
    assert.match(badChain.stderr, /chain id "\.\.\/x" must match/);
    assert.equal((await stored(dataDir)).length, before);
  });

  it('no file at all is a usage error, exit 2', async () => {
    const run = await runImport(['k8s-audit', '--data', dataDir]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /missing required argument/);
  });
});
