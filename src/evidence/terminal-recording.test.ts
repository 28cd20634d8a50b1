import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isAirlockError } from '../errors.js';
import { decodeTerminalBatch, encodeTerminalBatch, TERMINAL_BATCH_TYPE } from './terminal-batch.js';
import { TerminalRecorder, type RecordedEvent, type TerminalEvent } from './terminal-recording.js';

/** A clock the test moves by hand. */
function manualClock(startMs = 1000): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let ms = startMs;
  return { now: () => ms, advance: (d) => { ms += d; }, set: (v) => { ms = v; } };
}
const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');
/** read: the events as a reader of the ledger gets them back, each decoded on its own. */
const read = (events: RecordedEvent[]): TerminalEvent[] => decodeTerminalBatch(encodeTerminalBatch(events), TERMINAL_BATCH_TYPE);

test('events carry seconds since the first event, from the injected clock', () => {
  const clock = manualClock();
  const rec = new TerminalRecorder({ now: clock.now });
  rec.resize(80, 24);
  clock.advance(250);
  rec.output('o', b('$ '));
  clock.advance(1000.5);
  rec.output('i', b('ls\r'));
  clock.advance(1);
  rec.output('e', b('oops\n'));
  rec.exit({ exitCode: 2 });
  assert.deepEqual(read(rec.close()), [
    { t: 0, kind: 'r', data: '80x24' },
    { t: 0.25, kind: 'o', data: '$ ' },
    { t: 1.2505, kind: 'i', data: 'ls\r' },
    { t: 1.2515, kind: 'e', data: 'oops\n' },
    { t: 1.2515, kind: 'x', data: '2' },
  ] satisfies TerminalEvent[]);
});

test('a clock that steps back never makes time go backwards', () => {
  const clock = manualClock();
  const rec = new TerminalRecorder({ now: clock.now });
  rec.start();
  clock.advance(500);
  rec.output('o', b('a'));
  clock.set(900);
  rec.output('o', b('b'));
  assert.deepEqual(rec.flush().map((e) => e.t), [0.5, 0.5]);
});

test('a failure without exit code records its message as the x event', () => {
  const rec = new TerminalRecorder({ now: () => 0 });
  rec.exit({ message: 'container not found' });
  assert.deepEqual(read(rec.close()), [{ t: 0, kind: 'x', data: 'container not found' }]);
});

const text = 'héllo wörld ✓ 🙂\x1b[0m';
const bytes = b(text);
for (let cut = 0; cut <= bytes.length; cut++) {
  test(`a UTF-8 character split across frames at byte ${cut} is recorded whole, never as U+FFFD`, () => {
    const rec = new TerminalRecorder({ now: () => 0 });
    rec.output('o', bytes.subarray(0, cut));
    rec.output('o', bytes.subarray(cut));
    const events = read(rec.close());
    assert.equal(events.map((e) => e.data).join(''), text);
    assert.ok(events.every((e) => !e.data.includes('\uFFFD')));
  });
}

test('one byte at a time gives the same text', () => {
  const rec = new TerminalRecorder({ now: () => 0 });
  for (let i = 0; i < bytes.length; i++) rec.output('o', bytes.subarray(i, i + 1));
  assert.equal(read(rec.close()).map((e) => e.data).join(''), text);
});

test('stdin and stdout keep separate decoders, so interleaving does not corrupt either', () => {
  const rec = new TerminalRecorder({ now: () => 0 });
  const euro = b('€');
  rec.output('o', euro.subarray(0, 1));
  rec.output('i', b('x'));
  rec.output('o', euro.subarray(1));
  assert.deepEqual(read(rec.close()).map((e) => [e.kind, e.data]), [['i', 'x'], ['o', '€']]);
});

test('full batches go to onBatch, and flush/close return the rest with nothing lost or repeated', () => {
  const batches: TerminalEvent[][] = [];
  const rec = new TerminalRecorder({ now: () => 0, onBatch: (e) => batches.push(read(e)), maxBatchEvents: 3 });
  for (let i = 0; i < 8; i++) rec.output('o', b(String(i)));
  assert.deepEqual(batches.map((batch) => batch.length), [3, 3]);
  const rest = read(rec.close());
  assert.deepEqual([...batches.flat(), ...rest].map((e) => e.data).join(''), '01234567');
});

test('a batch is also cut by size', () => {
  const batches: RecordedEvent[][] = [];
  const rec = new TerminalRecorder({ now: () => 0, onBatch: (e) => batches.push(e), maxBatchBytes: 10 });
  rec.output('o', b('x'.repeat(12)));
  assert.equal(batches.length, 1);
});

test('an event after close is an error, never silently dropped', () => {
  const rec = new TerminalRecorder({ now: () => 0 });
  rec.close();
  assert.throws(() => rec.output('o', b('late')), (err: unknown) => isAirlockError(err, 'AIRLOCK_INTERNAL'));
});

test('a half character left at close is flushed as U+FFFD rather than lost', () => {
  const rec = new TerminalRecorder({ now: () => 0 });
  rec.output('o', b('€').subarray(0, 2));
  assert.deepEqual(read(rec.close()), [{ t: 0, kind: 'o', data: '\uFFFD' }]);
});

test('any bytes cut anywhere are recorded as the WHATWG decoder reads them whole (U+FFFD for each bad sequence)', () => {
  // Bytes that make every kind of bad UTF-8: stray continuations, truncated leads, overlongs,
  // surrogates (ED A0..), values past U+10FFFF (F4 90.., F5..), and bytes UTF-8 never uses.
  const byte = fc.constantFrom(0x41, 0x0a, 0x1b, 0x80, 0x82, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xc3, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff);
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }), (raw, cuts) => {
      const input = Buffer.from(raw);
      const rec = new TerminalRecorder({ now: () => 0 });
      for (let at = 0, i = 0; at < input.length; i++) {
        const size = cuts[i % cuts.length]!;
        rec.output('o', new Uint8Array(input.subarray(at, at + size)));
        at += size;
      }
      assert.equal(read(rec.close()).map((e) => e.data).join(''), new TextDecoder('utf-8').decode(input));
    }),
    { numRuns: 2000 },
  );
});
