import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUuidV7, uuidV7, uuidV7Time } from './uuid-v7.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are RFC 9562 version 7 with the RFC variant', () => {
  for (let i = 0; i < 1000; i++) assert.match(uuidV7(), UUID_V7);
});

test('an id carries the millisecond it was made in', () => {
  const cases = [
    { name: 'epoch', ms: 0 },
    { name: 'now', ms: 1_760_000_000_123 },
    { name: 'largest 48-bit time', ms: 2 ** 48 - 1 },
  ];
  for (const c of cases) {
    const id = createUuidV7(() => c.ms)();
    assert.equal(uuidV7Time(id), c.ms, c.name);
  }
});

test('ids from one generator strictly increase, even many within one millisecond', () => {
  const gen = createUuidV7(() => 1_760_000_000_000);
  let prev = gen();
  for (let i = 0; i < 20_000; i++) {
    const next = gen();
    assert.ok(next > prev, `${next} should sort after ${prev}`);
    prev = next;
  }
});

test('ids keep increasing when the clock steps backwards', () => {
  const times = [1000, 2000, 1500, 1500, 900, 2001];
  let i = 0;
  const gen = createUuidV7(() => times[Math.min(i++, times.length - 1)] as number);
  const ids = times.map(() => gen());
  const sorted = [...ids].sort();
  assert.deepEqual(ids, sorted);
  assert.equal(new Set(ids).size, ids.length);
});

test('ids sort by creation time across milliseconds', () => {
  let ms = 5_000;
  const gen = createUuidV7(() => ms);
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids.push(gen());
    ms += i % 3;
  }
  assert.deepEqual([...ids].sort(), ids);
});
