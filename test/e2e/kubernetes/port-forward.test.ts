/**
 * Port-forward through airlock in each form clients speak — SPDY/3.1 (kubectl 1.27 and 1.30),
 * SPDY tunnelled in WebSocket (kubectl 1.33) and channel WebSocket (@kubernetes/client-node) —
 * carrying HTTP requests to a pod's port. Each session is recorded connection by connection:
 * open and close, the port, bytes each way, errors the cluster reports; with capture on, the
 * bytes themselves, masked. A port-forward denied by policy reaches no cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { PLANTED_SECRETS } from '../../fixtures/fake-apiserver/index.js';
import { httpGet } from '../../support/http-get.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
const planted = Object.values(PLANTED_SECRETS);


interface PortForwardEvent {
  kind: 'open' | 'data' | 'error' | 'close';
  connection: string;
  port: number;
  direction?: 'to-pod' | 'from-pod';
  data?: string;
  bytes?: { toPod: number; fromPod: number };
  how?: string;
}

/** session waits for the final entry of the port-forward a subject opened, and gathers its events. */
async function session(h: GatewayHarness, subject: string): Promise<{ request: LedgerEntry; end: LedgerEntry; events: PortForwardEvent[] }> {
  const request = await h.waitForEntry((e) => e.type === 'request' && e.action?.subresource === 'portforward' && e.identity?.subject === subject, `${subject}'s port-forward`);
  const end = await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, `the end of ${subject}'s port-forward`);
  const entries = await h.entries();
  const streams = entries.filter((e) => e.type === 'stream' && e.data?.requestId === request.id);
  const events = streams.flatMap((e) => JSON.parse(e.response?.inline ?? '[]') as PortForwardEvent[]);
  return { request, end, events };
}

const kubectlCases = [
  { minor: 27, transport: 'spdy', protocol: 'portforward.k8s.io' },
  { minor: 30, transport: 'spdy', protocol: 'portforward.k8s.io' },
  { minor: 33, transport: 'websocket-spdy', protocol: 'SPDY/3.1+portforward.k8s.io' },
] as const;

describe('port-forward through airlock', { concurrency: true }, () => {
  let h: GatewayHarness;
  let capturing: GatewayHarness;
  let dir: string;

  before(async () => {
    [h, capturing] = await Promise.all([startGatewayHarness(), startGatewayHarness({ connection: { streams: { portForwardCapture: true } } })]);
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-port-forward-'));
    for (const harness of [h, capturing]) {
      harness.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-1', namespace: 'kube-system' }, spec: { containers: [{ name: 'coredns', image: 'coredns:1.11' }] }, status: { phase: 'Running' } });
    }
  });
  after(async () => {
    await Promise.all([h?.close(), capturing?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function client(harness: GatewayHarness, minor: number, subject: string) {
    const kubeconfig = await harness.writeKubeconfig(dir, { subject, groups: ['ci'] });
    return kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig })!;
  }

  for (const c of kubectlCases) {
    it(`kubectl 1.${c.minor} (${c.transport}): HTTP reaches the pod, and each connection is recorded with its port and bytes`, { skip: missingKubectl(c.minor) }, async () => {
      const subject = `agent:pf-${c.minor}`;
      const kubectl = await client(h, c.minor, subject);
      const pf = kubectl.start(['port-forward', `pod/${POD}`, ':8080']);
      let local: number;
      try {
        local = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/))[1]);
        assert.equal(await httpGet(local), `hello from ${POD}\n`);
        assert.equal(await httpGet(local), `hello from ${POD}\n`);
        // Port-forward carries TCP unchanged: airlock cannot mask a protocol it does not see.
        assert.match(await httpGet(local, '/env'), new RegExp(`AWS_SECRET_ACCESS_KEY=${PLANTED_SECRETS.awsSecretAccessKey}`));
      } finally {
        await pf.stop();
      }
      const { request, end, events } = await session(h, subject);
      assert.equal(request.decision?.effect, 'allow');
      assert.equal(end.data?.status, 101);
      assert.equal(end.data?.portForward, true);
      assert.equal(end.data?.transport, c.transport);
      assert.equal(end.data?.protocol, c.protocol);
      assert.equal(end.data?.connections, 3);
      assert.deepEqual(end.data?.ports, [8080]);
      const opens = events.filter((e) => e.kind === 'open');
      const closes = events.filter((e) => e.kind === 'close');
      assert.equal(opens.length, 3);
      assert.deepEqual(new Set(closes.map((e) => e.connection)), new Set(opens.map((e) => e.connection)), 'every connection that opened closed');
      for (const close of closes) {
        assert.equal(close.port, 8080);
        assert.ok(close.bytes!.toPod > 0 && close.bytes!.fromPod > 0, JSON.stringify(close));
      }
      const totals = end.data?.bytes as { toPod: number; fromPod: number };
      assert.equal(totals.fromPod, closes.reduce((n, e) => n + e.bytes!.fromPod, 0));
      assert.ok(!events.some((e) => e.kind === 'data'), 'without capture no bytes are recorded');
      const ledgerText = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1');
      for (const secret of planted) assert.ok(!ledgerText.includes(secret), `the ledger holds ${secret}`);
    });
  }

  it('kubectl 1.33: a closed pod port is recorded as the error the cluster reported', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:pf-closed';
    const kubectl = await client(h, 33, subject);
    const pf = kubectl.start(['port-forward', `pod/${POD}`, ':9999']);
    try {
      const local = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 9999/))[1]);
      await httpGet(local).catch(() => undefined);
      await pf.waitFor(/connection refused/);
    } finally {
      await pf.stop();
    }
    const { end, events } = await session(h, subject);
    const error = events.find((e) => e.kind === 'error');
    assert.ok(error, JSON.stringify(events));
    assert.equal(error.port, 9999);
    assert.match(error.data ?? '', /connection refused/);
    assert.ok((end.data?.errors as number) >= 1);
  });

  it('@kubernetes/client-node (channel WebSocket): an HTTP request reaches the pod and the port is recorded', async () => {
    const subject = 'agent:pf-client-node';
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(await h.writeKubeconfig(dir, { subject }), 'utf8'));
    const output = new PassThrough();
    let received = '';
    output.on('data', (d: Buffer) => (received += d.toString()));
    const gotResponse = new Promise<void>((resolve) => output.on('data', () => received.includes('hello from') && resolve()));
    // client-node closes the WebSocket when its input ends, as a local socket's end would: the
    // input stays open until the answer is in.
    const input = new PassThrough();
    input.write('GET / HTTP/1.0\r\nHost: pod\r\n\r\n');
    await new PortForward(kc).portForward('default', POD, [8080], output, null, input);
    await gotResponse;
    input.end();
    assert.match(received, new RegExp(`hello from ${POD}`));
    const { end, events } = await session(h, subject);
    assert.equal(end.data?.transport, 'websocket');
    assert.equal(end.data?.protocol, 'v4.channel.k8s.io');
    assert.deepEqual(end.data?.ports, [8080]);
    const close = events.find((e) => e.kind === 'close');
    assert.ok(close && close.bytes!.toPod > 0 && close.bytes!.fromPod > 0, JSON.stringify(events));
  });

  it('with streams.portForwardCapture the bytes are recorded, masked, while the client gets them as sent', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:pf-capture';
    const kubectl = await client(capturing, 33, subject);
    const pf = kubectl.start(['port-forward', `pod/${POD}`, ':8080']);
    let body: string;
    try {
      const local = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/))[1]);
      body = await httpGet(local, '/env');
    } finally {
      await pf.stop();
    }
    assert.ok(body.includes(PLANTED_SECRETS.awsSecretAccessKey));
    const { events } = await session(capturing, subject);
    const sent = events.filter((e) => e.kind === 'data' && e.direction === 'to-pod').map((e) => Buffer.from(e.data!, 'base64').toString()).join('');
    const got = events.filter((e) => e.kind === 'data' && e.direction === 'from-pod').map((e) => Buffer.from(e.data!, 'base64').toString()).join('');
    assert.match(sent, /^GET \/env HTTP\/1\.1\r\n/);
    assert.match(got, /HOSTNAME=web-7d4b9c6f5-k2x8p/);
    assert.match(got, /AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]/);
    const ledgerText = JSON.stringify(await capturing.entries()) + readFileSync(capturing.ledgerFile).toString('latin1');
    for (const secret of planted) assert.ok(!ledgerText.includes(secret), `the ledger holds ${secret}`);
  });

  it('kubectl 1.33: a port-forward denied by policy is refused on the WebSocket attempt and the SPDY fallback', { skip: missingKubectl(33) }, async () => {
    const subject = 'agent:pf-denied';
    const kubectl = await client(h, 33, subject);
    h.fake.clearReceived();
    const res = await kubectl.run(['port-forward', '-n', 'kube-system', 'pod/coredns-1', ':53']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no-shell-in-kube-system/);
    const denied = (await h.entries()).filter((e) => e.type === 'request' && e.identity?.subject === subject && e.action?.subresource === 'portforward');
    assert.ok(denied.length >= 1 && denied.every((e) => e.decision?.effect === 'deny'));
    assert.ok(!h.fake.received.some((r) => r.path.includes('/namespaces/kube-system/') && r.path.endsWith('/portforward')), 'no port-forward reached the cluster');
  });
});
