import { test } from 'node:test';
import assert from 'node:assert/strict';
import { playAsciicast } from './asciicast-player.js';
import type { AsciicastEvent } from './asciicast.js';

/** A virtual clock: sleep advances it at once, and every write is stamped with it. */
function virtualTerminal(): { sleep: (ms: number) => Promise<void>; write: (s: string) => void; log: Array<[number, string]> } {
  let now = 0;
  const log: Array<[number, string]> = [];
  return { sleep: async (ms) => { now += ms; }, write: (s) => { log.push([now, s]); }, log };
}

const events: AsciicastEvent[] = [
  [0.5, 'o', 'a'],
  [1, 'i', 'typed'],
  [1.5, 'r', '100x30'],
  [2, 'o', 'b'],
  [12, 'o', 'c'],
  [12, 'o', 'd'],
];

test('output is written at its recorded time; input and resizes are not written', async () => {
  const term = virtualTerminal();
  const result = await playAsciicast(events, term.write, { sleep: term.sleep });
  assert.deepEqual(term.log, [[500, 'a'], [2000, 'b'], [12000, 'c'], [12000, 'd']]);
  assert.deepEqual(result, { written: 4, sleptMs: 12000, aborted: false });
});

test('speed divides every wait', async () => {
  const term = virtualTerminal();
  await playAsciicast(events, term.write, { sleep: term.sleep, speed: 4 });
  assert.deepEqual(term.log.map(([t]) => t), [125, 500, 3000, 3000]);
});

test('maxIdle shortens long pauses and later events shift with them', async () => {
  const term = virtualTerminal();
  await playAsciicast(events, term.write, { sleep: term.sleep, maxIdle: 2 });
  assert.deepEqual(term.log, [[500, 'a'], [2000, 'b'], [4000, 'c'], [4000, 'd']]);
});

test('an aborted playback stops before the next write', async () => {
  const term = virtualTerminal();
  const controller = new AbortController();
  const result = await playAsciicast(events, (s) => { term.write(s); if (s === 'b') controller.abort(); }, { sleep: term.sleep, signal: controller.signal });
  assert.deepEqual(term.log.map(([, s]) => s), ['a', 'b']);
  assert.equal(result.aborted, true);
});

test('a speed that is not positive is refused', async () => {
  await assert.rejects(playAsciicast(events, () => undefined, { speed: 0 }), RangeError);
});
