/**
 * SessionLedger against a recorder whose appends settle when the test says (a stand-in for a
 * ledger whose disk is slow): batches are handed over at once and in order, the hold is set past
 * the high-water mark and released below the low one, sessions together stay within a shared
 * budget, a refused batch ends the session once, and the final entry comes after every batch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTerminalBatch } from '../../../evidence/terminal-batch.js';
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import { RecordingBudget, SessionLedger, terminalBatch } from './session-ledger.js';

interface Append {
  kind: 'stream' | 'response';
  size: number;
  settle(ok: boolean): void;
}

function slowRecorder(): { record: ResponseRecorder; appends: Append[] } {
  const appends: Append[] = [];
  const pending = (kind: Append['kind'], size: number) =>
    new Promise<void>((resolve, reject) => appends.push({ kind, size, settle: (ok) => (ok ? resolve() : reject(new Error('the ledger cannot write'))) }));
  return {
    appends,
    record: {
      stream: ({ body }) => pending('stream', Buffer.byteLength(String(body?.body ?? ''))),
      response: () => pending('response', 0),
    },
  };
}

const batchOf = (bytes: number) => ({ contentType: 'text/plain', body: 'x'.repeat(bytes) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionLedger', () => {
  it('hands every batch to the ledger at once, in order, without waiting for the one before', () => {
    const { record, appends } = slowRecorder();
    const ledger = new SessionLedger(record, { unrecorded: () => assert.fail('nothing was refused') });
    for (const size of [10, 20, 30]) void ledger.batch(batchOf(size), {});
    assert.deepEqual(appends.map((a) => a.size), [10, 20, 30]);
    assert.equal(ledger.waitingBytes, 60);
  });

  it('holds the relay while more than the high-water mark waits for the disk, and releases it below the low-water mark', async () => {
    const { record, appends } = slowRecorder();
    let holds = 0;
    const ledger = new SessionLedger(record, { unrecorded: () => undefined, onHold: () => holds++, highWater: 100, lowWater: 40 });
    const seen: boolean[] = [];
    ledger.hold.watch((held) => seen.push(held));
    void ledger.batch(batchOf(60), {});
    assert.equal(ledger.hold.held, false, '60 bytes waiting is under the high-water mark');
    void ledger.batch(batchOf(60), {});
    assert.equal(ledger.hold.held, true, '120 bytes waiting is over it');
    void ledger.batch(batchOf(60), {});
    assert.equal(holds, 1, 'one hold, however many batches arrive while held');
    appends[0]!.settle(true);
    await tick();
    assert.equal(ledger.hold.held, true, '120 bytes still wait');
    appends[1]!.settle(true);
    await tick();
    assert.equal(ledger.hold.held, true, '60 bytes still wait: above the low-water mark');
    appends[2]!.settle(true);
    await tick();
    assert.equal(ledger.hold.held, false);
    assert.equal(ledger.waitingBytes, 0);
    assert.deepEqual(seen, [true, false]);
  });

  it('holds the sessions that add to a process-wide backlog over the budget, each under its own mark, and releases them together below the budget', async () => {
    const { record, appends } = slowRecorder();
    const budget = new RecordingBudget(100, 60);
    const own = { highWater: 1000, lowWater: 500, budget };
    const [a, b, c] = [0, 1, 2].map(() => new SessionLedger(record, { unrecorded: () => undefined, ...own }));
    void a!.batch(batchOf(40), {});
    void b!.batch(batchOf(40), {});
    assert.deepEqual([a!.hold.held, b!.hold.held], [false, false], '80 bytes in all: under the budget');
    void c!.batch(batchOf(40), {});
    assert.deepEqual([a!.hold.held, b!.hold.held, c!.hold.held], [false, false, true], 'the session that went over is held');
    void a!.batch(batchOf(10), {});
    assert.equal(a!.hold.held, true, 'so is the next one that adds while over');
    assert.equal(budget.waitingBytes, 130);
    appends[0]!.settle(true);
    await tick();
    assert.deepEqual([a!.hold.held, c!.hold.held], [true, true], '90 bytes still wait: above the low mark');
    appends[1]!.settle(true);
    await tick();
    assert.deepEqual([a!.hold.held, b!.hold.held, c!.hold.held], [false, false, false], '50 bytes: under the low mark, every held session reads again');
  });

  it('calls unrecorded once when the ledger refuses batches, rejects each refused batch, and still releases the hold', async () => {
    const { record, appends } = slowRecorder();
    let unrecorded = 0;
    const ledger = new SessionLedger(record, { unrecorded: () => unrecorded++, highWater: 10, lowWater: 5 });
    const first = ledger.batch(batchOf(20), {});
    const second = ledger.batch(batchOf(20), {});
    assert.equal(ledger.hold.held, true);
    appends[0]!.settle(false);
    appends[1]!.settle(false);
    await assert.rejects(first, /cannot write/);
    await assert.rejects(second, /cannot write/);
    assert.equal(unrecorded, 1);
    assert.equal(ledger.hold.held, false, 'a refused batch no longer waits');
  });

  it('appends the final entry only after every batch has settled, and settled() waits for them', async () => {
    const { record, appends } = slowRecorder();
    const ledger = new SessionLedger(record, { unrecorded: () => undefined });
    void ledger.batch(...terminalBatch([{ t: 0, kind: 'o', bytes: Buffer.from('hello') }])).catch(() => undefined);
    void ledger.batch(batchOf(5), {}).catch(() => undefined);
    let settled = false;
    void ledger.settled().then(() => (settled = true));
    let ended = false;
    const end = ledger.end({ status: 101 }).then(() => (ended = true));
    await tick();
    assert.deepEqual(appends.map((a) => a.kind), ['stream', 'stream'], 'the final entry waits for the batches');
    appends[1]!.settle(true);
    await tick();
    assert.equal(appends.length, 2, 'and for the first batch too, even when a later one settled first');
    assert.equal(settled, false);
    appends[0]!.settle(false);
    await tick();
    assert.equal(settled, true);
    assert.deepEqual(appends.map((a) => a.kind), ['stream', 'stream', 'response']);
    appends[2]!.settle(true);
    await end;
    assert.equal(ended, true);
  });

  it('terminalBatch is one stream entry of terminal events', () => {
    const [body, data] = terminalBatch([{ t: 0.5, kind: 'o', bytes: Buffer.from('ok') }]);
    assert.equal(body.contentType, 'application/vnd.airlock.terminal');
    assert.deepEqual(decodeTerminalBatch(Buffer.from(body.body), body.contentType), [{ t: 0.5, kind: 'o', data: 'ok' }]);
    assert.deepEqual(data, { terminal: true, events: 1 });
  });
});
