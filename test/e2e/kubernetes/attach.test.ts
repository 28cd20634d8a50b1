/**
 * kubectl attach through airlock (kubectl 1.33 over WebSocket, kubectl 1.27 over SPDY/3.1) and
 * @kubernetes/client-node `Exec`: what the attached shell prints reaches the client with planted
 * secrets masked, the session ends cleanly, and each one is recorded as a terminal session —
 * piped stdin and output masked, exit status last — with no planted secret anywhere in the
 * ledger. An attach denied by policy is refused before it reaches the cluster, while an exec
 * into the same pod is still allowed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { readTerminalSession, type TerminalSession } from '../../../src/evidence/terminal-session.js';
import { openLedgerReader, type LedgerEntry } from '../../../src/ledger/index.js';
import { PLANTED_SECRETS } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
const CONTAINER = 'nginx';
const GUARDED_NS = 'payments';
const GUARDED_POD = 'ledger-api-0';
const planted = Object.values(PLANTED_SECRETS);

/** Allow everything except attaching to a pod in the guarded namespace; exec stays allowed there. */
const POLICY = `default: allow
rules:
  - name: no-attach-in-${GUARDED_NS}
    match: |
      request.protocol == "kubernetes" && has(request.subresource) && request.subresource == "attach"
      && has(request.namespace) && request.namespace == "${GUARDED_NS}"
    effect: deny
    message: attaching to running processes in ${GUARDED_NS} is not allowed through airlock
`;

/** The two transports kubectl attaches over, each with its own caller so concurrent tests keep their records apart. */
const cases = [
  { name: 'kubectl 1.33 (WebSocket)', minor: 33, protocol: 'v5.channel.k8s.io' },
  { name: 'kubectl 1.27 (SPDY)', minor: 27, protocol: 'v4.channel.k8s.io' },
] as const;

/** session waits for the final entry of `request` and reads its terminal session back from the ledger. */
async function session(h: GatewayHarness, request: LedgerEntry): Promise<{ end: LedgerEntry; recorded: TerminalSession }> {
  const end = await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, `the end of session ${request.id}`);
  const reader = await openLedgerReader({ dataDir: h.dataDir, store: { kind: 'sqlite', path: h.ledgerFile } });
  try {
    const recorded = await readTerminalSession(reader, request.id);
    assert.ok(recorded, `a terminal session is recorded for ${request.id}`);
    return { end, recorded };
  } finally {
    await reader.close();
  }
}

/** assertLedgerClean checks the ledger's entries and its SQLite file for planted secrets, then verifies the chain. */
async function assertLedgerClean(h: GatewayHarness): Promise<void> {
  const ledgerText = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1');
  for (const secret of planted) assert.ok(!ledgerText.includes(secret), `the ledger holds ${secret}`);
  assert.equal((await h.verify()).ok, true);
}

describe('kubectl attach and client-node exec through airlock', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  const attachers = new Map<number, KubectlClient>();
  const subjectOf = (minor: number) => `agent:attach-1-${minor}`;

  before(async () => {
    h = await startGatewayHarness({ policy: POLICY });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-attach-'));
    for (const { minor } of cases) {
      const kubeconfig = await h.writeKubeconfig(dir, { subject: subjectOf(minor), groups: ['ci'] });
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) attachers.set(minor, client);
    }
    h.fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: GUARDED_NS } });
    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: GUARDED_POD, namespace: GUARDED_NS }, spec: { containers: [{ name: 'api', image: 'ledger-api:2.4' }] }, status: { phase: 'Running' } });
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.name}: attach -i runs piped commands in the pod's shell, prints them masked, ends cleanly and is recorded as a masked terminal session`, { skip: missingKubectl(c.minor) }, async () => {
      const marker = `attached-over-1-${c.minor}`;
      const typed = `echo ${marker}\nprintenv\necho key ${PLANTED_SECRETS.awsAccessKeyId}\nexit 0\n`;
      const res = await attachers.get(c.minor)!.run(['attach', '-i', POD], { input: typed });
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /error/i);
      assert.match(res.stdout, new RegExp(`^${marker}$`, 'm'));
      assert.match(res.stdout, new RegExp(`^HOSTNAME=${POD}$`, 'm'));
      assert.match(res.stdout, /^AWS_ACCESS_KEY_ID=\[masked [a-z-]+\]$/m);
      assert.match(res.stdout, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m);
      assert.match(res.stdout, /^API_TOKEN=\[masked [a-z-]+\]$/m);
      assert.match(res.stdout, /^key \[masked [a-z-]+\]$/m);
      for (const secret of planted) assert.ok(!res.stdout.includes(secret), `kubectl printed ${secret}`);

      // The same caller's denied attach runs alongside: this one is the attach into the default namespace.
      const request = await h.waitForEntry((e) => e.type === 'request' && e.identity?.subject === subjectOf(c.minor) && e.action?.subresource === 'attach' && e.action?.namespace === 'default', `${subjectOf(c.minor)}'s attach`);
      assert.equal(request.action?.name, POD);
      assert.equal(request.action?.stdin, true);
      assert.equal(request.action?.tty, false);
      assert.equal(request.decision?.effect, 'allow');

      const { end, recorded } = await session(h, request);
      assert.equal(end.data?.protocol, c.protocol, 'the attach ran over the transport this kubectl speaks');
      assert.deepEqual(end.data?.exit, { outcome: 'success', exitCode: 0 });
      const kinds = recorded.events.map((e) => e.kind);
      assert.ok(kinds.includes('i'), `stdin is recorded: ${kinds.join(',')}`);
      assert.deepEqual(recorded.events.at(-1), { ...recorded.events.at(-1), kind: 'x', data: '0' });
      const stdin = recorded.events.filter((e) => e.kind === 'i').map((e) => e.data).join('');
      assert.match(stdin, new RegExp(`^echo ${marker}\\nprintenv\\necho key \\[masked [a-z-]+\\]\\nexit 0\\n$`), 'the typed lines are recorded, the typed key masked');
      const output = recorded.events.filter((e) => e.kind === 'o').map((e) => e.data).join('');
      assert.equal(output, res.stdout, 'the record shows what kubectl printed');
      await assertLedgerClean(h);
    });

    it(`${c.name}: an attach denied by policy is refused before it reaches the cluster, while exec into the same pod is allowed`, { skip: missingKubectl(c.minor) }, async () => {
      const kubectl = attachers.get(c.minor)!;
      const denied = await kubectl.run(['attach', '-i', '-n', GUARDED_NS, GUARDED_POD], { input: `echo should-not-run-1-${c.minor}\nexit 0\n` });
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Forbidden/);
      assert.match(denied.stderr, new RegExp(`no-attach-in-${GUARDED_NS}`));
      assert.ok(!denied.stdout.includes(`should-not-run-1-${c.minor}`), denied.stdout);

      const refused = (await h.entries()).filter((e) => e.type === 'request' && e.identity?.subject === subjectOf(c.minor) && e.action?.subresource === 'attach' && e.action?.namespace === GUARDED_NS);
      assert.ok(refused.length >= 1, 'the denied attach is recorded');
      assert.ok(refused.every((e) => e.decision?.effect === 'deny'), JSON.stringify(refused.map((e) => e.decision)));
      assert.ok(!h.fake.received.some((r) => r.path === `/api/v1/namespaces/${GUARDED_NS}/pods/${GUARDED_POD}/attach`), 'no attach reached the cluster');
      assert.ok(!h.fake.streamSessions.some((s) => s.kind === 'attach' && s.namespace === GUARDED_NS), 'no process in the pod was attached to');

      const marker = `exec-still-allowed-1-${c.minor}`;
      const exec = await kubectl.run(['exec', '-n', GUARDED_NS, GUARDED_POD, '--', 'echo', marker]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(exec.stdout, `${marker}\n`);
    });
  }

  it('@kubernetes/client-node Exec runs printenv: stdout arrives masked, the status is Success, and the session is recorded with its command', async () => {
    const subject = 'agent:client-node-exec';
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(await h.writeKubeconfig(dir, { subject, groups: ['ci'] }), 'utf8'));
    let stdout = '';
    let stderr = '';
    const sink = (append: (text: string) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          append(chunk.toString());
          done();
        },
      });
    let reportStatus!: (status: V1Status) => void;
    const status = new Promise<V1Status>((resolve) => (reportStatus = resolve));
    const ws = await new Exec(kc).exec('default', POD, CONTAINER, ['printenv'], sink((t) => (stdout += t)), sink((t) => (stderr += t)), null, false, reportStatus);
    const closed = new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.on('close', () => resolve())));
    assert.equal((await status).status, 'Success', JSON.stringify(await status));
    await closed;

    assert.equal(stderr, '');
    assert.match(stdout, new RegExp(`^HOSTNAME=${POD}$`, 'm'));
    assert.match(stdout, /^AWS_ACCESS_KEY_ID=\[masked [a-z-]+\]$/m);
    assert.match(stdout, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m);
    assert.match(stdout, /^API_TOKEN=\[masked [a-z-]+\]$/m);
    for (const secret of planted) assert.ok(!stdout.includes(secret), `client-node received ${secret}`);

    const request = await h.waitForEntry((e) => e.type === 'request' && e.identity?.subject === subject && e.action?.subresource === 'exec', `${subject}'s exec`);
    assert.deepEqual(request.action?.command, ['printenv']);
    assert.equal(request.action?.container, CONTAINER);
    const { end, recorded } = await session(h, request);
    assert.deepEqual(end.data?.exit, { outcome: 'success', exitCode: 0 });
    assert.equal(recorded.events.filter((e) => e.kind === 'o').map((e) => e.data).join(''), stdout, 'the record shows what the client received');
    assert.deepEqual(recorded.events.at(-1), { ...recorded.events.at(-1), kind: 'x', data: '0' });
    await assertLedgerClean(h);
  });
});
