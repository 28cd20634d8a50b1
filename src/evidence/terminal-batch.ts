/**
 * How a batch of terminal events is stored as the body of one `stream` ledger entry.
 *
 * `application/vnd.airlock.terminal` (written since this format exists): one line of JSON listing
 * the events as `[t, kind, length]` — seconds since the session started, `i`/`o`/`e`/`r`/`x`, and
 * the byte length of its data — then a newline, then the data of every event, one after another,
 * as the bytes that passed (masked). The output is stored as it went to the client, neither
 * re-encoded nor escaped, so a fast stream costs a copy, not a JSON encoding of every byte; and
 * the body still opens in a text editor as the terminal output it is.
 *
 * `application/vnd.airlock.terminal+json` (older ledgers): a JSON array of `{t, kind, data}`.
 * Both are read; only the first is written.
 */
import { AirlockError } from '../errors.js';
import type { RecordedEvent, TerminalEvent, TerminalEventKind } from './terminal-recording.js';

/** The content type of a terminal batch as airlock writes it. */
export const TERMINAL_BATCH_TYPE = 'application/vnd.airlock.terminal';
/** The content type of a terminal batch in ledgers written before TERMINAL_BATCH_TYPE. */
export const TERMINAL_BATCH_JSON_TYPE = 'application/vnd.airlock.terminal+json';

const KINDS: ReadonlySet<string> = new Set<TerminalEventKind>(['i', 'o', 'e', 'r', 'x']);
const NEWLINE = 0x0a;

/** encodeTerminalBatch returns the stored form of a batch (TERMINAL_BATCH_TYPE). */
export function encodeTerminalBatch(events: readonly RecordedEvent[]): Buffer {
  const index = Buffer.from(`${JSON.stringify(events.map((e) => [e.t, e.kind, e.bytes.length]))}\n`);
  return Buffer.concat([index, ...events.map((e) => e.bytes)]);
}

/**
 * decodeTerminalBatch reads a stored batch of either content type back as events with text.
 * A body that does not read as its type throws AIRLOCK_LEDGER_CORRUPT.
 */
export function decodeTerminalBatch(body: Uint8Array, contentType: string | undefined): TerminalEvent[] {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (contentType === TERMINAL_BATCH_JSON_TYPE) return parseJson(bytes.toString('utf8')) as TerminalEvent[];
  if (contentType !== TERMINAL_BATCH_TYPE) throw corrupt(`its content type is ${contentType === undefined ? 'missing' : `"${contentType}"`}`);
  const end = bytes.indexOf(NEWLINE);
  if (end < 0) throw corrupt('it has no event index');
  const index = parseJson(bytes.toString('utf8', 0, end));
  if (!Array.isArray(index)) throw corrupt('its event index is not a list');
  const events: TerminalEvent[] = [];
  let at = end + 1;
  for (const item of index as unknown[]) {
    if (!Array.isArray(item) || item.length !== 3) throw corrupt('an event is not [t, kind, length]');
    const [t, kind, length] = item as unknown[];
    if (typeof t !== 'number' || typeof kind !== 'string' || !KINDS.has(kind) || !Number.isSafeInteger(length) || (length as number) < 0) {
      throw corrupt('an event is not [t, kind, length]');
    }
    const next = at + (length as number);
    if (next > bytes.length) throw corrupt('its events are longer than its data');
    events.push({ t, kind: kind as TerminalEventKind, data: bytes.toString('utf8', at, next) });
    at = next;
  }
  if (at !== bytes.length) throw corrupt('it has data no event names');
  return events;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corrupt(err instanceof Error ? err.message : String(err));
  }
}

function corrupt(why: string): AirlockError {
  return new AirlockError('AIRLOCK_LEDGER_CORRUPT', `a recorded batch of terminal events cannot be read: ${why}`);
}
