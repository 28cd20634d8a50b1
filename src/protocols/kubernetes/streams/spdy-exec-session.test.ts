import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { decodeTerminalBatch, encodeTerminalBatch, TERMINAL_BATCH_TYPE } from '../../../evidence/terminal-batch.js';
import type { RecordedEvent, TerminalEvent } from '../../../evidence/terminal-recording.js';
import { secretPatternsDetector } from '../../../masking/detectors/secret-patterns-detector.js';
import { encodeDataFrame, encodeSynReply, encodeSynStream } from './spdy/spdy-frame-encoder.js';
import { decodeFrames } from './spdy/spdy-frames.js';
import { HeaderDeflater } from './spdy/spdy-headers.js';
import { SpdySession, type Direction } from './spdy/spdy-session.js';
import { createSpdyExecSession, type SpdyExecSessionOptions, type SpdyExecSummary } from './spdy-exec-session.js';
import { MAX_LISTED_FILES } from './transfer-listing.js';
import type { SpdyPeer, SpdyRelayObserver } from './spdy-relay.js';

/** readBack: a batch as a reader of the ledger gets it back. */
const readBack = (batch: RecordedEvent[]): TerminalEvent[] => decodeTerminalBatch(encodeTerminalBatch(batch), TERMINAL_BATCH_TYPE);

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
async function drive(cuts: { from: Direction; bytes: Buffer }[], observerFor = (o: SpdyRelayObserver) => o, extra: Partial<SpdyExecSessionOptions> = {}): Promise<Run> {
  const run: Run = { toClient: Buffer.alloc(0), toUpstream: Buffer.alloc(0), events: [], summary: undefined };
  const observer = observerFor(createSpdyExecSession({
    offered: ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
    detectors: [secretPatternsDetector],
    onBatch: (events) => void run.events.push(...readBack(events)),
    onEnd: (summary) => (run.summary = summary),
    now: () => 0,
    ...extra,
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

/** The bytes of a real tar archive of `files` (made with the system tar), or undefined without tar. */
function makeArchive(files: Record<string, string>): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-spdy-tar-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    const r = spawnSync('tar', ['--format', 'posix', '-cf', '-', ...Object.keys(files)], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    return r.status === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two small files, one holding a secret-looking value that masking would rewrite if it ran on the archive. */
const archive = makeArchive({ 'app.env': `AWS_ACCESS_KEY_ID=${KEY}\n`, 'conf/settings.json': '{"replicas":3}\n' });

/**
 * copyConversation is a `kubectl cp` over SPDY: the archive on stdout from the cluster (download)
 * or on stdin from the client (upload), in DATA frames of `cut` bytes, then a stderr line and
 * the Success status.
 */
function copyConversation(direction: 'upload' | 'download', tar: Buffer, cut: number): { from: Direction; bytes: Buffer }[] {
  const c = new HeaderDeflater();
  const s = new HeaderDeflater();
  const client: Uint8Array[] = [];
  const server: Uint8Array[] = [];
  for (const type of ['error', 'stdin', 'stdout', 'stderr'] as const) {
    client.push(encodeSynStream({ streamId: ids[type], headerBlock: c.compress({ streamtype: type }) }));
    server.push(encodeSynReply(ids[type], s.compress({})));
  }
  const frames = direction === 'upload' ? client : server;
  const id = direction === 'upload' ? ids.stdin : ids.stdout;
  for (let at = 0; at < tar.length; at += cut) frames.push(encodeDataFrame(id, tar.subarray(at, at + cut), { fin: at + cut >= tar.length }));
  if (direction === 'download') client.push(encodeDataFrame(ids.stdin, Buffer.alloc(0), { fin: true }));
  server.push(encodeDataFrame(ids.stderr, Buffer.from("tar: Removing leading `/' from member names\n"), { fin: true }));
  if (direction === 'upload') server.push(encodeDataFrame(ids.stdout, Buffer.alloc(0), { fin: true }));
  server.push(encodeDataFrame(ids.error, Buffer.from('{"metadata":{},"status":"Success"}'), { fin: true }));
  return [{ from: 'client', bytes: Buffer.concat(client) }, { from: 'server', bytes: Buffer.concat(server) }];
}

/** dataOf reads the DATA payload bytes relayed on one stream. */
function dataOf(bytes: Buffer, streamId: number): Buffer {
  const { frames } = decodeFrames(bytes);
  return Buffer.concat(frames.flatMap(({ frame }) => (frame.type === 'data' && frame.streamId === streamId ? [Buffer.from(frame.data)] : [])));
}

describe('SpdyExecSession for kubectl cp', { skip: archive ? false : 'tar is not installed' }, () => {
  it('a download passes the archive on stdout unchanged in any cut, lists its files and records no stdout text', async () => {
    for (const cut of [1, 7, 512, 1000, 4096]) {
      const run = await drive(copyConversation('download', archive!, cut), undefined, { transfer: 'download' });
      assert.deepEqual(dataOf(run.toClient, ids.stdout), archive, `cut ${cut}: the client gets the archive byte for byte, unmasked`);
      const transfer = run.summary?.transfer;
      assert.deepEqual(transfer, {
        kind: 'cp',
        direction: 'download',
        files: [
          { name: 'app.env', size: KEY.length + 19, type: 'file' },
          { name: 'conf/settings.json', size: 15, type: 'file' },
        ],
        bytes: archive!.length,
        complete: true,
      }, `cut ${cut}`);
      assert.equal(run.summary?.bytes.stdout, archive!.length);
      assert.deepEqual(run.events.map((e) => e.kind), ['e', 'x'], 'stderr and the exit status are recorded, the archive is not');
      assert.ok(!JSON.stringify(run.events).includes(KEY));
    }
  });

  it('an upload passes the archive on stdin unchanged, lists its files and records no stdin text', async () => {
    const run = await drive(copyConversation('upload', archive!, 1000), undefined, { transfer: 'upload' });
    assert.deepEqual(dataOf(run.toUpstream, ids.stdin), archive);
    assert.equal(run.summary?.transfer?.direction, 'upload');
    assert.deepEqual(run.summary?.transfer?.files.map((f) => f.name), ['app.env', 'conf/settings.json']);
    assert.equal(run.summary?.transfer?.complete, true);
    assert.equal(run.summary?.bytes.stdin, archive!.length);
    assert.ok(!run.events.some((e) => e.kind === 'i'));
    assert.deepEqual(run.events.at(-1), { t: 0, kind: 'x', data: '0' });
  });

  it('without a transfer, the same stdout is terminal output: masked and recorded', async () => {
    const run = await drive(copyConversation('download', archive!, 4096));
    assert.equal(run.summary?.transfer, undefined);
    assert.notDeepEqual(dataOf(run.toClient, ids.stdout), archive);
    assert.ok(run.events.some((e) => e.kind === 'o'));
  });

  it('stdout that is not tar ends the connection instead of passing unread', async () => {
    const notTar = Buffer.from('x'.repeat(600));
    await assert.rejects(drive(copyConversation('download', notTar, 600), undefined, { transfer: 'download' }), /AIRLOCK_K8S_TAR_MALFORMED|checksum/);
  });

  it(`entries past ${MAX_LISTED_FILES} are counted, not listed`, async () => {
    const many = Object.fromEntries(Array.from({ length: MAX_LISTED_FILES + 2 }, (_, i) => [`f${i}`, '']));
    const tar = makeArchive(many);
    assert.ok(tar);
    const run = await drive(copyConversation('download', tar, 65536), undefined, { transfer: 'download' });
    assert.equal(run.summary?.transfer?.files.length, MAX_LISTED_FILES);
    assert.equal(run.summary?.transfer?.filesOmitted, 2);
    assert.equal(run.summary?.transfer?.complete, true);
  });
});
