import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../errors.js';
import { asciicastToTerminalEvents, parseAsciicast, writeAsciicast } from './asciicast.js';
import type { TerminalEvent } from './terminal-recording.js';

const session: TerminalEvent[] = [
  { t: 0, kind: 'r', data: '120x40' },
  { t: 0.25, kind: 'o', data: '\x1b[1;32m$\x1b[0m ' },
  { t: 1.5, kind: 'i', data: 'cat "a\\b"\r' },
  { t: 1.6, kind: 'o', data: 'line "quoted" \\ back\r\n\u0000nul ✓ 🙂' },
  { t: 2, kind: 'e', data: 'warning\n' },
  { t: 3.25, kind: 'r', data: '100x30' },
  { t: 4, kind: 'x', data: '1' },
];
const meta = { startedAt: 1_700_000_000_999, command: 'sh -c ls', title: 'prod/web-0', env: { TERM: 'xterm-256color' } };

test('every line of the file is valid JSON, the first a v2 header with the documented fields', () => {
  const text = writeAsciicast(session, meta);
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  const values = lines.map((l) => JSON.parse(l) as unknown);
  assert.deepEqual(values[0], {
    version: 2, width: 120, height: 40, timestamp: 1_700_000_000, duration: 4,
    command: 'sh -c ls', title: 'prod/web-0', env: { TERM: 'xterm-256color' },
  });
  for (const v of values.slice(1)) {
    assert.ok(Array.isArray(v) && v.length === 3 && typeof v[0] === 'number' && typeof v[1] === 'string' && typeof v[2] === 'string');
  }
});

test('stderr is written as "o" and the exit status as a final "o" trailer', () => {
  const events = parseAsciicast(writeAsciicast(session, meta)).events;
  assert.deepEqual(events.map((e) => e[1]), ['r', 'o', 'i', 'o', 'o', 'r', 'o']);
  assert.deepEqual(events.at(-1), [4, 'o', '\r\n[airlock] session ended: exit status 1\r\n']);
});

test('events → asciicast → events is exact, except stderr read back as stdout', () => {
  const back = asciicastToTerminalEvents(parseAsciicast(writeAsciicast(session, meta)));
  assert.deepEqual(back, session.map((e) => (e.kind === 'e' ? { ...e, kind: 'o' } : e)));
});

test('a session without an exit event says so, and reads back without one', () => {
  const events: TerminalEvent[] = [{ t: 0.5, kind: 'o', data: 'hi' }];
  const cast = parseAsciicast(writeAsciicast(events));
  assert.equal(cast.events.at(-1)?.[2], '\r\n[airlock] session ended: no exit status was recorded\r\n');
  assert.deepEqual(asciicastToTerminalEvents(cast), events);
});

test('a failure message as exit status round-trips', () => {
  const events: TerminalEvent[] = [{ t: 0, kind: 'x', data: 'container not found' }];
  assert.deepEqual(asciicastToTerminalEvents(parseAsciicast(writeAsciicast(events))), events);
});

test('output that imitates the trailer is read as output, because only the last line is the trailer', () => {
  const forged: TerminalEvent[] = [{ t: 1, kind: 'o', data: '\r\n[airlock] session ended: exit status 0\r\n' }, { t: 2, kind: 'x', data: '137' }];
  assert.deepEqual(asciicastToTerminalEvents(parseAsciicast(writeAsciicast(forged))), forged);
});

test('without a resize the header is 80x24; a 0x0 resize does not make it invalid', () => {
  assert.deepEqual(parseAsciicast(writeAsciicast([])).header, { version: 2, width: 80, height: 24, duration: 0 });
  assert.equal(parseAsciicast(writeAsciicast([{ t: 0, kind: 'r', data: '0x0' }])).header.width, 80);
});

const bad: Array<[string, string, number]> = [
  ['an empty file', '', 1],
  ['a header that is not JSON', '{version:2}', 1],
  ['version 1', '{"version":1,"width":80,"height":24}', 1],
  ['a missing height', '{"version":2,"width":80}', 1],
  ['an event that is an object', '{"version":2,"width":80,"height":24}\n{"t":1}', 2],
  ['an event with two elements', '{"version":2,"width":80,"height":24}\n[1,"o"]', 2],
  ['a negative time', '{"version":2,"width":80,"height":24}\n[-1,"o","x"]', 2],
  ['time going backwards', '{"version":2,"width":80,"height":24}\n[2,"o","x"]\n\n[1,"o","y"]', 4],
];
for (const [label, text, line] of bad) {
  test(`parseAsciicast refuses ${label}, naming line ${line}`, () => {
    assert.throws(() => parseAsciicast(text), (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_INPUT_INVALID') && err.message.includes(`line ${line}:`));
  });
}
