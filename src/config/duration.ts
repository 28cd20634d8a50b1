/**
 * Durations as people write them in configuration and on the command line: `500ms`, `30s`,
 * `15m`, `24h`, `7d`, and combinations from the largest unit to the smallest (`1h30m`,
 * `1d12h`). A bare number means seconds, because that is what a reader of `interval: 60`
 * expects. Everything inside airlock holds durations as whole milliseconds.
 *
 * Months and years are deliberately absent: their length varies, and a retention or TTL that
 * silently means 28 or 31 days is worse than asking for `30d`.
 */
import { AirlockError } from '../errors.js';

/** Units in descending size; the order is also the order a combination must follow. */
const units = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const unitMs = new Map<string, number>(units);
const unitRank = new Map<string, number>(units.map(([unit], index) => [unit, index]));

const examples = 'e.g. 500ms, 30s, 15m, 24h, 7d or 1h30m; a bare number means seconds';
const bareNumber = /^\d+(?:\.\d+)?$/;
// The unit is every letter after the number, so `1mo` is refused as the unit "mo" rather
// than read as one minute followed by junk.
const part = /(\d+(?:\.\d+)?)([a-zA-Z]*)/y;

/**
 * parseDuration converts `30s`, `1h30m`, `500ms` or a number of seconds to milliseconds
 * (rounded to a whole millisecond). It throws AIRLOCK_INPUT_INVALID naming the problem for
 * empty text, a negative or non-finite value, an unknown unit, or units out of order.
 *
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return fromSeconds(text, String(text));
  const source = text.trim();
  if (source === '') throw invalid(text, 'it is empty');
  if (bareNumber.test(source)) return fromSeconds(Number(source), text);
  if (source.startsWith('-')) throw invalid(text, 'durations cannot be negative');

  let total = 0;
  let lastRank = -1;
  part.lastIndex = 0;
  while (part.lastIndex < source.length) {
    const start = part.lastIndex;
    const match = part.exec(source);
    if (!match) throw invalid(text, `expected a number followed by a unit at "${source.slice(start)}" (${examples})`);
    const [, amount = '', unit = ''] = match;
    if (unit === '') throw invalid(text, `a number needs a unit when combined with others (${examples})`);
    const rank = unitRank.get(unit);
    if (rank === undefined) throw invalid(text, `unknown unit "${unit}"; use ms, s, m, h or d (${examples})`);
    if (rank <= lastRank) {
      throw invalid(text, `units must go from the largest to the smallest, each at most once (${examples})`);
    }
    lastRank = rank;
    total += Number(amount) * (unitMs.get(unit) ?? 1);
  }
  return checkRange(Math.round(total), text);
}

/**
 * formatDuration renders milliseconds the way parseDuration reads them, largest unit first,
 * leaving out zero parts: 5_400_000 → `1h30m`, 1_500 → `1s500ms`, 0 → `0s`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return ms < 0 ? `-${out}` : out;
}

function fromSeconds(seconds: number, shown: string): number {
  if (!Number.isFinite(seconds)) throw invalid(shown, 'it is not a finite number');
  if (seconds < 0) throw invalid(shown, 'durations cannot be negative');
  return checkRange(Math.round(seconds * 1000), shown);
}

function checkRange(ms: number, shown: string): number {
  if (!Number.isSafeInteger(ms)) throw invalid(shown, 'it is too large');
  return ms;
}

function invalid(text: string, why: string): AirlockError {
  return new AirlockError('AIRLOCK_INPUT_INVALID', `invalid duration "${text}": ${why}`);
}
