import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isAirlockError } from '../errors.js';
import { decodeTerminalBatch, encodeTerminalBatch, TERMINAL_BATCH_JSON_TYPE, TERMINAL_BATCH_TYPE } from './terminal-batch.js';
import type { RecordedEvent } from './terminal-recording.js';

const ev = (t: number, kind: RecordedEvent['kind'], text: string): RecordedEvent => ({ t, kind, bytes: Buffer.from(text, 'utf8') });

test('a batch is an index line and the bytes of its events as they passed, neither escaped nor re-encoded', () => {
  const events = [ev(0, 'r', '80x24'), ev(0.25, 'o', '"quoted"\n\x1b[31mred\x1b[0m ✓\n'), ev(1.5, 'i', 'ls\r'), ev(2, 'x', '0')];
  const body = encodeTerminalBatch(events);
  const newline = body.indexOf('\n');
  assert.deepEqual(JSON.parse(body.toString('utf8', 0, newline)), [[0, 'r', 5], [0.25, 'o', Buffer.byteLength('"quoted"\n\x1b[31mred\x1b[0m ✓\n')], [1.5, 'i', 3], [2, 'x', 1]]);
  assert.equal(body.toString('utf8', newline + 1), '80x24"quoted"\n\x1b[31mred\x1b[0m ✓\nls\r0');
  assert.deepEqual(decodeTerminalBatch(body, TERMINAL_BATCH_TYPE), events.map((e) => ({ t: e.t, kind: e.kind, data: e.bytes.toString('utf8') })));
});

test('any events read back as they were recorded, bytes that are not UTF-8 as U+FFFD', () => {
  const event = fc.record({
    t: fc.double({ min: 0, max: 1e6, noNaN: true }),
    kind: fc.constantFrom<RecordedEvent['kind']>('i', 'o', 'e', 'r', 'x'),
    bytes: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  });
  fc.assert(
    fc.property(fc.array(event, { maxLength: 20 }), (events) => {
      const read = decodeTerminalBatch(encodeTerminalBatch(events), TERMINAL_BATCH_TYPE);
      assert.deepEqual(read, events.map((e) => ({ t: e.t, kind: e.kind, data: new TextDecoder().decode(e.bytes) })));
    }),
  );
});

test('a batch of an older ledger (JSON events) still reads', () => {
  const old = [{ t: 0.5, kind: 'o', data: 'hello\n' }];
  assert.deepEqual(decodeTerminalBatch(Buffer.from(JSON.stringify(old)), TERMINAL_BATCH_JSON_TYPE), old);
});

test('a damaged batch is refused as a corrupt ledger, naming what is wrong', () => {
  const good = encodeTerminalBatch([ev(0, 'o', 'hello')]);
  const cases: Array<[string, Buffer, string | undefined, RegExp]> = [
    ['no index line', Buffer.from('hello'), TERMINAL_BATCH_TYPE, /no event index/],
    ['index not JSON', Buffer.from('[[0,"o",5]\nhello'), TERMINAL_BATCH_TYPE, /cannot be read/],
    ['index not a list', Buffer.from('{}\nhello'), TERMINAL_BATCH_TYPE, /not a list/],
    ['unknown kind', Buffer.from('[[0,"z",5]]\nhello'), TERMINAL_BATCH_TYPE, /\[t, kind, length\]/],
    ['negative length', Buffer.from('[[0,"o",-1]]\nhello'), TERMINAL_BATCH_TYPE, /\[t, kind, length\]/],
    ['data cut short', good.subarray(0, good.length - 1), TERMINAL_BATCH_TYPE, /longer than its data/],
    ['data left over', Buffer.concat([good, Buffer.from('!')]), TERMINAL_BATCH_TYPE, /data no event names/],
    ['unknown content type', good, 'text/plain', /content type is "text\/plain"/],
    ['no content type', good, undefined, /content type is missing/],
    ['old format not JSON', Buffer.from('[{'), TERMINAL_BATCH_JSON_TYPE, /cannot be read/],
  ];
  for (const [name, body, type, message] of cases) {
    assert.throws(() => decodeTerminalBatch(body, type), (err: unknown) => isAirlockError(err, 'AIRLOCK_LEDGER_CORRUPT') && message.test((err as Error).message), name);
  }
});
