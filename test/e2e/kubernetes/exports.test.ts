/**
 * Exports of a real kubectl 1.33 session through airlock: a get, a read of a Secret, a denied
 * delete and an exec printing planted secrets; then `airlock export sessions` (CSV and JSON
 * lines), `export k8s-audit` and `export replay` hand back one row per request with the right
 * decision and status, audit events that parse as audit.k8s.io/v1, an asciicast of the shell,
 * and no planted secret anywhere.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { registerExport } from '../../../src/cli/export.js';
import { parseAsciicast } from '../../../src/evidence/asciicast.js';
import { CSV_COLUMNS, type K8sAuditEvent } from '../../../src/evidence/export-formats.js';
import type { RequestRow } from '../../../src/evidence/request-rows.js';
import { PLANTED_SECRETS, SEEDED_SECRET_VALUES } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
const secrets = [...Object.values(PLANTED_SECRETS), SEEDED_SECRET_VALUES.password, Buffer.from(SEEDED_SECRET_VALUES.password).toString('base64')];

describe('exports of a kubectl session through airlock', { skip: missingKubectl(33) }, () => {
  let h: GatewayHarness;
  let dir: string;
  let kubectl: KubectlClient;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-exports-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:auditee', groups: ['ci'] });
    kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** exportCli runs `airlock export ARGS --data <airlock's data dir>` in-process. */
  async function exportCli(args: string[]): Promise<{ code: number | string | undefined; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const program = new Command('airlock').exitOverride();
    registerExport(program, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
    const saved = process.exitCode;
    process.exitCode = undefined;
    try {
      await program.parseAsync(['export', ...args, '--data', h.dataDir], { from: 'user' });
      return { code: process.exitCode ?? 0, stdout, stderr };
    } catch (e) {
      if (e instanceof CommanderError) return { code: e.exitCode, stdout, stderr };
      throw e;
    } finally {
      process.exitCode = saved;
    }
  }

  it('a get, a denied delete and an exec become rows, audit events and a replay, with no planted secret', async () => {
    const get = await kubectl.run(['get', 'pods']);
    assert.equal(get.code, 0, get.stderr);
    const secret = await kubectl.run(['get', 'secret', 'db-credentials', '-o', 'yaml']);
    assert.equal(secret.code, 0, secret.stderr);
    const del = await kubectl.run(['delete', 'namespace', 'kube-system']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /protect-system-namespaces/);
    const exec = await kubectl.run(['exec', POD, '--', 'printenv']);
    assert.equal(exec.code, 0, exec.stderr);

    // The shell's closing answer is recorded as the session ends; wait for it, not for a timer.
    const execRequest = await h.waitForEntry((e) => e.type === 'request' && e.action?.subresource === 'exec', 'the exec request');
    await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === execRequest.id, 'the end of the exec session');
    const sessionId = execRequest.sessionId!;
    assert.ok(sessionId);

    const out = join(dir, 'out');
    const files = { csv: join(dir, 'requests.csv'), jsonl: join(dir, 'requests.jsonl'), audit: join(dir, 'audit.jsonl') };
    for (const [args, file] of [
      [['sessions', '--format', 'csv'], files.csv],
      [['sessions', '--format', 'jsonl'], files.jsonl],
      [['k8s-audit'], files.audit],
    ] as const) {
      const r = await exportCli([...args, '--out', file]);
      assert.equal(r.code, 0, r.stderr);
    }
    const replay = await exportCli(['replay', sessionId, '--out', out]);
    assert.equal(replay.code, 0, replay.stderr);

    // JSON lines: one row per request, with the decision and the status the client saw.
    const rows = readFileSync(files.jsonl, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as RequestRow);
    const listPods = rows.find((r) => r.verb === 'list' && r.resource === 'pods');
    assert.ok(listPods, 'the get pods is a row');
    assert.equal(listPods.decision, 'allow');
    assert.equal(listPods.status, 200);
    assert.equal(listPods.subject, 'agent:auditee');
    const deleteRow = rows.find((r) => r.verb === 'delete' && r.resource === 'namespaces');
    assert.ok(deleteRow, 'the denied delete is a row');
    assert.equal(deleteRow.decision, 'deny');
    assert.ok(deleteRow.rules.includes('protect-system-namespaces'), deleteRow.rules.join());
    assert.equal(deleteRow.outcome, 'refused');
    assert.equal(deleteRow.status, 403);
    const execRow = rows.find((r) => r.id === execRequest.id);
    assert.ok(execRow, 'the exec is a row');
    assert.equal(execRow.decision, 'allow');
    assert.equal(execRow.status, 101);
    assert.equal(execRow.terminal, true);

    // CSV: the same rows under the documented header.
    const csv = readFileSync(files.csv, 'utf8').split('\r\n');
    assert.equal(csv[0], CSV_COLUMNS.join(','));
    assert.equal(csv.length, rows.length + 2);

    // Kubernetes audit events parse, one per request, with the same ids.
    const events = readFileSync(files.audit, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as K8sAuditEvent);
    assert.deepEqual(
      events.map((e) => e.auditID),
      rows.map((r) => r.id),
    );
    for (const e of events) {
      assert.equal(e.kind, 'Event');
      assert.equal(e.apiVersion, 'audit.k8s.io/v1');
      assert.equal(e.stage, 'ResponseComplete');
      assert.match(e.requestReceivedTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    }
    const deleteEvent = events.find((e) => e.auditID === deleteRow.id)!;
    assert.equal(deleteEvent.annotations['authorization.k8s.io/decision'], 'forbid');
    assert.equal(deleteEvent.responseStatus?.code, 403);
    // As the API server's own request info has it: a namespace is its own namespace.
    assert.deepEqual(deleteEvent.objectRef, { resource: 'namespaces', namespace: 'kube-system', name: 'kube-system', apiGroup: '', apiVersion: 'v1' });
    assert.equal(deleteEvent.user.username, 'agent:auditee');
    const listEvent = events.find((e) => e.auditID === listPods.id)!;
    assert.equal(listEvent.annotations['authorization.k8s.io/decision'], 'allow');
    assert.equal(listEvent.responseStatus?.code, 200);
    assert.equal(listEvent.requestURI.startsWith('/api/v1/namespaces/default/pods'), true, listEvent.requestURI);

    // The replay: api.jsonl for the session and an asciicast of the shell, printenv's output masked.
    assert.ok(readdirSync(out).includes(`${execRequest.id}.cast`), readdirSync(out).join(', '));
    const cast = parseAsciicast(readFileSync(join(out, `${execRequest.id}.cast`), 'utf8'));
    const screen = cast.events.filter(([, code]) => code === 'o').map(([, , data]) => data).join('');
    assert.match(screen, /^HOSTNAME=web-7d4b9c6f5-k2x8p$/m);
    assert.match(screen, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m);
    const api = readFileSync(join(out, 'api.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; resource?: string; response?: { text?: string } });
    const secretRead = api.find((l) => l.resource === 'secrets');
    assert.ok(secretRead?.response?.text?.includes('db-credentials'), 'the masked Secret read is in the replay');

    // No planted or seeded secret in any export.
    const everything = [files.csv, files.jsonl, files.audit, ...readdirSync(out).map((f) => join(out, f))].map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const s of secrets) assert.ok(!everything.includes(s), `an export holds ${s}`);
  });
});
