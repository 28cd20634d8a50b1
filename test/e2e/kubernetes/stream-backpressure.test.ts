/**
 * A stream never outruns its recording: while the ledger cannot commit (another process holds
 * SQLite's write lock, within the busy timeout), an exec that moves megabytes stops being read
 * once 8 MiB of its recording waits, instead of piling the rest up in airlock's memory. When the
 * ledger commits again the stream goes on, and the client and the recording both get every byte;
 * when it never does, the session ends unrecorded and the client has not had the rest.
 * Real kubectl, over WebSocket and SPDY.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readTerminalSession } from '../../../src/evidence/terminal-session.js';
import { openLedgerReader } from '../../../src/ledger/index.js';
import { startGatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

/** until polls `condition` (the counter has no event to await) and fails after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lines of plain text (no secret for the detectors to find), `bytes` long in all. */
function text(bytes: number): Buffer {
  const line = 'stream line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
}

const transports = ['websocket', 'spdy'] as const;
const envOf = (transport: (typeof transports)[number]): Record<string, string> => (transport === 'spdy' ? { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : {});
const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', resolve)));

/**
 * setUp starts a gateway whose SQLite commits wait `busyTimeout` for a lock held elsewhere, and
 * `openCat` opens `kubectl exec -i … cat` over a transport, echoes a first line and waits for it:
 * the session is open and its first batch on its way to the ledger.
 */
async function setUp(t: TestContext, busyTimeout: string) {
  const h = await startGatewayHarness({ ledger: { sqlite: { busyTimeout } } });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-backpressure-'));
  t.after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:operator', groups: ['ci'] });
  const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
  const openCat = async (transport: (typeof transports)[number]) => {
    const cat = kubectl.start(['exec', '-i', 'web-7d4b9c6f5-k2x8p', '--', 'cat'], { stdin: true, env: envOf(transport) });
    let received = 0;
    cat.child.stdout!.on('data', (d: Buffer) => (received += d.length));
    cat.child.stdin!.on('error', () => undefined); // kubectl may exit before it has read all of it
    const ready = `ready-${transport}\n`;
    cat.child.stdin!.write(ready);
    await cat.waitFor(new RegExp(`ready-${transport}`));
    return { cat, ready, received: () => received };
  };
  return { h, payload: text(24 * 1024 * 1024), openCat };
}

/** locked runs `fn` while another connection holds SQLite's write lock; `unlock` lets it go early. */
async function locked(ledgerFile: string, fn: (unlock: () => void) => Promise<void>): Promise<void> {
  const blocker = new Database(ledgerFile);
  blocker.exec('BEGIN IMMEDIATE');
  try {
    await fn(() => blocker.exec('ROLLBACK'));
  } finally {
    if (blocker.inTransaction) blocker.exec('ROLLBACK');
    blocker.close();
  }
}

test('an exec faster than the ledger is held while its recording waits, then completes with every byte delivered and recorded (WebSocket and SPDY)', { skip: missingKubectl(33) }, async (t) => {
  // A long busy timeout: while the lock is held, commits wait instead of failing.
  const { h, payload, openCat } = await setUp(t, '60s');
  const holds = () => h.runtime.metrics.streamRecordingHolds.get().then((m) => m.values[0]?.value ?? 0);

  for (const transport of transports) {
    const { cat, ready, received } = await openCat(transport);
    try {
      const holdsBefore = await holds();
      await locked(h.ledgerFile, async (unlock) => {
        cat.child.stdin!.end(payload);
        await until(async () => (await holds()) > holdsBefore, `airlock to hold the ${transport} stream`);
        assert.ok(received() < ready.length + payload.length, `the client got ${received()} bytes: the stream must stop before the end while its recording waits`);
        unlock();
        assert.equal(await exited(cat.child), 0, cat.output().slice(-500));
      });
      assert.equal(received(), ready.length + payload.length, `kubectl (${transport}) got every byte once the ledger could write`);
    } finally {
      await cat.stop();
    }

    // The recording holds the whole output and the whole input, in order.
    const request = (await h.entries()).filter((e) => e.type === 'request' && e.action?.subresource === 'exec').at(-1)!;
    await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, `the ${transport} session's final entry`);
    const reader = await openLedgerReader({ dataDir: h.dataDir, store: { kind: 'sqlite', path: h.ledgerFile } });
    try {
      const session = await readTerminalSession(reader, request.id);
      assert.ok(session, `the ${transport} session is recorded`);
      const recorded = (kind: string) => session.events.filter((e) => e.kind === kind).map((e) => e.data).join('');
      const expected = `${ready}${payload.toString('latin1')}`;
      assert.ok(recorded('o') === expected, `the recording holds ${recorded('o').length} of the ${expected.length} characters of output`);
      assert.ok(recorded('i') === expected, `the recording holds ${recorded('i').length} of the ${expected.length} characters of input`);
    } finally {
      await reader.close();
    }
  }
  assert.equal((await h.verify()).ok, true);
});

test('an exec whose recording stays stuck gets no further than the hold: the session ends unrecorded before the client has the rest (WebSocket and SPDY)', { skip: missingKubectl(33) }, async (t) => {
  // Commits wait 5 s for the lock, then fail: without the hold, the whole payload would reach the
  // client long before that.
  const { h, payload, openCat } = await setUp(t, '5s');
  for (const transport of transports) {
    const { cat, ready, received } = await openCat(transport);
    try {
      await locked(h.ledgerFile, async (unlock) => {
        cat.child.stdin!.end(payload);
        // The first refused commit ends the session (and /readyz reports the ledger); then the
        // lock goes, so the session's last entries need not wait out a busy timeout each.
        await until(async () => (await fetch(`${h.runtime.adminUrl}/readyz`)).status === 503, 'the ledger to refuse a commit');
        const gotWhileStuck = received();
        unlock();
        assert.notEqual(await exited(cat.child), 0, `kubectl (${transport}) must not end as if all went well`);
        assert.ok(gotWhileStuck < ready.length + payload.length / 2, `kubectl (${transport}) got ${gotWhileStuck} of ${ready.length + payload.length} bytes while nothing could be recorded`);
        assert.ok(received() < ready.length + payload.length, `kubectl (${transport}) got all ${received()} bytes of a session that could not be recorded`);
      });
    } finally {
      await cat.stop();
    }
  }
  assert.equal((await h.verify()).ok, true);
});
