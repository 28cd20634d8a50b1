import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TerminalEvent } from '../../../evidence/terminal-recording.js';
import { secretPatternsDetector } from '../../../masking/detectors/secret-patterns-detector.js';
import { encodeDataFrame, encodeSynReply, encodeSynStream } from './spdy/spdy-frame-encoder.js';
import { decodeFrames } from './spdy/spdy-frames.js';
import { HeaderDeflater } from './spdy/spdy-headers.js';
import { SpdySession, type Direction } from './spdy/spdy-session.js';
import { createSpdyExecSession, type SpdyExecSummary } from './spdy-exec-session.js';
import type { SpdyPeer, SpdyRelayObserver } from './spdy-relay.js';

const KEY = 'AKIAFAKEFAKE7EXAMPLE';
const ids = { error: 1, stdin: 3, stdout: 5, stderr: 7, resize: 9 } as const;

/** The client's frames (streams opened, a resize, typed stdin) and the server's (replies, output, exit 3). */
function conversation(): { client: Buffer; server: Buffer } {
  const c = new HeaderDeflater();
  const s = new HeaderDeflater();
  const client: Uint8Array[] = [];
  const server: Uint8Array[] = [];
  for (const [type, id] of Object.entries(ids)) {
    client.push(encodeSynStream({ streamId: id, headerBlock: c.compress({ streamtype: type }) }));
    server.push(encodeSynReply(id, s.compress({})));
  }
  client.push(encodeDataFrame(ids.resize, Buffer.from('{"Width":80,"Height":24}')));
  client.push(encodeDataFrame(ids.stdin, Buffer.from(`echo ${KEY}\n`)));
  server.push(encodeDataFrame(ids.stdout, Buffer.from(`key ${KEY.slice(0, 9)}`)));
  server.push(encodeDataFrame(ids.stdout, Buffer.from(`${KEY.slice(9)} done\n`), { fin: true }));
  server.push(encodeDataFrame(ids.stderr, Buffer.alloc(0), { fin: true }));
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } };
  server.push(encodeDataFrame(ids.error, Buffer.from(JSON.stringify(status)), { fin: true }));
  return { client: Buffer.concat(client), server: Buffer.concat(server) };
}

interface Run { toClient: Buffer; toUpstream: Buffer; events: TerminalEvent[]; summary: SpdyExecSummary | undefined }

/** drive feeds the conversation through a SpdySession and the observer, as spdy-relay.ts does, in the given cuts. */
async function drive(cuts: { from: Direction; bytes: Buffer }[], observerFor = (o: SpdyRelayObserver) => o): Promise<Run> {
  const run: Run = { toClient: Buffer.alloc(0), toUpstream: Buffer.alloc(0), events: [], summary: undefined };
  const observer = observerFor(createSpdyExecSession({
    offered: ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
    detectors: [secretPatternsDetector],
    onBatch: (events) => void run.events.push(...events),
    onEnd: (summary) => (run.summary = summary),
    now: () => 0,
  }));
  const out = (to: SpdyPeer, bytes: Uint8Array) => {
    if (to === 'client') run.toClient = Buffer.concat([run.toClient, bytes]);
    else run.toUpstream = Buffer.concat([run.toUpstream, bytes]);
  };
  assert.equal(observer.accept('v4.channel.k8s.io'), undefined);
  observer.open('v4.channel.k8s.io', out);
  const session = new SpdySession();
  for (const cut of cuts) {
    for (const item of session.push(cut.from, cut.bytes)) {
      const bytes = await observer.frame(item);
      if (bytes !== null) out(cut.from === 'client' ? 'upstream' : 'client', bytes);
    }
  }
  observer.closed({ by: 'upstream' });
  return run;
}

/** payloads reads the DATA payloads per stream id from relayed bytes. */
function payloads(bytes: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  const { frames, consumed } = decodeFrames(bytes);
  assert.equal(consumed, bytes.length, 'the relayed bytes are whole frames');
  for (const { frame } of frames) if (frame.type === 'data') out.set(frame.streamId, (out.get(frame.streamId) ?? '') + Buffer.from(frame.data).toString());
  return out;
}

test('stdout reaches the client masked, re-framed with correct lengths, and the cluster gets stdin as typed', async () => {
  const { client, server } = conversation();
  const run = await drive([{ from: 'client', bytes: client }, { from: 'server', bytes: server }]);
  const shown = payloads(run.toClient);
  assert.match(shown.get(ids.stdout) ?? '', /^key \[masked [a-z-]+\] done\n$/);
  assert.ok(!run.toClient.includes(KEY));
  assert.equal(payloads(run.toUpstream).get(ids.stdin), `echo ${KEY}\n`);
});

test('the session records masked stdin, masked output, the resize and the exit status, and sums the bytes', async () => {
  const { client, server } = conversation();
  const run = await drive([{ from: 'client', bytes: client }, { from: 'server', bytes: server }]);
  const kinds = run.events.map((e) => `${e.kind}:${e.data}`);
  assert.ok(kinds.includes('r:80x24'));
  assert.ok(kinds.some((k) => /^i:echo \[masked [a-z-]+\]\n$/.test(k)));
  assert.match(run.events.filter((e) => e.kind === 'o').map((e) => e.data).join(''), /^key \[masked [a-z-]+\] done\n$/);
  assert.equal(kinds.at(-1), 'x:3');
  assert.ok(!JSON.stringify(run.events).includes(KEY));
  assert.deepEqual(run.summary?.exit, { outcome: 'exit', exitCode: 3, message: 'command terminated with non-zero exit code' });
  assert.deepEqual(run.summary?.bytes, { stdin: KEY.length + 6, stdout: KEY.length + 10, stderr: 0 });
});

test('every cut of the server bytes, and one byte at a time, gives the same client bytes and recording', async () => {
  const { client, server } = conversation();
  const whole = await drive([{ from: 'client', bytes: client }, { from: 'server', bytes: server }]);
  const variants: { from: Direction; bytes: Buffer }[][] = [];
  for (let at = 0; at <= server.length; at++) {
    variants.push([{ from: 'client', bytes: client }, { from: 'server', bytes: server.subarray(0, at) }, { from: 'server', bytes: server.subarray(at) }]);
  }
  variants.push([
    ...[...client].map((b) => ({ from: 'client' as const, bytes: Buffer.from([b]) })),
    ...[...server].map((b) => ({ from: 'server' as const, bytes: Buffer.from([b]) })),
  ]);
  for (const cuts of variants) {
    const run = await drive(cuts);
    assert.deepEqual(run.toClient, whole.toClient);
    assert.deepEqual(run.toUpstream, whole.toUpstream);
    assert.deepEqual(run.events, whole.events);
  }
});

test('the exit status is held until the batch that records it is durable', async () => {
  const { client, server } = conversation();
  let release: () => void = () => undefined;
  const durable = new Promise<void>((resolve) => (release = resolve));
  let held: Promise<Uint8Array | null> | undefined;
  const observer = createSpdyExecSession({ offered: ['v4.channel.k8s.io'], detectors: [], onBatch: () => durable, onEnd: () => undefined });
  observer.accept('v4.channel.k8s.io');
  observer.open('v4.channel.k8s.io', () => undefined);
  const session = new SpdySession();
  session.push('client', client).forEach((item) => observer.frame(item));
  for (const item of session.push('server', server)) {
    const out = observer.frame(item);
    if (out instanceof Promise) held = out;
  }
  assert.ok(held, 'the error stream FIN is held');
  let settled = false;
  void held.then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false);
  release();
  const bytes = await held;
  assert.ok(bytes && payloads(Buffer.from(bytes)).get(ids.error)?.includes('NonZeroExitCode'));
  observer.closed({ by: 'upstream' });
});

test('versions and streams airlock cannot read are refused', () => {
  const cases = [
    { chosen: 'v3.channel.k8s.io', offered: ['v4.channel.k8s.io', 'v3.channel.k8s.io'] },
    { chosen: 'v5.channel.k8s.io', offered: ['v4.channel.k8s.io'] },
    { chosen: '', offered: ['v4.channel.k8s.io'] },
  ];
  for (const c of cases) {
    const observer = createSpdyExecSession({ offered: c.offered, detectors: [], onBatch: () => undefined, onEnd: () => undefined });
    assert.notEqual(observer.accept(c.chosen), undefined, c.chosen);
  }
  const observer = createSpdyExecSession({ offered: ['v4.channel.k8s.io'], detectors: [], onBatch: () => undefined, onEnd: () => undefined });
  observer.accept('v4.channel.k8s.io');
  observer.open('v4.channel.k8s.io', () => undefined);
  const [item] = new SpdySession().push('client', encodeSynStream({ streamId: 1, headerBlock: new HeaderDeflater().compress({ streamtype: 'data', port: '80' }) }));
  assert.throws(() => observer.frame(item!), /cannot read/);
  observer.closed({ by: 'error' });
});
