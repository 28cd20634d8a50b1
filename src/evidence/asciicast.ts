/**
 * asciicast v2, the replay file `airlock replay SESSION --out FILE.cast` writes
 * (https://docs.asciinema.org/manual/asciicast/v2/): newline-delimited JSON, a header object,
 * then one `[time, code, data]` array per event, time in seconds since the start.
 *
 * Choices, because v2 has fewer event kinds than a TerminalEvent:
 * - stderr is written as `"o"`: a terminal shows both on one screen, and with a TTY the kubelet
 *   already merges them. The ledger keeps the distinction; the replay file does not.
 * - v2 has no exit event (v3's `"x"`), so the file always ends with one `"o"` line written by
 *   airlock: `[airlock] session ended: exit status N`, `… : <failure message>`, or `… : no exit
 *   status was recorded`. A viewer sees how the session ended, and parseAsciicast turns the
 *   trailer back into an `x` event. Because the trailer is always the last line, output that
 *   merely imitates it is read as output.
 * - The size in the header is the first resize of the session (kubectl sends one at once with
 *   a TTY), else 80x24; every resize is also kept as an `"r"` event.
 * Pure: builds strings, writes no file.
 */
import { AirlockError } from '../errors.js';
import type { TerminalEvent } from './terminal-recording.js';

/** AsciicastHeader is the first line; width and height are required by the format. */
export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds when the session started. */
  timestamp?: number;
  /** Seconds from the start to the last event. */
  duration?: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
  idle_time_limit?: number;
}

/** One event line: time in seconds, code (o, i, r, m, …), data. */
export type AsciicastEvent = [number, string, string];

/** What the caller knows about the session beyond its events. */
export interface AsciicastMeta {
  /** Session start, milliseconds since the epoch (written as whole seconds). */
  startedAt?: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
}

export const TRAILER_PREFIX = '\r\n[airlock] session ended: ';
const TRAILER_SUFFIX = '\r\n';
const NO_EXIT = 'no exit status was recorded';
const DEFAULT_SIZE = { width: 80, height: 24 };

/** asciicastHeader builds the header for a session's events. */
export function asciicastHeader(events: readonly TerminalEvent[], meta: AsciicastMeta = {}): AsciicastHeader {
  const firstResize = events.find((e) => e.kind === 'r');
  const size = (firstResize && parseSize(firstResize.data)) ?? DEFAULT_SIZE;
  const header: AsciicastHeader = { version: 2, width: size.width, height: size.height };
  if (meta.startedAt !== undefined) header.timestamp = Math.floor(meta.startedAt / 1000);
  header.duration = events.length === 0 ? 0 : (events[events.length - 1] as TerminalEvent).t;
  if (meta.command !== undefined) header.command = meta.command;
  if (meta.title !== undefined) header.title = meta.title;
  if (meta.env !== undefined) header.env = { ...meta.env };
  return header;
}

/**
 * writeAsciicast renders a session as asciicast v2 text, one JSON value per line, ending in a
 * newline. Events after the exit event are kept in order; the trailer comes last.
 *
 * @example
 * await writeFile('session.cast', writeAsciicast(events, { startedAt, command: 'sh' }));
 */
export function writeAsciicast(events: readonly TerminalEvent[], meta: AsciicastMeta = {}): string {
  return asciicastLines(events, meta).join('\n') + '\n';
}

/** asciicastLines is writeAsciicast without the joining: the header, events, then the trailer. */
export function asciicastLines(events: readonly TerminalEvent[], meta: AsciicastMeta = {}): string[] {
  const lines = [JSON.stringify(asciicastHeader(events, meta))];
  let exit: TerminalEvent | undefined;
  let last = 0;
  for (const e of events) {
    last = e.t;
    if (e.kind === 'x') exit = e;
    else lines.push(JSON.stringify([e.t, e.kind === 'e' ? 'o' : e.kind, e.data]));
  }
  const ending = exit === undefined ? NO_EXIT : /^\d+$/.test(exit.data) ? `exit status ${exit.data}` : exit.data;
  lines.push(JSON.stringify([exit?.t ?? last, 'o', TRAILER_PREFIX + ending + TRAILER_SUFFIX]));
  return lines;
}

/** ParsedAsciicast is a validated file: its header and event lines. */
export interface ParsedAsciicast {
  header: AsciicastHeader;
  events: AsciicastEvent[];
}

/**
 * parseAsciicast validates asciicast v2 text line by line. Throws AIRLOCK_INPUT_INVALID naming
 * the line for a header that is not a v2 object with integer width and height, or an event that
 * is not `[time ≥ 0, string, string]` with times never decreasing. Empty lines are skipped.
 */
export function parseAsciicast(text: string): ParsedAsciicast {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  const header = parseLine(first, 1);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw invalid(1, 'the header is not a JSON object');
  const h = header as Record<string, unknown>;
  if (h.version !== 2) throw invalid(1, 'version is not 2');
  for (const field of ['width', 'height'] as const) {
    const v = h[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw invalid(1, `${field} is not a positive integer`);
  }
  const events: AsciicastEvent[] = [];
  let previous = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const e = parseLine(line, i + 1);
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'number' || typeof e[1] !== 'string' || typeof e[2] !== 'string') {
      throw invalid(i + 1, 'an event is not [time, code, data]');
    }
    if (!(e[0] >= previous)) throw invalid(i + 1, 'the time is negative or goes backwards');
    previous = e[0];
    events.push([e[0], e[1], e[2]]);
  }
  return { header: h as unknown as AsciicastHeader, events };
}

/**
 * asciicastToTerminalEvents reads a file airlock wrote back into events: `"o"` becomes `o`
 * (stderr included, see above), the final trailer becomes `x`, and codes outside i/o/r (markers)
 * are dropped.
 */
export function asciicastToTerminalEvents(cast: ParsedAsciicast): TerminalEvent[] {
  const out: TerminalEvent[] = [];
  cast.events.forEach(([t, code, data], index) => {
    const isLast = index === cast.events.length - 1;
    if (isLast && code === 'o' && data.startsWith(TRAILER_PREFIX) && data.endsWith(TRAILER_SUFFIX)) {
      const ending = data.slice(TRAILER_PREFIX.length, data.length - TRAILER_SUFFIX.length);
      const status = /^exit status (\d+)$/.exec(ending);
      if (status) out.push({ t, kind: 'x', data: status[1] as string });
      else if (ending !== NO_EXIT) out.push({ t, kind: 'x', data: ending });
      return;
    }
    if (code === 'o' || code === 'i' || code === 'r') out.push({ t, kind: code, data });
  });
  return out;
}

function parseSize(data: string): { width: number; height: number } | undefined {
  const m = /^(\d+)x(\d+)$/.exec(data);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  // A 0x0 resize (a client that has no size yet) would make the header invalid.
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function parseLine(line: string, n: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw invalid(n, 'not valid JSON');
  }
}

function invalid(line: number, why: string): AirlockError {
  return new AirlockError('AIRLOCK_INPUT_INVALID', `asciicast line ${line}: ${why}`);
}
