/**
 * Replay of one API session from the ledger: a JSON line per request with the masked request
 * and response bodies as recorded (inline, or read from the blob store by their SHA-256), and
 * the session's terminal sessions (exec, attach) gathered in one pass for asciicast files.
 * Reads only the ledger; every body it hands out was masked before it was recorded.
 */
import type { LedgerEntry, LedgerReader, Payload } from '../ledger/types.js';
import { requestRows, type RequestRow } from './request-rows.js';
import { terminalEventsOf, type TerminalSession } from './terminal-session.js';
import type { TerminalEvent } from './terminal-recording.js';

/** A recorded body as the replay shows it. */
export interface ReplayBody {
  contentType?: string;
  size: number;
  sha256: string;
  /** The body as text, when it is UTF-8. */
  text?: string;
  /** The body in base64, when it is not UTF-8. */
  base64?: string;
  /** Size of the whole body when only its head was recorded (size cap). */
  fullSize?: number;
  /** The blob store has no body under this digest. */
  missing?: true;
}

/** One line of `api.jsonl`. */
export interface ApiReplayLine {
  id: string;
  time: string;
  sessionId?: string;
  subject?: string;
  method?: string;
  target?: string;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  decision?: string;
  rules: string[];
  outcome?: string;
  refusalReason?: string;
  approval: string;
  status?: number;
  durationMs?: number;
  request?: ReplayBody;
  response?: ReplayBody;
  /** An exec/attach: its terminal session is replayed from its own file, `<id>.cast`. */
  terminal?: true;
  ledger: string;
}

/**
 * apiReplay yields the session's requests in ledger order, each with its masked bodies.
 *
 * @example
 * for await (const line of apiReplay(reader, 'ses_…')) out.write(`${JSON.stringify(line)}\n`);
 */
export async function* apiReplay(reader: LedgerReader, sessionId: string): AsyncGenerator<ApiReplayLine> {
  for await (const row of requestRows(reader, { sessionId, bodies: true })) {
    yield await replayLine(reader, row);
  }
}

/** replayLine is one request as the replay shows it (bodies read from the blob store when needed). */
export async function replayLine(reader: LedgerReader, row: RequestRow): Promise<ApiReplayLine> {
  const line: ApiReplayLine = { id: row.id, time: row.time, rules: row.rules, approval: row.approval, ledger: `${row.chain}#${row.seq}@${row.hash}` };
  const copy = <K extends keyof ApiReplayLine & keyof RequestRow>(key: K) => {
    if (row[key] !== undefined) (line as unknown as Record<string, unknown>)[key] = row[key];
  };
  for (const key of ['sessionId', 'subject', 'method', 'target', 'verb', 'resource', 'namespace', 'name', 'subresource', 'decision', 'outcome', 'refusalReason', 'status', 'durationMs'] as const) copy(key);
  if (row.requestBody) line.request = await bodyOf(reader, row.requestBody);
  if (row.responseBody) line.response = await bodyOf(reader, row.responseBody);
  if (row.terminal) line.terminal = true;
  return line;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** bodyOf reads a payload's bytes (inline or from the blob store) as text, else base64. */
export async function bodyOf(reader: LedgerReader, payload: Payload): Promise<ReplayBody> {
  const body: ReplayBody = { size: payload.size, sha256: payload.sha256 };
  if (payload.contentType !== undefined) body.contentType = payload.contentType;
  if (payload.fullSize !== undefined) body.fullSize = payload.fullSize;
  if (payload.inline !== undefined) {
    body.text = payload.inline;
    return body;
  }
  if (payload.size === 0) {
    body.text = '';
    return body;
  }
  const bytes = await reader.blob(payload.sha256);
  if (!bytes) {
    body.missing = true;
    return body;
  }
  try {
    body.text = utf8.decode(bytes);
  } catch {
    body.base64 = Buffer.from(bytes).toString('base64');
  }
  return body;
}

/**
 * sessionTerminals gathers every terminal session (exec, attach) of one API session in one pass
 * over the session's entries: each request with its terminal events in order and its closing
 * answer. Requests that recorded no terminal events and no terminal answer are left out.
 */
export async function sessionTerminals(reader: LedgerReader, sessionId: string): Promise<TerminalSession[]> {
  const found = new Map<string, { request: LedgerEntry; events: TerminalEvent[]; end?: LedgerEntry; missingParts?: number }>();
  for await (const entry of reader.entries({ sessionId, types: ['request', 'stream', 'response'] })) {
    if (entry.type === 'request') {
      const sub = entry.action?.subresource;
      if ((sub === 'exec' || sub === 'attach') && entry.data?.outcome !== 'refused') found.set(entry.id, { request: entry, events: [] });
      continue;
    }
    const requestId = entry.data?.requestId;
    const session = typeof requestId === 'string' ? found.get(requestId) : undefined;
    if (!session) continue;
    if (entry.type === 'stream' && entry.data?.terminal === true) {
      const read = await terminalEventsOf(reader, entry);
      if (read) session.events.push(...read);
      else session.missingParts = (session.missingParts ?? 0) + 1;
    } else if (entry.type === 'response') {
      session.end = entry;
    }
  }
  return [...found.values()].filter((s) => s.events.length > 0 || s.end?.data?.terminal === true);
}
