/**
 * Port-forward sessions read frame by frame, without sockets: tunnelled SPDY split across
 * WebSocket messages at every byte, the channel form with its port announcements, refusals of
 * what is not port-forward, capture masking, and the summary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortForwardEvent } from '../../../evidence/port-forward-recording.js';
import { selectDetectors } from '../../../masking/detectors/registry.js';
import { encodeDataFrame, encodeSynReply, encodeSynStream } from './spdy/spdy-frame-encoder.js';
import { HeaderDeflater } from './spdy/spdy-headers.js';
import { spdyPortForwardObserver, webSocketPortForwardObserver, type PortForwardEnd } from './port-forward-session.js';

const TUNNEL = 'SPDY/3.1+portforward.k8s.io';
const SECRET = 'AKIAFAKEFAKE7EXAMPLE';

/** A client and server pair of header compressors, as kubectl and the kubelet keep them. */
function spdyPeers() {
  const client = new HeaderDeflater();
  const server = new HeaderDeflater();
  const open = (id: number, type: 'data' | 'error', port: number, requestId: string) =>
    encodeSynStream({ streamId: id, headerBlock: client.compress({ streamtype: type, port: String(port), requestid: requestId }) });
  const reply = (id: number) => encodeSynReply(id, server.compress({}));
  return { open, reply };
}

function tunnelSession(capture = false) {
  const batches: PortForwardEvent[] = [];
  let ended: PortForwardEnd | undefined;
  const observer = webSocketPortForwardObserver({
    offered: [TUNNEL],
    ports: [],
    detectors: selectDetectors(['secretlint']),
    capture,
    onBatch: (events) => batches.push(...events),
    onEnd: (end) => {
      ended = end;
    },
  });
  assert.equal(observer.accept(TUNNEL), undefined);
  observer.open(TUNNEL, () => undefined, () => undefined);
  return { observer, events: () => [...batches, ...(ended?.events ?? [])], end: () => ended };
}

describe('port-forward over the SPDY tunnel', () => {
  it('passes the bytes unchanged, however the WebSocket messages cut the frames, and records one connection', () => {
    const { open, reply } = spdyPeers();
    const opens = Buffer.concat([open(1, 'error', 8080, '0'), open(3, 'data', 8080, '0')]);
    const request = Buffer.concat([encodeDataFrame(3, Buffer.from('GET / HTTP/1.1\r\n\r\n')), encodeDataFrame(3, new Uint8Array(), { fin: true })]);
    const fromClient = Buffer.concat([opens, request]);
    const fromServer = Buffer.concat([reply(1), reply(3), encodeDataFrame(3, Buffer.from('HTTP/1.1 200 OK\r\n\r\nhello'), { fin: true }), encodeDataFrame(1, new Uint8Array(), { fin: true })]);
    for (const cut of [1, 3, 7, 64, fromClient.length]) {
      const s = tunnelSession();
      const relayed = { client: [] as Buffer[], server: [] as Buffer[] };
      // The client opens its streams, the server answers, then the client sends and half-closes.
      const feed = (direction: 'client-to-upstream' | 'upstream-to-client', bytes: Buffer) => {
        for (let i = 0; i < bytes.length; i += cut) {
          const out = s.observer.message(direction, bytes.subarray(i, i + cut), true);
          if (out) relayed[direction === 'client-to-upstream' ? 'client' : 'server'].push(out);
        }
      };
      feed('client-to-upstream', opens);
      feed('upstream-to-client', fromServer);
      feed('client-to-upstream', request);
      s.observer.closed({ by: 'client', code: 1000, reason: '' });
      assert.deepEqual(Buffer.concat(relayed.client), fromClient, `cut ${cut}`);
      assert.deepEqual(Buffer.concat(relayed.server), fromServer, `cut ${cut}`);
      const events = s.events();
      assert.deepEqual(events.map((e) => [e.kind, e.connection, e.port]), [['open', '0', 8080], ['close', '0', 8080]], `cut ${cut}`);
      assert.deepEqual(events[1]?.bytes, { toPod: 18, fromPod: 24 });
      assert.equal(events[1]?.how, 'closed');
      assert.deepEqual({ ...s.end()!.summary }, { protocol: TUNNEL, transport: 'websocket-spdy', closedBy: 'client', connections: 1, ports: [8080], bytes: { toPod: 18, fromPod: 24 }, errors: 0 });
    }
  });

  it('refuses a stream that is not port-forward, and a text message, instead of passing them unread', () => {
    const { open } = spdyPeers();
    const s = tunnelSession();
    const stdin = encodeSynStream({ streamId: 1, headerBlock: new HeaderDeflater().compress({ streamtype: 'stdin' }) });
    assert.throws(() => s.observer.message('client-to-upstream', Buffer.from(stdin), true), /type "stdin"/);
    const t = tunnelSession();
    assert.throws(() => t.observer.message('client-to-upstream', Buffer.from(open(1, 'data', 8080, '0')), false), /binary messages only/);
    const u = tunnelSession();
    const badPort = encodeSynStream({ streamId: 1, headerBlock: new HeaderDeflater().compress({ streamtype: 'data', port: 'http', requestid: '0' }) });
    assert.throws(() => u.observer.message('client-to-upstream', Buffer.from(badPort), true), /not a port from 1 to 65535/);
  });

  it('records the error the cluster sends for a connection, and a connection still open at the end as aborted', () => {
    const { open, reply } = spdyPeers();
    const s = tunnelSession();
    s.observer.message('client-to-upstream', Buffer.concat([open(1, 'error', 9999, '0'), open(3, 'data', 9999, '0')]), true);
    s.observer.message('upstream-to-client', Buffer.concat([reply(1), reply(3), encodeDataFrame(1, Buffer.from('dial tcp 127.0.0.1:9999: connect: connection refused'))]), true);
    s.observer.closed({ by: 'upstream', code: 1000, reason: '' });
    const events = s.events();
    assert.deepEqual(events.map((e) => e.kind), ['open', 'error', 'close']);
    assert.match(events[1]!.data!, /connection refused/);
    assert.equal(events[2]!.how, 'aborted');
    assert.equal(s.end()!.summary.errors, 1);
  });

  it('with capture, records the bytes masked, even a secret split across frames', () => {
    const { open, reply } = spdyPeers();
    const s = tunnelSession(true);
    const body = `AWS_ACCESS_KEY_ID=${SECRET}\n`;
    s.observer.message('client-to-upstream', Buffer.concat([open(1, 'error', 80, '7'), open(3, 'data', 80, '7')]), true);
    s.observer.message('upstream-to-client', Buffer.concat([reply(1), reply(3), encodeDataFrame(3, Buffer.from(body.slice(0, 25))), encodeDataFrame(3, Buffer.from(body.slice(25)), { fin: true })]), true);
    s.observer.message('client-to-upstream', Buffer.from(encodeDataFrame(3, new Uint8Array(), { fin: true })), true);
    s.observer.closed({ by: 'client', code: 1000, reason: '' });
    const captured = s.events().filter((e) => e.kind === 'data').map((e) => Buffer.from(e.data!, 'base64').toString()).join('');
    assert.match(captured, /^AWS_ACCESS_KEY_ID=\[masked [a-z-]+\]\n$/);
    assert.ok(!JSON.stringify(s.events()).includes(SECRET));
  });
});

describe('port-forward over channel WebSocket', () => {
  function channelSession(ports: number[]) {
    const events: PortForwardEvent[] = [];
    let end: PortForwardEnd | undefined;
    const observer = webSocketPortForwardObserver({
      offered: ['v4.channel.k8s.io'],
      ports,
      detectors: [],
      capture: false,
      onBatch: (e) => events.push(...e),
      onEnd: (e) => {
        end = e;
      },
    });
    return { observer, all: () => [...events, ...(end?.events ?? [])], end: () => end };
  }

  it('reads the port announcements, counts bytes per port and closes every port with the session', () => {
    const s = channelSession([8080, 80]);
    assert.equal(s.observer.accept('v4.channel.k8s.io'), undefined);
    s.observer.open('v4.channel.k8s.io', () => undefined, () => undefined);
    const announce = (channel: number, port: number) => Buffer.from([channel, port & 0xff, port >> 8]);
    for (const m of [announce(0, 8080), announce(1, 8080), announce(2, 80), announce(3, 80)]) assert.deepEqual(s.observer.message('upstream-to-client', m, true), m);
    s.observer.message('client-to-upstream', Buffer.from([0, ...Buffer.from('GET /')]), true);
    s.observer.message('upstream-to-client', Buffer.from([0, ...Buffer.from('200 OK')]), true);
    s.observer.closed({ by: 'client', code: 1000, reason: '' });
    const closes = s.all().filter((e) => e.kind === 'close');
    assert.deepEqual(closes.map((e) => [e.port, e.bytes, e.how]), [[8080, { toPod: 5, fromPod: 6 }, 'closed'], [80, { toPod: 0, fromPod: 0 }, 'closed']]);
    assert.deepEqual(s.end()!.summary.ports, [80, 8080]);
  });

  it('refuses the channel form without ports, a base64-less mismatch of ports, and a channel beyond them', () => {
    assert.match(channelSession([]).observer.accept('v4.channel.k8s.io') ?? '', /needs the ports query/);
    const s = channelSession([8080]);
    s.observer.accept('v4.channel.k8s.io');
    s.observer.open('v4.channel.k8s.io', () => undefined, () => undefined);
    assert.throws(() => s.observer.message('upstream-to-client', Buffer.from([0, 0x50, 0x00]), true), /announced port 80, not the requested 8080/);
    const t = channelSession([8080]);
    t.observer.accept('v4.channel.k8s.io');
    assert.throws(() => t.observer.message('client-to-upstream', Buffer.from([4, 1]), true), /beyond the 1 forwarded port/);
    assert.match(channelSession([8080]).observer.accept('v5.channel.k8s.io') ?? '', /did not offer|cannot read/);
  });
});

describe('port-forward over SPDY', () => {
  it('accepts only the portforward.k8s.io protocol version', () => {
    const observer = spdyPortForwardObserver({ detectors: [], capture: false, onBatch: () => undefined, onEnd: () => undefined });
    assert.match(observer.accept('v4.channel.k8s.io') ?? '', /cannot read "v4.channel.k8s.io" for port-forward/);
    assert.equal(observer.accept('portforward.k8s.io'), undefined);
  });
});
