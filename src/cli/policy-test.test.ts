/**
 * `airlock policy test` from code: a real ledger in a temp dir holding request entries shaped
 * like the gateway's (decided by the policy in force), then the command run in-process through
 * a commander program, with its output and exit code captured.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { openLedger, type EntryInput, type LedgerEntry } from '../ledger/index.js';
import { compilePolicy, evaluatePolicy, type PolicyIdentity, type PolicyRequest } from '../policy/index.js';
import { registerPolicyTest, type PolicyTestReport } from './policy-test.js';

const currentPolicy = `
default: deny
rules:
  - name: protect-system-namespaces
    match: request.verb == "delete" && request.resource == "namespaces"
    effect: deny
    message: namespaces cannot be deleted through airlock
  - name: agents-read
    match: request.verb in ["get", "list", "watch"]
    effect: allow
  - name: agents-write
    match: request.verb in ["create", "update", "patch", "delete"]
    effect: allow
`;

/** The draft under test: deletes in prod are refused from now on, and so are host-network pods. */
const draftPolicy = `
default: deny
rules:
  - name: no-prod-deletes
    match: request.verb == "delete" && request.connection == "prod"
    effect: deny
    message: deletes in prod go through the release pipeline
  - name: no-host-network
    match: has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork == true
    effect: deny
    message: host-network pods are not allowed
  - name: agents-read
    match: request.verb in ["get", "list", "watch"]
    effect: allow
  - name: agents-write
    match: request.verb in ["create", "update", "patch", "delete"]
    effect: allow
`;

const agent: PolicyIdentity = { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://idp.example', kind: 'agent', tokenId: 'tok-1', via: 'builtin' };
const current = compilePolicy(currentPolicy, { file: 'current.yaml' });
const day = 86_400_000;

let dir: string;
let dataDir: string;
let draftFile: string;
let currentFile: string;
let badFile: string;
const ids: Record<string, string> = {};

/** recorded is the entry the gateway writes for a decided request (see requestEntry). */
function recorded(action: PolicyRequest, options: { ago: number; body?: unknown; refused?: boolean }): EntryInput {
  const decision = evaluatePolicy(current, { request: action, identity: agent, object: options.body });
  const refused = options.refused ?? decision.effect === 'deny';
  return {
    type: 'request',
    time: new Date(Date.now() - options.ago).toISOString(),
    sessionId: 'sess-1',
    identity: agent,
    connection: action.connection,
    action,
    decision: { effect: decision.effect, rules: decision.rules, message: decision.message, ...(decision.defaulted ? { defaulted: true } : {}) },
    ...(options.body !== undefined ? { request: { contentType: 'application/json', body: JSON.stringify(options.body) } } : {}),
    data: { protocol: action.protocol, ...(refused ? { outcome: 'refused', status: 403, reason: 'policy-denied' } : { outcome: 'forwarded' }) },
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-policy-test-'));
  dataDir = join(dir, 'data');
  draftFile = join(dir, 'draft.yaml');
  currentFile = join(dir, 'current.yaml');
  badFile = join(dir, 'draft-bad.yaml');
  writeFileSync(draftFile, draftPolicy);
  writeFileSync(currentFile, currentPolicy);
  writeFileSync(badFile, 'default: deny\nrules:\n  - name: typo\n    match: reqest.verb == "get"\n    effect: allow\n');

  // A small inline limit puts the pod body in the blob store, as a large body would be.
  const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' }, inlineLimit: 64, checkpoint: { entries: 1000, intervalMs: 3_600_000 } });
  const append = async (name: string, input: EntryInput): Promise<LedgerEntry> => {
    const entry = await ledger.append(input);
    ids[name] = entry.id;
    return entry;
  };
  try {
    const k8s = (connection: string, fields: Partial<PolicyRequest>): PolicyRequest => ({ protocol: 'kubernetes', connection, verb: 'get', ...fields });
    await append('oldDelete', recorded(k8s('prod', { verb: 'delete', resource: 'deployments', namespace: 'shop', name: 'legacy' }), { ago: 10 * day }));
    await append('read', recorded(k8s('prod', { verb: 'list', resource: 'pods', namespace: 'shop' }), { ago: 3 * day }));
    const read = await ledger.append(recorded(k8s('prod', { verb: 'get', resource: 'pods', namespace: 'shop', name: 'web-1' }), { ago: 2 * day }));
    await ledger.append({ type: 'response', sessionId: 'sess-1', identity: agent, connection: 'prod', data: { requestId: read.id, status: 200 } });
    await append('stagingDelete', recorded(k8s('staging', { verb: 'delete', resource: 'pods', namespace: 'shop', name: 'web-2' }), { ago: 2 * day }));
    await append(
      'hostPod',
      recorded(k8s('prod', { verb: 'create', resource: 'pods', namespace: 'shop' }), {
        ago: 2 * day,
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox' }] } },
      }),
    );
    await append('systemDelete', recorded(k8s('prod', { verb: 'delete', resource: 'namespaces', name: 'kube-system' }), { ago: 1 * day }));
    await append('delete', recorded(k8s('prod', { verb: 'delete', resource: 'deployments', namespace: 'shop', name: 'web' }), { ago: 3_600_000 }));
    // Refused before authentication: no identity, no action to decide.
    await append('anonymous', {
      type: 'request',
      time: new Date(Date.now() - 60_000).toISOString(),
      connection: 'prod',
      data: { protocol: 'kubernetes', outcome: 'refused', status: 401, reason: 'unauthenticated' },
    });
  } finally {
    await ledger.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | string | undefined;
  stdout: string;
  stderr: string;
}

/** runTest runs `airlock policy test ARGS` in-process, as `airlock` would, and captures it. */
async function runTest(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const program = new Command('airlock').exitOverride();
  program.configureOutput({ writeOut: (t) => void (stdout += t), writeErr: (t) => void (stderr += t) });
  registerPolicyTest(program.command('policy'), { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number | string | undefined;
  try {
    await program.parseAsync(['policy', 'test', ...args], { from: 'user' });
    code = process.exitCode;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { code, stdout, stderr };
}

describe('airlock policy test', () => {
  it('reports the recorded allowed delete in prod as allow → deny and exits 1', async () => {
    const run = await runTest(['--policy', draftFile, '--data', dataDir, '--since', '7d']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^7 recorded requests since \S+ replayed through .*draft\.yaml:$/m);
    assert.match(run.stdout, /^ {2}2 would change, 4 unchanged \(1 by other rules\), 1 could not be replayed \(1 refused before authentication\)$/m);
    assert.match(run.stdout, /^ {2}allow → deny: 2$/m);
    const changes = run.stdout.split('changed requests, newest first:\n')[1]?.trimEnd().split('\n') ?? [];
    assert.equal(changes.length, 2);
    assert.match(
      changes[0] ?? '',
      /agent:deploy-bot delete deployments\/web in shop on prod \(forwarded\): allow \[agents-write\] → deny \[no-prod-deletes\]: deletes in prod go through the release pipeline$/,
    );
    // The pod body was in the blob store; the draft still judged the object it would create.
    assert.match(changes[1] ?? '', /create pods in shop on prod \(forwarded\): allow \[agents-write\] → deny \[no-host-network\]: host-network pods are not allowed$/);
    assert.doesNotMatch(run.stdout, /staging/);
  });

  it('--since leaves out older requests; without it the whole ledger is replayed', async () => {
    const recent = await runTest(['--policy', draftFile, '--data', dataDir, '--since', '7d', '--json']);
    const all = await runTest(['--policy', draftFile, '--data', dataDir, '--json']);
    const recentReport = JSON.parse(recent.stdout) as PolicyTestReport;
    const allReport = JSON.parse(all.stdout) as PolicyTestReport;
    assert.equal(recentReport.changes.some((c) => c.entryId === ids.oldDelete), false);
    assert.equal(allReport.changes.some((c) => c.entryId === ids.oldDelete), true);
    assert.equal(allReport.requests, recentReport.requests + 1);
    assert.equal(allReport.since, undefined);
    const since = Date.parse(recentReport.since ?? '');
    assert.ok(Date.now() - since >= 7 * day && Date.now() - since < 8 * day, recentReport.since);
  });

  it('--json prints the full report', async () => {
    const run = await runTest(['--policy', draftFile, '--data', dataDir, '--json', '--limit', '1']);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout) as PolicyTestReport;
    assert.equal(report.policy, draftFile);
    assert.equal(report.requests, 8);
    assert.equal(report.replayed, 7);
    assert.equal(report.changed, 3);
    assert.equal(report.unchanged, 4);
    assert.deepEqual(report.unreplayable, { total: 1, 'no-identity': 1, 'no-action': 0, 'no-decision': 0 });
    assert.deepEqual(report.transitions, [{ from: 'allow', to: 'deny', count: 3 }]);
    // Every change, newest first, not cut by --limit.
    assert.deepEqual(
      report.changes.map((c) => c.entryId),
      [ids.delete, ids.hostPod, ids.oldDelete],
    );
    const first = report.changes[0];
    assert.equal(first?.subject, 'agent:deploy-bot');
    assert.equal(first?.summary, 'delete deployments/web in shop on prod');
    assert.deepEqual(first?.recorded, { effect: 'allow', rules: ['agents-write'] });
    assert.deepEqual(first?.draft, { effect: 'deny', rules: ['no-prod-deletes'], message: 'deletes in prod go through the release pipeline', defaulted: false });
    assert.match(first?.position ?? '', /^main#\d+$/);
  });

  it('--connection replays only that connection', async () => {
    const run = await runTest(['--policy', draftFile, '--data', dataDir, '--connection', 'staging', '--json']);
    const report = JSON.parse(run.stdout) as PolicyTestReport;
    assert.equal(run.code, 0);
    assert.equal(report.connection, 'staging');
    assert.equal(report.requests, 1);
    assert.equal(report.changed, 0);
  });

  it('--limit caps the list and says how many more there are', async () => {
    const run = await runTest(['--policy', draftFile, '--data', dataDir, '--limit', '1']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /delete deployments\/web in shop on prod/);
    assert.doesNotMatch(run.stdout, /create pods/);
    assert.match(run.stdout, /… and 2 more \(--limit 3 lists them all, --json prints the full report\)/);
  });

  it('exits 0 when replaying with the policy that recorded the traffic changes nothing', async () => {
    const run = await runTest(['--policy', currentFile, '--data', dataDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ {2}0 would change, 7 unchanged, 1 could not be replayed/m);
    assert.match(run.stdout, /^no decision would change$/m);
  });

  it('exits 2 with the compile error at file:line for a draft that does not compile', async () => {
    const run = await runTest(['--policy', badFile, '--data', dataDir]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /draft-bad\.yaml:4:\d+: rule "typo".*reqest/);
    assert.match(run.stderr, /\[AIRLOCK_POLICY_INVALID\]/);
  });

  it('exits 2, not 1, for bad flags', async () => {
    const badSince = await runTest(['--policy', draftFile, '--data', dataDir, '--since', '1mo']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /invalid duration "1mo"/);
    const badLimit = await runTest(['--policy', draftFile, '--data', dataDir, '--limit', 'all']);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit must be a whole number/);
    const noPolicy = await runTest(['--data', dataDir]);
    assert.equal(noPolicy.code, 2);
    assert.match(noPolicy.stderr, /--policy/);
  });
});
