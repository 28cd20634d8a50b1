import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import {
  encodeDataFrame, encodeGoaway, encodePing, encodeRstStream, encodeSynReply, encodeSynStream, rstStatus,
} from './spdy-frame-encoder.js';
import { HeaderDeflater } from './spdy-headers.js';
import { SpdySession, type Direction, type SpdySessionEvent } from './spdy-session.js';

// Everything kubectl 1.27 sent for `exec -i web -- cat` with stdin "secret-free input\n"
// (captured by spdy-kubectl.test.ts): four SYN_STREAMs, stdin DATA, FIN, RST_STREAM CANCEL x3, GOAWAY.
const kubectlClientBytes = Buffer.from(
  '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff' +
  '800300010000001700000003000000000000c22e555c92929907000000ffff' +
  '800300010000001900000005000000000000c22ac5565c92925f5a02000000ffff' +
  '800300010000001500000007000000000000c229975a5404000000ffff' +
  '00000003000000127365637265742d6672656520696e7075740a0000000301000000' +
  '80030003000000080000000100000005800300030000000800000005000000058003' +
  '000300000008000000070000000580030007000000080000000000000000',
  'hex',
);

/** summary makes events comparable: bytes as text, header maps as plain objects. */
function summary(events: readonly SpdySessionEvent[]): unknown[] {
  return events.map((event) => JSON.parse(JSON.stringify(event, (_k, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)) as unknown);
}

test('the kubectl 1.27 capture reads as four typed streams, stdin data with FIN, resets and GOAWAY', () => {
  const events = new SpdySession().observe('client', kubectlClientBytes);
  const brief = events.map((e) => {
    switch (e.kind) {
      case 'stream-open': return `open ${e.stream.id} ${e.stream.streamType}`;
      case 'data': return `data ${e.id} ${e.streamType} ${JSON.stringify(Buffer.from(e.bytes).toString())}${e.fin ? ' fin' : ''}`;
      case 'stream-reset': return `reset ${e.id} ${e.streamType} ${e.status}`;
      case 'stream-closed': return `closed ${e.id} ${e.how}`;
      case 'goaway': return `goaway ${e.lastGoodStreamId}`;
      default: return e.kind;
    }
  });
  assert.deepEqual(brief, [
    'open 1 error', 'open 3 stdin', 'open 5 stdout', 'open 7 stderr',
    'data 3 stdin "secret-free input\\n"', 'data 3 stdin "" fin',
    'reset 1 error 5', 'closed 1 reset', 'reset 5 stdout 5', 'closed 5 reset', 'reset 7 stderr 5', 'closed 7 reset',
    'goaway 0',
  ]);
});

/** A whole exec conversation in both directions, built with the encoders. */
function execConversation(): { from: Direction; bytes: Uint8Array }[] {
  const client = new HeaderDeflater();
  const server = new HeaderDeflater();
  const steps: { from: Direction; bytes: Uint8Array }[] = [];
  const types = ['error', 'stdin', 'stdout', 'stderr', 'resize'];
  types.forEach((type, i) => {
    steps.push({ from: 'client', bytes: encodeSynStream({ streamId: 2 * i + 1, headerBlock: client.compress({ streamtype: type }) }) });
    steps.push({ from: 'server', bytes: encodeSynReply(2 * i + 1, server.compress({})) });
  });
  steps.push({ from: 'client', bytes: encodeDataFrame(9, Buffer.from('{"Width":80,"Height":24}\n')) });
  steps.push({ from: 'client', bytes: encodeDataFrame(3, Buffer.from('ls\n')) });
  steps.push({ from: 'server', bytes: encodeDataFrame(5, Buffer.from('file-a\nfile-b\n')) });
  steps.push({ from: 'server', bytes: encodeDataFrame(7, Buffer.from('warning\n'), { fin: true }) });
  steps.push({ from: 'client', bytes: encodePing(1) });
  steps.push({ from: 'server', bytes: encodePing(1) });
  steps.push({ from: 'client', bytes: encodeDataFrame(3, new Uint8Array(0), { fin: true }) });
  steps.push({ from: 'server', bytes: encodeDataFrame(5, new Uint8Array(0), { fin: true }) });
  steps.push({ from: 'server', bytes: encodeDataFrame(1, Buffer.from('{"status":"Success"}'), { fin: true }) });
  for (const id of [1, 5, 7, 9]) steps.push({ from: 'client', bytes: encodeDataFrame(id, new Uint8Array(0), { fin: true }) });
  steps.push({ from: 'server', bytes: encodeDataFrame(3, new Uint8Array(0), { fin: true }) });
  steps.push({ from: 'server', bytes: encodeDataFrame(9, new Uint8Array(0), { fin: true }) });
  steps.push({ from: 'client', bytes: encodeGoaway(9) });
  return steps;
}

test('an exec conversation yields typed data both ways and closes each stream once both sides finish', () => {
  const session = new SpdySession();
  const events = execConversation().flatMap((step) => session.observe(step.from, step.bytes));
  const data = events.flatMap((e) => (e.kind === 'data' && e.bytes.byteLength > 0 ? [`${e.from} ${e.streamType} ${Buffer.from(e.bytes).toString()}`] : []));
  assert.deepEqual(data, [
    'client resize {"Width":80,"Height":24}\n', 'client stdin ls\n', 'server stdout file-a\nfile-b\n',
    'server stderr warning\n', 'server error {"status":"Success"}',
  ]);
  const closed = events.flatMap((e) => (e.kind === 'stream-closed' ? [`${e.id} ${e.streamType}`] : []));
  assert.deepEqual(closed.sort(), ['1 error', '3 stdin', '5 stdout', '7 stderr', '9 resize']);
  assert.deepEqual(session.openStreams(), []);
  assert.equal(events.filter((e) => e.kind === 'ping').length, 2);
  assert.equal(events.filter((e) => e.kind === 'stream-reply').length, 5);
});

/** splitMatrix checks one direction's bytes: every cut, then one byte at a time. */
function splitMatrix(bytes: Buffer, prime?: (session: SpdySession) => void): void {
  const fresh = (): SpdySession => {
    const session = new SpdySession();
    prime?.(session);
    return session;
  };
  const whole = summary(fresh().observe('client', bytes));
  for (let cut = 0; cut <= bytes.byteLength; cut++) {
    const session = fresh();
    const events = [...session.observe('client', bytes.subarray(0, cut)), ...session.observe('client', bytes.subarray(cut))];
    assert.deepEqual(summary(events), whole, `cut at ${cut}`);
  }
  const session = fresh();
  const oneByOne: SpdySessionEvent[] = [];
  for (let i = 0; i < bytes.byteLength; i++) oneByOne.push(...session.observe('client', bytes.subarray(i, i + 1)));
  assert.deepEqual(summary(oneByOne), whole);
}

test('the kubectl capture cut at every byte offset, or fed byte by byte, gives identical events', () => {
  splitMatrix(kubectlClientBytes);
});

test('nothing is emitted from a fragment: a prefix yields exactly the events of its complete frames', () => {
  const frameEnds: number[] = [];
  const probe = new SpdySession();
  for (let i = 1; i <= kubectlClientBytes.byteLength; i++) {
    if (probe.push('client', kubectlClientBytes.subarray(i - 1, i)).length > 0) frameEnds.push(i);
  }
  for (let cut = 0; cut <= kubectlClientBytes.byteLength; cut++) {
    const items = new SpdySession().push('client', kubectlClientBytes.subarray(0, cut));
    assert.equal(items.length, frameEnds.filter((end) => end <= cut).length, `cut at ${cut}`);
  }
});

test('each frame comes back with its exact original bytes, so a relay forwards them unchanged', () => {
  const items = new SpdySession().push('client', kubectlClientBytes);
  assert.deepEqual(Buffer.concat(items.map((item) => item.raw)), kubectlClientBytes);
});

test('port-forward streams carry port and requestid; data is attributed per connection', () => {
  const client = new HeaderDeflater();
  const session = new SpdySession();
  const open = (id: number, type: string, requestId: string): SpdySessionEvent[] =>
    session.observe('client', encodeSynStream({ streamId: id, headerBlock: client.compress({ streamtype: type, port: '8080', requestid: requestId }) }));
  const opened = [...open(1, 'error', '0'), ...open(3, 'data', '0'), ...open(5, 'error', '1'), ...open(7, 'data', '1')]
    .flatMap((e) => (e.kind === 'stream-open' ? [`${e.stream.streamType}:${e.stream.port}:${e.stream.requestId}`] : []));
  assert.deepEqual(opened, ['error:8080:0', 'data:8080:0', 'error:8080:1', 'data:8080:1']);
  const [up] = session.observe('client', encodeDataFrame(7, Buffer.from('GET / HTTP/1.1\r\n\r\n')));
  const [down] = session.observe('server', encodeDataFrame(7, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')));
  assert.equal(up?.kind === 'data' && session.stream(up.id)?.requestId, '1');
  assert.equal(down?.kind === 'data' && down.streamType, 'data');
  assert.deepEqual(summary(session.observe('server', encodeRstStream(3, rstStatus.CANCEL))).map((e) => (e as { kind: string }).kind), ['stream-reset', 'stream-closed']);
});

test('data that arrives for a stream already reset is reported late, with its type, not refused', () => {
  const client = new HeaderDeflater();
  const session = new SpdySession();
  session.observe('client', encodeSynStream({ streamId: 1, headerBlock: client.compress({ streamtype: 'stdout' }) }));
  session.observe('client', encodeRstStream(1, rstStatus.CANCEL));
  const [late] = session.observe('server', encodeDataFrame(1, Buffer.from('in flight')));
  assert.deepEqual(late && { kind: late.kind, late: late.kind === 'data' && late.late, type: late.kind === 'data' && late.streamType }, { kind: 'data', late: true, type: 'stdout' });
});

test('a relay that masks stdout re-encodes only those DATA frames; the peer reads a consistent stream', () => {
  const observer = new SpdySession();
  const relayed: Uint8Array[] = [];
  for (const step of execConversation()) {
    for (const item of observer.push(step.from, step.bytes)) {
      const isStdout = item.frame.type === 'data' && observer.stream(item.frame.streamId)?.streamType === 'stdout';
      if (step.from === 'server' && isStdout && item.frame.type === 'data') {
        relayed.push(encodeDataFrame(item.frame.streamId, Buffer.from(Buffer.from(item.frame.data).toString().replace(/file-b/g, '******')), { fin: item.frame.fin }));
      } else if (step.from === 'server') {
        relayed.push(item.raw);
      }
    }
  }
  // What the client receives, read by a fresh observer whose client side saw the same SYN_STREAMs.
  const peer = new SpdySession();
  for (const step of execConversation()) if (step.from === 'client') peer.observe('client', step.bytes);
  const seen = peer.observe('server', Buffer.concat(relayed));
  const stdout = seen.flatMap((e) => (e.kind === 'data' && e.streamType === 'stdout' ? [Buffer.from(e.bytes).toString()] : []));
  assert.deepEqual(stdout, ['file-a\n******\n', '']);
});

function violation(name: string, steps: (c: HeaderDeflater, s: HeaderDeflater) => { from: Direction; bytes: Uint8Array }[], reason: string): { name: string; steps: typeof steps; reason: string } {
  return { name, steps, reason };
}

const violations = [
  violation('the client opening an even stream id', (c) => [{ from: 'client', bytes: encodeSynStream({ streamId: 2, headerBlock: c.compress({ streamtype: 'stdin' }) }) }], 'wrong-parity'),
  violation('the server opening an odd stream id', (_c, s) => [{ from: 'server', bytes: encodeSynStream({ streamId: 1, headerBlock: s.compress({}) }) }], 'wrong-parity'),
  violation('a stream id opened twice', (c) => [
    { from: 'client', bytes: encodeSynStream({ streamId: 3, headerBlock: c.compress({ streamtype: 'stdin' }) }) },
    { from: 'client', bytes: encodeSynStream({ streamId: 3, headerBlock: c.compress({ streamtype: 'stdout' }) }) },
  ], 'id-not-increasing'),
  violation('a stream id lower than the last one', (c) => [
    { from: 'client', bytes: encodeSynStream({ streamId: 5, headerBlock: c.compress({ streamtype: 'stdin' }) }) },
    { from: 'client', bytes: encodeSynStream({ streamId: 3, headerBlock: c.compress({ streamtype: 'stdout' }) }) },
  ], 'id-not-increasing'),
  violation('data on a stream that was never opened', () => [{ from: 'client', bytes: encodeDataFrame(1, Buffer.from('x')) }], 'unknown-stream'),
  violation('a SYN_REPLY for a stream that was never opened', (_c, s) => [{ from: 'server', bytes: encodeSynReply(1, s.compress({})) }], 'unknown-stream'),
  violation('data after the sender closed the stream', (c) => [
    { from: 'client', bytes: encodeSynStream({ streamId: 1, headerBlock: c.compress({ streamtype: 'stdin' }) }) },
    { from: 'client', bytes: encodeDataFrame(1, Buffer.from('x'), { fin: true }) },
    { from: 'client', bytes: encodeDataFrame(1, Buffer.from('smuggled')) },
  ], 'data-after-fin'),
  violation('data from the receiver of a unidirectional stream', (c) => [
    { from: 'client', bytes: encodeSynStream({ streamId: 1, headerBlock: c.compress({ streamtype: 'stdin' }), unidirectional: true }) },
    { from: 'server', bytes: encodeDataFrame(1, Buffer.from('x')) },
  ], 'unidirectional'),
];

for (const row of violations) {
  test(`${row.name} ends the session with AIRLOCK_SPDY_STREAM_INVALID (${row.reason})`, () => {
    const session = new SpdySession();
    const steps = row.steps(new HeaderDeflater(), new HeaderDeflater());
    const last = steps.pop()!;
    for (const step of steps) session.observe(step.from, step.bytes);
    assert.throws(() => session.observe(last.from, last.bytes), (err: unknown) => {
      assert.ok(isAirlockError(err, 'AIRLOCK_SPDY_STREAM_INVALID'), String(err));
      assert.equal(err.details?.reason, row.reason);
      return true;
    });
    assert.throws(() => session.observe('client', encodePing(1)), 'a failed session stays failed');
  });
}

test('more open streams than the limit end the session', () => {
  const client = new HeaderDeflater();
  const session = new SpdySession({ maxOpenStreams: 2 });
  const open = (id: number): unknown => session.observe('client', encodeSynStream({ streamId: id, headerBlock: client.compress({ streamtype: 'data' }) }));
  open(1);
  open(3);
  assert.throws(() => open(5), (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_STREAM_INVALID') && err.details?.reason === 'too-many-streams');
});

test('a malformed frame or header block from either side ends the session with its own code', () => {
  const badHeaders = new SpdySession();
  assert.throws(() => badHeaders.observe('server', encodeSynStream({ streamId: 2, headerBlock: Buffer.from('not zlib') })),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_HEADERS_INVALID'));
  const badFrame = new SpdySession();
  assert.throws(() => badFrame.observe('client', Buffer.from('800200060000000400000001', 'hex')),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_SPDY_FRAME_INVALID'));
});
