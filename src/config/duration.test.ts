import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from './duration.js';
import { isAirlockError } from '../errors.js';

const valid: Array<[string, string | number, number]> = [
  ['milliseconds', '500ms', 500],
  ['seconds', '30s', 30_000],
  ['minutes', '15m', 900_000],
  ['hours', '24h', 86_400_000],
  ['days', '7d', 604_800_000],
  ['hours and minutes', '1h30m', 5_400_000],
  ['every unit at once', '1d2h3m4s5ms', 93_784_005],
  ['a fraction of a unit', '1.5h', 5_400_000],
  ['a bare number string is seconds', '60', 60_000],
  ['a bare number is seconds', 60, 60_000],
  ['a fractional number of seconds', 0.25, 250],
  ['zero', 0, 0],
  ['zero with a unit', '0s', 0],
  ['surrounding blanks', '  30s ', 30_000],
  ['sub-millisecond rounds to whole milliseconds', '1.4ms', 1],
];

for (const [name, input, expected] of valid) {
  test(`parseDuration reads ${name} (${JSON.stringify(input)})`, () => {
    assert.equal(parseDuration(input), expected);
  });
}

const invalid: Array<[string, string | number, RegExp]> = [
  ['empty text', '', /empty/],
  ['blank text', '   ', /empty/],
  ['a negative number', -1, /negative/],
  ['a negative duration', '-5s', /negative/],
  ['infinity', Number.POSITIVE_INFINITY, /finite/],
  ['not a number', Number.NaN, /finite/],
  ['an unknown unit', '3w', /unknown unit "w"/],
  ['a month (length varies)', '1mo', /unknown unit "mo"/],
  ['an upper-case unit', '30S', /unknown unit "S"/],
  ['units out of order', '30m1h', /largest to the smallest/],
  ['a repeated unit', '1h1h', /largest to the smallest/],
  ['a trailing bare number', '1h30', /needs a unit/],
  ['words', 'soon', /number followed by a unit/],
  ['a space between parts', '1h 30m', /number followed by a unit/],
  ['too large to hold exactly', '99999999999999999d', /too large/],
];

for (const [name, input, message] of invalid) {
  test(`parseDuration refuses ${name} with an error that says why`, () => {
    assert.throws(
      () => parseDuration(input),
      (err: unknown) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID') && message.test(err.message),
    );
  });
}

const formatted: Array<[number, string]> = [
  [0, '0s'],
  [500, '500ms'],
  [1_500, '1s500ms'],
  [60_000, '1m'],
  [5_400_000, '1h30m'],
  [86_400_000, '1d'],
  [604_800_000, '7d'],
  [-30_000, '-30s'],
];

for (const [ms, text] of formatted) {
  test(`formatDuration renders ${ms} ms as ${text}`, () => {
    assert.equal(formatDuration(ms), text);
  });
}

test('formatDuration output always parses back to the same number of milliseconds', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms),
  );
});
