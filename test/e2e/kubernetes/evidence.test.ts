/**
 * The evidence bundle from a real recorded run — kubectl 1.33 through airlock: reads, a denied
 * delete, a privileged pod approved by a second person, an exec — exported with the CLI and
 * verified offline. Then every kind of file is altered by one byte, a row deleted, a row added,
 * the ledger segment swapped for another, and a replay edited, added or removed, each with and
 * without re-signing the manifest (an insider holding the key), and `airlock evidence verify` names what is wrong every time.
 * No file of the bundle holds a planted secret.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeManifest, type Manifest } from '../../../src/evidence/bundle-manifest.js';
import { exportLedgerPublicKey, loadLedgerSigningKey } from '../../../src/ledger/index.js';
import type { Identity } from '../../../src/identity/identity.js';
import type { ApprovalRequest } from '../../../src/review/types.js';
import { PLANTED_SECRETS, SEEDED_SECRET_VALUES } from '../../fixtures/fake-apiserver/index.js';
import { runCli } from '../../support/cli.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
const approver: Identity = { subject: 'human:sam', groups: ['airlock:approvers'], issuer: 'https://approvers.example', tokenId: 's', expiresAt: 4102444800, kind: 'human', via: 'test' };

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)]));
}

describe('evidence bundle from a recorded run', { skip: missingKubectl(33) }, () => {
  let h: GatewayHarness;
  let dir: string;
  let bundle: string;
  let other: string;
  let keyFile: string;
  let kubectl: KubectlClient;

  before(async () => {
    h = await startGatewayHarness({ review: { holdTimeout: '20s' } });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-evidence-'));
    kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig: await h.writeKubeconfig(dir, { subject: 'agent:auditee', groups: ['ci'] }) })!;

    assert.equal((await kubectl.run(['get', 'pods'])).code, 0);
    const earlyCut = new Date().toISOString();
    assert.equal((await kubectl.run(['get', 'secrets'])).code, 0);
    assert.notEqual((await kubectl.run(['delete', 'namespace', 'kube-system'])).code, 0);
    writeFileSync(join(dir, 'priv.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: priv-audit, namespace: default}\nspec:\n  containers:\n  - {name: c, image: busybox, securityContext: {privileged: true}}\n');
    const created = kubectl.run(['create', '-f', join(dir, 'priv.yaml')]);
    const requested = await h.waitForEntry((e) => e.type === 'approval.requested', 'the approval request');
    await h.runtime.approvals.approve((requested.data!.approval as ApprovalRequest).id, approver, 'change 4711');
    assert.equal((await created).code, 0);
    const exec = await kubectl.run(['exec', POD, '--', 'printenv']);
    assert.equal(exec.code, 0, exec.stderr);

    keyFile = join(dir, 'ledger-key.pem');
    writeFileSync(keyFile, exportLedgerPublicKey(h.dataDir));
    bundle = join(dir, 'bundle');
    const exported = await runCli(['evidence', 'export', '--data', h.dataDir, '--out', bundle]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /evidence bundle written to .*: \d+ requests \(\d+ denied, 1 sent to review\), 1 approval requests, 1 terminal sessions/);
    other = join(dir, 'other');
    const second = await runCli(['evidence', 'export', '--data', h.dataDir, '--until', earlyCut, '--out', other]);
    assert.equal(second.code, 0, second.stderr);
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const verify = (target: string) => runCli(['evidence', 'verify', target, '--public-key', keyFile]);

  /** tampered copies the bundle, lets `edit` change it, optionally re-signs it with the real key. */
  async function tampered(name: string, edit: (copy: string) => void, resign: boolean): Promise<string> {
    const copy = join(dir, `t-${name.replace(/\W+/g, '-')}-${resign ? 'resigned' : 'plain'}`);
    cpSync(bundle, copy, { recursive: true });
    edit(copy);
    if (resign) {
      const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as Manifest;
      await writeManifest(copy, { createdAt: manifest.createdAt, period: manifest.period, summary: manifest.summary }, loadLedgerSigningKey(h.dataDir));
    }
    return copy;
  }

  it('the bundle holds every kind of evidence and verifies offline against the pinned key', async () => {
    const files = filesUnder(bundle);
    for (const f of ['index.html', 'manifest.json', 'manifest.sig', 'sessions.csv', 'sessions.jsonl', 'k8s-audit.jsonl', 'approvals.jsonl', 'ledger/public-key.pem', 'ledger/main.rows.jsonl', 'ledger/segment.json']) {
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    }
    assert.ok(files.some((f) => f.startsWith('replays/terminal/') && f.endsWith('.cast')), 'the exec replay');
    assert.ok(files.some((f) => f.startsWith('replays/api/')), 'the API replay');
    assert.ok(files.some((f) => /^policies\/[0-9a-f]{64}\.yaml$/.test(f)), 'the policy in force');
    assert.ok(files.some((f) => /^masking\/[0-9a-f]{64}\.json$/.test(f)), 'the masking in force');
    const rows = readFileSync(join(bundle, 'sessions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(rows.some((r) => r.decision === 'deny' && r.rules.includes('protect-system-namespaces')));
    assert.ok(rows.some((r) => r.approval === 'approved' && r.approvedBy.includes('human:sam')));
    assert.ok(rows.some((r) => r.subresource === 'exec' && r.terminal));
    const approvals = readFileSync(join(bundle, 'approvals.jsonl'), 'utf8');
    assert.match(approvals, /"type":"approval.approved".*"reason":"change 4711"/);
    assert.match(readFileSync(join(bundle, 'index.html'), 'utf8'), /CC8\.1/);

    const res = await verify(bundle);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /evidence bundle verified: ok/);
  });

  it('no file of the bundle holds a planted or seeded secret', () => {
    // The seeded Secret's username (`app`) is an ordinary word; its password and the planted keys are not.
    const secrets: string[] = [...Object.values(PLANTED_SECRETS), ...Object.values(SEEDED_SECRET_VALUES)].filter((s) => s.length >= 12);
    for (const f of filesUnder(bundle)) {
      const bytes = readFileSync(join(bundle, f));
      for (const secret of secrets) {
        assert.ok(!bytes.includes(secret), `${f} holds ${secret}`);
        assert.ok(!bytes.includes(Buffer.from(secret).toString('base64')), `${f} holds ${secret} in base64`);
      }
    }
  });

  const kinds = ['sessions.csv', 'sessions.jsonl', 'k8s-audit.jsonl', 'approvals.jsonl', 'index.html', 'ledger/main.rows.jsonl', 'ledger/main.checkpoints.json', 'ledger/segment.json'];
  for (const kind of kinds) {
    it(`one byte changed in ${kind} is caught`, async () => {
      const copy = await tampered(kind, (c) => flipByte(join(c, kind)), false);
      const res = await verify(copy);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stdout, new RegExp(`${kind.replace(/[.]/g, '\\.')} was changed`));
    });
  }
  it('one byte changed in a replay, a policy, a masking configuration or a blob is caught', async () => {
    for (const prefix of ['replays/terminal/', 'replays/api/', 'policies/', 'masking/', 'ledger/blobs/']) {
      const file = filesUnder(bundle).find((f) => f.startsWith(prefix) && !f.endsWith('history.jsonl'));
      if (!file) continue;
      const res = await verify(await tampered(file, (c) => flipByte(join(c, file)), false));
      assert.equal(res.code, 1, `${file}: ${res.stdout}`);
      assert.match(res.stdout, /was changed/);
    }
  });
  it('a file added or removed is caught', async () => {
    const added = await verify(await tampered('added', (c) => writeFileSync(join(c, 'notes.txt'), 'x'), false));
    assert.match(added.stdout, /notes\.txt is not in the manifest/);
    const removed = await verify(await tampered('removed', (c) => rmSync(join(c, 'approvals.jsonl')), false));
    assert.match(removed.stdout, /approvals\.jsonl is listed in the manifest but missing/);
  });
  it('a bundle signed by another key is refused with the pinned key', async () => {
    const copy = await tampered('other-key', () => undefined, false);
    const { generateKeyPairSync } = await import('node:crypto');
    const stranger = generateKeyPairSync('ed25519');
    const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as Manifest;
    await writeManifest(copy, { createdAt: manifest.createdAt, period: manifest.period, summary: manifest.summary }, stranger);
    const res = await verify(copy);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /signature does not verify/);
  });

  // An insider with the signing key re-signs after editing: the rows must still match the ledger.
  it('a session row deleted and re-signed is caught as a ledger entry without its row', async () => {
    const res = await verify(await tampered('row-deleted', (c) => editLines(join(c, 'sessions.jsonl'), (lines) => lines.splice(1, 1)), true));
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /sessions\.jsonl: a ledger entry has no line here \(dropped or changed\)/);
  });
  it('a session row added and re-signed is caught as a row the ledger does not hold', async () => {
    const res = await verify(
      await tampered('row-added', (c) => editLines(join(c, 'sessions.jsonl'), (lines) => lines.push(lines[0]!.replace(/"seq":\d+/, '"seq":999999'))), true),
    );
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /sessions\.jsonl: a line the ledger segment does not hold \(added or changed\)/);
  });
  it('a CSV record deleted and an audit event altered, re-signed, are caught', async () => {
    const csv = await verify(await tampered('csv-deleted', (c) => {
      const text = readFileSync(join(c, 'sessions.csv'), 'utf8').split('\r\n');
      text.splice(2, 1);
      writeFileSync(join(c, 'sessions.csv'), text.join('\r\n'));
    }, true));
    assert.match(csv.stdout, /sessions\.csv: a ledger entry has no record here/);
    const audit = await verify(await tampered('audit-changed', (c) => editLines(join(c, 'k8s-audit.jsonl'), (lines) => (lines[0] = lines[0]!.replace('"allow"', '"forbid"'))), true));
    assert.match(audit.stdout, /k8s-audit\.jsonl: /);
  });
  it('a ledger segment swapped for another period, re-signed, is caught', async () => {
    const res = await verify(await tampered('swapped', (c) => {
      rmSync(join(c, 'ledger'), { recursive: true });
      cpSync(join(other, 'ledger'), join(c, 'ledger'), { recursive: true });
    }, true));
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /a ledger entry has no line here|a line the ledger segment does not hold/);
  });
  it('a replay edited, added or removed and re-signed is caught: replays are what the segment yields', async () => {
    const cast = filesUnder(bundle).find((f) => f.startsWith('replays/terminal/') && f.endsWith('.cast'))!;
    const api = filesUnder(bundle).find((f) => f.startsWith('replays/api/'))!;
    // The exec's output line dropped from its cast (what an insider would hide).
    const edited = await verify(await tampered('cast-edited', (c) => editLines(join(c, cast), (lines) => lines.splice(1, 1)), true));
    assert.equal(edited.code, 1, edited.stdout);
    assert.match(edited.stdout, new RegExp(`${cast.replace(/[.]/g, '\\.')} is not what the ledger segment yields \\(changed\\)`));
    const trimmed = await verify(await tampered('api-edited', (c) => editLines(join(c, api), (lines) => lines.splice(0, 1)), true));
    assert.equal(trimmed.code, 1, trimmed.stdout);
    assert.match(trimmed.stdout, /replays\/api\/.* is not what the ledger segment yields \(changed\)/);
    const invented = await verify(await tampered('cast-added', (c) => writeFileSync(join(c, 'replays', 'terminal', 'invented.cast'), readFileSync(join(c, cast))), true));
    assert.equal(invented.code, 1, invented.stdout);
    assert.match(invented.stdout, /replays\/terminal\/invented\.cast is not a replay the ledger segment yields \(added\)/);
    const removed = await verify(await tampered('cast-removed', (c) => rmSync(join(c, cast)), true));
    assert.equal(removed.code, 1, removed.stdout);
    assert.match(removed.stdout, /is missing: the ledger segment holds that session/);
  });
  it('a ledger entry edited and re-signed breaks the chain', async () => {
    const res = await verify(await tampered('entry-edited', (c) => editLines(join(c, 'ledger', 'main.rows.jsonl'), (lines) => {
      const i = lines.findIndex((l) => l.includes('agent:auditee'));
      lines[i] = lines[i]!.replace('agent:auditee', 'agent:someone');
    }), true));
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /ledger segment: .*(does not hash to its recorded hash|content was changed)/);
  });
});

function flipByte(file: string): void {
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(file, bytes);
}

function editLines(file: string, edit: (lines: string[]) => void): void {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  edit(lines);
  writeFileSync(file, `${lines.join('\n')}\n`);
}
