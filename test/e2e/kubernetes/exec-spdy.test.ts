/**
 * kubectl exec through airlock over SPDY/3.1 (kubectl 1.27, and kubectl 1.33 with
 * KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): output reaches the client with planted secrets
 * masked, stdin and the exit status pass, and each session is recorded as a replayable terminal
 * session exactly like the WebSocket path, with no planted secret in the record. A policy denial
 * refuses the SPDY upgrade too. (SPDY port-forward: port-forward.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readTerminalSession } from '../../../src/evidence/terminal-session.js';
import { openLedgerReader } from '../../../src/ledger/index.js';
import { PLANTED_SECRETS } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
const planted = Object.values(PLANTED_SECRETS);

/** The two ways a client speaks SPDY: an old release, and a current one told not to use WebSocket. */
const cases = [
  { name: 'kubectl 1.27', minor: 27, env: {} },
  { name: 'kubectl 1.33 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false', minor: 33, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
] as const;

describe('kubectl exec over SPDY/3.1 through airlock', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  const clients = new Map<number, KubectlClient>();

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-exec-spdy-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:operator', groups: ['ci'] });
    for (const minor of [27, 33]) {
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) clients.set(minor, client);
    }
    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-1', namespace: 'kube-system' }, spec: { containers: [{ name: 'coredns', image: 'coredns:1.11' }] }, status: { phase: 'Running' } });
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.name}: exec -- echo prints its output and exits 0`, { skip: missingKubectl(c.minor) }, async () => {
      const res = await clients.get(c.minor)!.run(['exec', POD, '--', 'echo', `hello-spdy-${c.minor}`], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `hello-spdy-${c.minor}\n`);
    });

    it(`${c.name}: printenv arrives with planted secrets masked`, { skip: missingKubectl(c.minor) }, async () => {
      const res = await clients.get(c.minor)!.run(['exec', POD, '--', 'printenv'], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^HOSTNAME=web-7d4b9c6f5-k2x8p$/m);
      assert.match(res.stdout, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m);
      for (const secret of planted) assert.ok(!res.stdout.includes(secret), `kubectl printed ${secret}`);
    });

    it(`${c.name}: exec -i -- cat passes piped stdin and masks the planted secret it echoes`, { skip: missingKubectl(c.minor) }, async () => {
      const typed = `line one\nkey ${PLANTED_SECRETS.awsAccessKeyId} from spdy 1.${c.minor}\n`;
      const res = await clients.get(c.minor)!.run(['exec', '-i', POD, '--', 'cat'], { env: c.env, input: typed });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^line one$/m);
      assert.match(res.stdout, new RegExp(`^key \\[masked [a-z-]+\\] from spdy 1\\.${c.minor}$`, 'm'));
      assert.ok(!res.stdout.includes(PLANTED_SECRETS.awsAccessKeyId));
    });

    it(`${c.name}: exec -- false exits 1`, { skip: missingKubectl(c.minor) }, async () => {
      const res = await clients.get(c.minor)!.run(['exec', POD, '--', 'false'], { env: c.env });
      assert.equal(res.code, 1, res.stderr);
    });

    it(`${c.name}: the exec is a terminal session in the ledger with its exit status, and no planted secret is recorded`, { skip: missingKubectl(c.minor) }, async () => {
      const marker = `record-spdy-${c.minor}`;
      const res = await clients.get(c.minor)!.run(['exec', POD, '--', 'echo', marker], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      const entries = await h.entries();
      const request = entries.findLast((e) => e.type === 'request' && e.action?.subresource === 'exec' && (e.action?.command as string[] | undefined)?.includes(marker));
      assert.ok(request, 'the exec request is recorded');
      const reader = await openLedgerReader({ dataDir: h.dataDir, store: { kind: 'sqlite', path: h.ledgerFile } });
      try {
        const session = await readTerminalSession(reader, request.id);
        assert.ok(session, 'a terminal session is recorded for the exec');
        assert.deepEqual(session.events.map((e) => e.kind), ['o', 'x']);
        assert.equal(session.events[0]?.data, `${marker}\n`);
        assert.equal(session.events[1]?.data, '0');
      } finally {
        await reader.close();
      }
      const ledgerText = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1');
      for (const secret of planted) assert.ok(!ledgerText.includes(secret), `the ledger holds ${secret}`);
      assert.equal((await h.verify()).ok, true);
    });
  }

  it('kubectl 1.27: an exec denied by policy in kube-system is refused before reaching the cluster', { skip: missingKubectl(27) }, async () => {
    const res = await clients.get(27)!.run(['exec', '-n', 'kube-system', 'coredns-1', '--', 'sh']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no-shell-in-kube-system/);
    const denied = (await h.entries()).filter((e) => e.type === 'request' && e.action?.subresource === 'exec' && e.action?.namespace === 'kube-system');
    assert.ok(denied.length >= 1, 'the denied exec is recorded');
    assert.ok(denied.every((e) => e.decision?.effect === 'deny'));
    assert.ok(!h.fake.received.some((r) => r.path.includes('/namespaces/kube-system/') && r.path.endsWith('/exec')), 'no exec reached the cluster');
  });
});
