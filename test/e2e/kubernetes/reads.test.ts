/**
 * Reads through airlock with real clients: kubectl 1.27, 1.30 and 1.33 (called by full path)
 * and @kubernetes/client-node 1.4, against the fake API server behind the gateway. Lists come
 * back as kubectl prints them, and watches stay open and deliver events created in the fake's
 * store after they began — each event recorded in the ledger before it is released.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const SEEDED_PODS = ['web-7d4b9c6f5-k2x8p', 'web-7d4b9c6f5-q7w4z'];

function pod(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'e2e' } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } };
}

/** A queue of watch events that a test awaits one at a time. */
function eventQueue<T>() {
  const items: T[] = [];
  const waiters: Array<{ match: (t: T) => boolean; resolve: (t: T) => void }> = [];
  return {
    push(item: T) {
      items.push(item);
      for (const w of [...waiters]) {
        if (w.match(item)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(item);
        }
      }
    },
    next(match: (t: T) => boolean): Promise<T> {
      const seen = items.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe('reads through airlock with real clients', { concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  const clients = new Map<number, KubectlClient>();
  let kubeconfig: string;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-reads-'));
    kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:reader', groups: ['ci'] });
    for (const minor of kubectlMinors) {
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) clients.set(minor, client);
    }
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const minor of kubectlMinors) {
    it(`kubectl 1.${minor}: get pods and get ns print the cluster's objects`, { skip: missingKubectl(minor) }, async () => {
      const kubectl = clients.get(minor)!;
      const [pods, namespaces] = await Promise.all([kubectl.run(['get', 'pods']), kubectl.run(['get', 'ns'])]);
      assert.equal(pods.code, 0, pods.stderr);
      assert.match(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      for (const name of SEEDED_PODS) assert.match(pods.stdout, new RegExp(`^${name}\\s+1/1\\s+Running`, 'm'));
      assert.equal(namespaces.code, 0, namespaces.stderr);
      for (const ns of ['default', 'kube-public', 'kube-system']) assert.match(namespaces.stdout, new RegExp(`^${ns}\\s+Active`, 'm'));
    });

    it(`kubectl 1.${minor}: get pods -w prints a pod created in the cluster after the watch began`, { skip: missingKubectl(minor) }, async () => {
      const kubectl = clients.get(minor)!;
      const watch = kubectl.start(['get', 'pods', '-w']);
      try {
        await watch.waitFor(new RegExp(SEEDED_PODS[1]!));
        const name = `watched-by-kubectl-1-${minor}`;
        h.fake.put(pod(name));
        await watch.waitFor(new RegExp(`^${name}\\s+0/1\\s+Pending`, 'm'));
      } finally {
        await watch.stop();
      }
    });
  }

  it('kubectl get --raw (which sends its path from the server root) is told to write the connection prefix, and works with it', { skip: missingKubectl(33) }, async () => {
    const kubectl = clients.get(33)!;
    const bare = await kubectl.run(['get', '--raw', '/version']);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /Error from server \(NotFound\): .*write the prefix too: --raw \/k8s\/<connection>\/version/);
    const prefixed = await kubectl.run(['get', '--raw', `/k8s/${h.connection}/version`]);
    assert.equal(prefixed.code, 0, prefixed.stderr);
    assert.equal(JSON.parse(prefixed.stdout).major, '1');
  });

  it('kubectl logs -f streams lines as the container writes them, each chunk recorded before it is released', { skip: missingKubectl(33) }, async () => {
    const kubectl = clients.get(33)!;
    const pod = SEEDED_PODS[0]!;
    const follow = kubectl.start(['logs', '-f', pod, '-c', 'nginx']);
    try {
      await follow.waitFor(/GET \/api\/orders/);
      h.fake.appendPodLog('default', pod, 'a line written after the stream opened', 'nginx');
      await follow.waitFor(/a line written after the stream opened/);
      // A secret the application logs is masked before kubectl (or the ledger) sees it.
      h.fake.appendPodLog('default', pod, 'connecting with key AKIAFAKELOGS7EXAMPLE now', 'nginx');
      await follow.waitFor(/connecting with key \[masked [a-z-]+\] now/);
      assert.ok(!follow.output().includes('AKIAFAKELOGS7EXAMPLE'));
    } finally {
      await follow.stop();
    }
    const entries = await h.entries();
    const request = entries.find((e) => e.type === 'request' && e.action?.subresource === 'log' && e.action?.name === pod && e.action?.follow === true);
    assert.ok(request, 'the logs -f request is recorded');
    const streamed = entries
      .filter((e) => e.type === 'stream' && e.data?.requestId === request.id)
      .map((e) => e.response?.inline ?? '')
      .join('');
    assert.match(streamed, /a line written after the stream opened/);
    assert.ok(!streamed.includes('AKIAFAKELOGS7EXAMPLE'), 'the ledger holds the masked line');
  });

  it('client-node lists pods and namespaces, the same objects kubectl sees', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
    const core = kc.makeApiClient(CoreV1Api);
    const [pods, namespaces] = await Promise.all([core.listNamespacedPod({ namespace: 'default' }), core.listNamespace()]);
    const podNames = pods.items.map((p) => p.metadata?.name);
    for (const name of SEEDED_PODS) assert.ok(podNames.includes(name), `${name} in ${podNames.join(', ')}`);
    assert.deepEqual(
      namespaces.items.map((n) => n.metadata?.name).sort(),
      ['default', 'kube-public', 'kube-system'],
    );
  });

  it('a client-node watch stays open and delivers two events, each after an awaited store change, each recorded as a stream entry first', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
    const events = eventQueue<{ type: string; name: string }>();
    let ended: unknown = 'open';
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: 'app=e2e-stream' },
      (type, obj: { metadata?: { name?: string } }) => events.push({ type, name: obj.metadata?.name ?? '' }),
      (err) => (ended = err),
    );
    try {
      const put = (name: string) => h.fake.put({ ...pod(name), metadata: { name, namespace: 'default', labels: { app: 'e2e-stream' } } });
      put('stream-first');
      const first = await events.next((e) => e.name === 'stream-first');
      assert.equal(first.type, 'ADDED');
      // The second change is made only once the first event has arrived: the stream is live, not replayed.
      put('stream-second');
      const second = await events.next((e) => e.name === 'stream-second');
      assert.equal(second.type, 'ADDED');
      assert.equal(ended, 'open', 'the watch is still open');

      const entries = await h.entries();
      const request = entries.find((e) => e.type === 'request' && e.action?.verb === 'watch' && String(e.data?.target).includes('app%3De2e-stream'));
      assert.ok(request, 'the watch request is recorded');
      const streamed = entries
        .filter((e) => e.type === 'stream' && e.data?.requestId === request.id)
        .map((e) => e.response?.inline ?? '')
        .join('');
      assert.match(streamed, /"name":"stream-first"/);
      assert.match(streamed, /"name":"stream-second"/);
    } finally {
      controller.abort();
    }
  });
});
