/**
 * ExecSession as a `kubectl cp` and under limits, driven message by message as the relay
 * would: the archive passes byte for byte and is listed, never recorded as text; what is not
 * tar ends the stream; a limit sends a Status on the error channel, then closes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { decodeTerminalBatch, encodeTerminalBatch, TERMINAL_BATCH_TYPE } from '../../../evidence/terminal-batch.js';
import type { RecordedEvent, TerminalEvent } from '../../../evidence/terminal-recording.js';
import { encodeChannelMessage, V5_CHANNEL, classifySubprotocol, type ChannelProtocol } from './channel/index.js';
import { createExecSession, type ExecSummary } from './exec-session.js';
import type { RelayDirection } from './websocket-relay.js';

/** readBack: a batch as a reader of the ledger gets it back. */
const readBack = (batch: RecordedEvent[]): TerminalEvent[] => decodeTerminalBatch(encodeTerminalBatch(batch), TERMINAL_BATCH_TYPE);

const protocol = classifySubprotocol(V5_CHANNEL) as ChannelProtocol;
const frame = (channel: 'stdin' | 'stdout' | 'stderr' | 'error', bytes: Uint8Array) => encodeChannelMessage({ channel, bytes }, protocol).data;

function session(options: Partial<Parameters<typeof createExecSession>[0]> = {}) {
  const events: TerminalEvent[] = [];
  const sent: Array<[RelayDirection, Buffer]> = [];
  let summary: ExecSummary | undefined;
  let closedWith: string | undefined;
  const observer = createExecSession({
    offered: [V5_CHANNEL],
    detectors: [],
    onBatch: (batch) => events.push(...readBack(batch)),
    onEnd: (s) => {
      summary = s;
    },
    ...options,
  });
  assert.equal(observer.accept(V5_CHANNEL), undefined);
  observer.open(V5_CHANNEL, (direction, data) => sent.push([direction, data]), (_code, reason) => {
    closedWith = reason;
    observer.closed({ by: 'airlock', code: 1000, reason });
  });
  return { observer, events, sent, summary: () => summary, closedWith: () => closedWith };
}

/** A real GNU tar archive of two small files, made in a temp dir (the same from src/ and dist/). */
function makeArchive(): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tar-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"name":"demo"}\n');
    writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{}}\n');
    const r = spawnSync('tar', ['--format', 'posix', '-cf', '-', 'package.json', 'tsconfig.json'], { cwd: dir });
    return r.status === 0 ? r.stdout : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const archive = makeArchive() ?? Buffer.alloc(0);

describe('ExecSession for kubectl cp', { skip: archive?.length ? false : 'tar is not installed' }, () => {
  it('a download passes the archive unchanged in any cut, lists its files and records no stdout text', () => {
    for (const cut of [1, 7, 512, 1000, 4096]) {
      const s = session({ transfer: 'download' });
      for (let at = 0; at < archive.length; at += cut) {
        const msg = frame('stdout', archive.subarray(at, at + cut));
        assert.deepEqual(s.observer.message('upstream-to-client', msg, true), msg, 'passed as it is');
      }
      s.observer.message('upstream-to-client', frame('stderr', Buffer.from("tar: Removing leading `/'\n")), true);
      s.observer.message('upstream-to-client', frame('error', Buffer.from('{"metadata":{},"status":"Success"}')), true);
      s.observer.closed({ by: 'upstream', code: 1000, reason: '' });
      const summary = s.summary()!;
      assert.deepEqual(summary.transfer?.files.map((f) => f.name), ['package.json', 'tsconfig.json'], `cut ${cut}`);
      assert.equal(summary.transfer?.complete, true);
      assert.equal(summary.transfer?.bytes, archive.length);
      assert.equal(summary.bytes.stdout, archive.length);
      assert.deepEqual(s.events.map((e) => e.kind), ['e', 'x']);
    }
  });

  it('an upload reads the archive on stdin and records no stdin text', () => {
    const s = session({ transfer: 'upload' });
    s.observer.message('client-to-upstream', frame('stdin', archive), true);
    s.observer.closed({ by: 'client', code: 1000, reason: '' });
    assert.equal(s.summary()!.transfer?.direction, 'upload');
    assert.equal(s.summary()!.transfer?.files.length, 2);
    assert.ok(!s.events.some((e) => e.kind === 'i'));
  });

  it('stdout that is not tar ends the stream instead of passing unread', () => {
    const s = session({ transfer: 'download' });
    assert.throws(() => s.observer.message('upstream-to-client', frame('stdout', Buffer.from('x'.repeat(600))), true), /AIRLOCK_K8S_TAR_MALFORMED|not a tar archive/);
  });
});

describe('ExecSession limits', () => {
  let hold: NodeJS.Timeout;
  beforeEach(() => {
    hold = setInterval(() => undefined, 60_000);
  });
  afterEach(() => clearInterval(hold));

  it('an expired token ends the session: a Failure Status on the error channel, then both legs closed, the reason recorded', () => {
    const s = session({ limits: { idleTimeoutMs: 60_000, maxDurationMs: 60_000, tokenExpiresAtMs: Date.now() - 1 } });
    const [direction, data] = s.sent.at(-1)!;
    assert.equal(direction, 'upstream-to-client');
    assert.equal(data[0], 3, 'on the error channel');
    const status = JSON.parse(data.subarray(1).toString());
    assert.deepEqual([status.status, status.message, status.reason], ['Failure', 'airlock ended the session: the token expired', 'Unauthorized']);
    assert.equal(s.closedWith(), 'airlock ended the session: the token expired');
    assert.equal(s.summary()?.closedBy, 'airlock');
    assert.deepEqual(s.summary()?.limit, { reason: 'token-expired', message: 'airlock ended the session: the token expired' });
    assert.deepEqual(s.events.at(-1)?.data, 'airlock ended the session: the token expired');
  });

  it('an idle session ends once nothing has passed for the idle timeout', async () => {
    const ended = new Promise<string>((resolve) => {
      const s = session({ limits: { idleTimeoutMs: 20, maxDurationMs: 60_000 }, onEnd: (summary) => resolve(summary.limit?.reason ?? '') });
      s.observer.message('upstream-to-client', frame('stdout', Buffer.from('hi\n')), true);
    });
    assert.equal(await ended, 'idle');
  });
});

describe('ExecSession and password prompts', () => {
  it('what is typed at a password prompt reaches the cluster as typed but is recorded as a marker', () => {
    const s = session();
    s.observer.message('upstream-to-client', frame('stdout', Buffer.from('$ ')), true);
    const typed = ['s', 'u', 'd', 'o', ' ', 'i', 'd', '\r'].map((c) => frame('stdin', Buffer.from(c)));
    for (const f of typed) assert.ok(s.observer.message('client-to-upstream', f, true));
    s.observer.message('upstream-to-client', frame('stderr', Buffer.from('[sudo] password for root: ')), true);
    const answer = ['h', 'u', 'n', 't', 'e', 'r', '2', 'x', '\r'].map((c) => frame('stdin', Buffer.from(c)));
    // The cluster still gets each keystroke as typed.
    for (const f of answer) assert.deepEqual(s.observer.message('client-to-upstream', f, true), f);
    s.observer.message('upstream-to-client', frame('stdout', Buffer.from('uid=0(root)\r\n$ ')), true);
    s.observer.message('client-to-upstream', frame('stdin', Buffer.from('exit\r')), true);
    s.observer.closed({ by: 'client', code: 1000, reason: '' });
    const input = s.events.filter((e) => e.kind === 'i').map((e) => e.data).join('');
    assert.equal(input, 'sudo id\r[masked typed-secret]\rexit\r');
    assert.ok(!JSON.stringify(s.events).includes('hunter2x'));
  });
});

describe('ExecSession ended by airlock', () => {
  it('end("unrecorded") tells the client on the error channel (503) and closes, and the summary says why', () => {
    const s = session();
    s.observer.message('upstream-to-client', frame('stdout', Buffer.from('hello\n')), true);
    (s.observer as ReturnType<typeof createExecSession>).end('unrecorded');
    const status = s.sent.map(([, data]) => data).find((d) => d[0] === 3);
    assert.ok(status, 'a Status went out on the error channel');
    const parsed = JSON.parse(status.subarray(1).toString()) as { code: number; reason: string; message: string };
    assert.equal(parsed.code, 503);
    assert.equal(parsed.reason, 'ServiceUnavailable');
    assert.match(parsed.message, /could not record it/);
    assert.match(s.closedWith() ?? '', /could not record it/);
    assert.equal(s.summary()?.limit?.reason, 'unrecorded');
  });
});
