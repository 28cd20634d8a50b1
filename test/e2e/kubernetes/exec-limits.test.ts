/**
 * Session limits and faults for exec through airlock (kubectl 1.33 over WebSocket): a session
 * idle too long, one that reaches its maximum duration and one whose token expires each end
 * with a plain message kubectl prints, both legs closed and the reason recorded; a kubectl
 * killed mid-`cat` and an API server that disappears mid-session each leave a closed recording.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeTerminalBatch } from '../../../src/evidence/terminal-batch.js';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlPath, missingKubectl } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';

interface Cat {
  child: ChildProcessWithoutNullStreams;
  /** waitFor resolves once stdout+stderr match. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; out: string }>;
  output(): string;
}

/** startCat runs `kubectl exec -i POD -- cat` with stdin held open by the test. */
function startCat(kubeconfig: string, home: string, minor = 33): Cat {
  const child = spawn(kubectlPath(minor)!, ['exec', '-i', POD, '--', 'cat'], {
    env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        void exited.then(() => {
          if (waiters.delete(check)) reject(new Error(`kubectl exited before printing ${pattern}:\n${out}`));
        });
        check();
      }),
  };
}

/**
 * sessionEnd waits for the final entry of the exec by `subject` (each test has its own); it
 * is written just after the stream closes, so it may land a moment after kubectl has exited.
 */
async function sessionEnd(h: GatewayHarness, subject: string): Promise<{ end: LedgerEntry; streams: LedgerEntry[] }> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const entries = await h.entries();
    const request = entries.findLast((e) => e.type === 'request' && e.action?.subresource === 'exec' && e.identity?.subject === subject);
    const end = request && entries.find((e) => e.type === 'response' && e.data?.requestId === request.id);
    if (request && end) return { end, streams: entries.filter((e) => e.type === 'stream' && e.data?.requestId === request.id) };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the end of the session of ${subject} was not recorded`);
}

function events(streams: LedgerEntry[]): Array<{ kind: string; data: string }> {
  return streams.flatMap((s) => decodeTerminalBatch(Buffer.from(s.response?.inline ?? ''), s.response?.contentType));
}

describe('exec session limits through airlock', { skip: missingKubectl(33) }, () => {
  let dir: string;
  const harnesses: GatewayHarness[] = [];
  const start = async (connection?: Record<string, unknown>) => {
    const h = await startGatewayHarness(connection ? { connection } : {});
    harnesses.push(h);
    return h;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-exec-limits-'));
  });
  after(async () => {
    for (const h of harnesses) await h.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('with short limits (idle 1s, at most 2s)', () => {
    let h: GatewayHarness;
    before(async () => {
      h = await start({ streams: { idleTimeout: '1s', maxDuration: '2s' } });
    });

    it('an idle session ends with a message kubectl prints, and the recording is closed with the reason', async () => {
      const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:idle', groups: ['ci'] });
      const cat = startCat(kubeconfig, mkdtempSync(join(dir, 'home-')));
      const { code, out } = await cat.exited;
      assert.notEqual(code, 0);
      assert.match(out, /airlock ended the session: nothing was sent either way for 1s \(streams\.idleTimeout\)/);
      const { end, streams } = await sessionEnd(h, 'agent:idle');
      assert.equal(end.data?.closedBy, 'airlock');
      assert.equal((end.data?.limit as { reason: string }).reason, 'idle');
      assert.match(events(streams).at(-1)?.data ?? '', /^airlock ended the session/);
      assert.equal(events(streams).at(-1)?.kind, 'x');
    });

    it('an idle SPDY session (kubectl 1.27) ends with a Status kubectl prints, and the recording is closed with the reason', { skip: missingKubectl(27) }, async () => {
      const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:idle-spdy', groups: ['ci'] });
      const cat = startCat(kubeconfig, mkdtempSync(join(dir, 'home-')), 27);
      const { code, out } = await cat.exited;
      assert.notEqual(code, 0, 'kubectl sees the stream end');
      assert.match(out, /airlock ended the session: nothing was sent either way for 1s/);
      const { end } = await sessionEnd(h, 'agent:idle-spdy');
      assert.equal(end.data?.closedBy, 'airlock');
      assert.equal((end.data?.limit as { reason: string }).reason, 'idle');
    });

    it('a busy session ends at its maximum duration', async () => {
      const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:max', groups: ['ci'] });
      const cat = startCat(kubeconfig, mkdtempSync(join(dir, 'home-')));
      // Keep the session busy: each echoed line prompts the next, until airlock ends it.
      let n = 0;
      const next = () => {
        if (cat.child.stdin.writable) cat.child.stdin.write(`line ${++n}\n`);
      };
      cat.child.stdout.on('data', () => {
        if (cat.output().includes(`line ${n}\n`)) next();
      });
      cat.child.stdin.on('error', () => undefined);
      next();
      const { code, out } = await cat.exited;
      assert.notEqual(code, 0);
      assert.match(out, /airlock ended the session: it reached the longest session allowed, 2s \(streams\.maxDuration\)/);
      assert.ok(n > 1, 'the session was busy');
      const { end } = await sessionEnd(h, 'agent:max');
      assert.equal(end.data?.closedBy, 'airlock');
      assert.equal((end.data?.limit as { reason: string }).reason, 'max-duration');
    });
  });

  describe('with the default limits', () => {
    let h: GatewayHarness;
    before(async () => {
      h = await start();
    });

    it('a session ends when the caller\'s token expires, with a Status kubectl prints', async () => {
      const token = await h.mintToken('agent:expiry', ['ci'], 3);
      const shortLived = await h.writeKubeconfig(dir, { subject: 'agent:expiry', token });
      const cat = startCat(shortLived, mkdtempSync(join(dir, 'home-')));
      cat.child.stdin.write('still here\n');
      await cat.waitFor(/still here/);
      const { code, out } = await cat.exited;
      assert.notEqual(code, 0);
      assert.match(out, /airlock ended the session: the token expired/);
      const { end, streams } = await sessionEnd(h, 'agent:expiry');
      assert.equal(end.data?.closedBy, 'airlock');
      assert.equal((end.data?.limit as { reason: string }).reason, 'token-expired');
      assert.deepEqual(events(streams).at(-1), { ...events(streams).at(-1), kind: 'x', data: 'airlock ended the session: the token expired' });
    });

    it('kubectl killed mid-cat leaves a closed recording, ended by the client', async () => {
      const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:kill', groups: ['ci'] });
      const cat = startCat(kubeconfig, mkdtempSync(join(dir, 'home-')));
      cat.child.stdin.write('before the kill\n');
      await cat.waitFor(/before the kill/);
      cat.child.kill('SIGKILL');
      await cat.exited;
      const { end, streams } = await sessionEnd(h, 'agent:kill');
      assert.equal(end.data?.closedBy, 'client');
      assert.ok(events(streams).some((e) => e.kind === 'o' && e.data.includes('before the kill')));
      assert.equal((await h.verify()).ok, true);
    });
  });

  it('an API server that disappears mid-session leaves a closed recording, ended by the upstream', async () => {
    const h = await start();
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:vanish', groups: ['ci'] });
    const cat = startCat(kubeconfig, mkdtempSync(join(dir, 'home-')));
    cat.child.stdin.write('before the fall\n');
    await cat.waitFor(/before the fall/);
    await h.fake.close();
    const { code } = await cat.exited;
    assert.notEqual(code, 0);
    const { end, streams } = await sessionEnd(h, 'agent:vanish');
    assert.ok(['upstream', 'error'].includes(String(end.data?.closedBy)), `closedBy ${String(end.data?.closedBy)}`);
    assert.ok(events(streams).some((e) => e.kind === 'o' && e.data.includes('before the fall')));
  });
});
