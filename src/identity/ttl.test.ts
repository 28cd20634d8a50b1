import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAirlockError } from '../errors.js';
import { parseTtl } from './ttl.js';

const good: Array<[string, number]> = [['15m', 900], ['1h30m', 5400], ['90s', 90], ['2d', 172_800], ['3600', 3600]];
for (const [text, seconds] of good) {
  test(`parseTtl reads "${text}" as ${seconds} s`, () => assert.equal(parseTtl(text), seconds));
}

for (const text of ['', '0', '0s', '1500ms', 'soon', '-5m', '15 minutes']) {
  test(`parseTtl refuses "${text}" with AIRLOCK_INPUT_INVALID`, () => {
    assert.throws(() => parseTtl(text), (err) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID'));
  });
}
