/**
 * The replays of an evidence bundle — one API replay per session (`replays/api/SESSION.jsonl`)
 * and one asciicast per terminal session (`replays/terminal/ID.cast`) — as both the exporter
 * writes them and the verifier computes them again from the bundle's ledger segment. An
 * insider holding the signing key who edits a replay (drops a command's output, adds a session)
 * and re-signs the manifest is caught: the replay no longer is what the segment yields.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerEntry, LedgerReader } from '../ledger/types.js';
import { replayLine } from './api-replay.js';
import { writeAsciicast } from './asciicast.js';
import { requestRows, type RequestRow } from './request-rows.js';
import type { TerminalEvent } from './terminal-recording.js';
import { terminalEventsOf } from './terminal-session.js';

export type Period = { since?: string; until?: string };

/** inPeriod: a time within the bundle's period (no time counts as within). */
export function inPeriod(time: string | undefined, period: Period): boolean {
  if (!time) return true;
  return (!period.since || time >= period.since) && (!period.until || time <= period.until);
}

/** apiReplayName is the file of a session's API replay: its id, made safe, and distinct per id. */
export function apiReplayName(sessionId: string): string {
  const safe = sessionId.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === sessionId ? `${safe}.jsonl` : `${safe}-${createHash('sha256').update(sessionId).digest('hex').slice(0, 12)}.jsonl`;
}

/**
 * apiReplayLineOf is what one request adds to its session's API replay: the file, the line,
 * and whether the request earns the session a file (exec/attach and imported requests alone do
 * not: casts replay the former, the latter were not witnessed). Undefined outside a session or
 * the period.
 */
export async function apiReplayLineOf(seg: LedgerReader, row: RequestRow, period: Period): Promise<{ file: string; line: string; keep: boolean } | undefined> {
  if (!row.sessionId) return undefined;
  const line = await replayLine(seg, row);
  if (!inPeriod(line.time, period)) return undefined;
  return { file: apiReplayName(row.sessionId), line: JSON.stringify(line), keep: !row.terminal && !row.imported };
}

/** A terminal session gathered from the entries: its request and its recorded parts. */
export interface OpenTerminal {
  request: LedgerEntry;
  parts: LedgerEntry[];
}

/**
 * TerminalSessions gathers the terminal sessions of the requests in `ids` from entries read in
 * ledger order, handing each out when its closing entry passes: memory follows the sessions
 * open at once, not the period.
 */
export class TerminalSessions {
  readonly #open = new Map<string, OpenTerminal>();
  constructor(private readonly ids: ReadonlySet<string>) {}

  /** push takes the next entry; returns a session it completes, with its closing entry. */
  push(entry: LedgerEntry): { session: OpenTerminal; end: LedgerEntry } | undefined {
    if (entry.type === 'request' && this.ids.has(entry.id)) {
      this.#open.set(entry.id, { request: entry, parts: [] });
      return undefined;
    }
    const requestId = entry.data?.requestId;
    const session = typeof requestId === 'string' ? this.#open.get(requestId) : undefined;
    if (!session) return undefined;
    if (entry.type === 'stream' && entry.data?.terminal === true) session.parts.push(entry);
    else if (entry.type === 'response') {
      this.#open.delete(requestId as string);
      return { session, end: entry };
    }
    return undefined;
  }

  /** unfinished: the sessions the segment ends inside of. */
  unfinished(): OpenTerminal[] {
    return [...this.#open.values()];
  }
}

/** castOf renders a terminal session as its asciicast, or undefined when it recorded nothing. */
export async function castOf(seg: LedgerReader, session: OpenTerminal, end?: LedgerEntry): Promise<string | undefined> {
  if (session.parts.length === 0 && end?.data?.terminal !== true) return undefined;
  const events: TerminalEvent[] = [];
  for (const part of session.parts) events.push(...((await terminalEventsOf(seg, part)) ?? []));
  const command = Array.isArray(session.request.action?.command) ? session.request.action.command.join(' ') : undefined;
  return writeAsciicast(events, { ...(command ? { command } : {}) });
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * expectedReplays computes every replay file the bundle must hold, as `replays/…` path → the
 * SHA-256 of its content, in two passes over the segment (the API lines are hashed as they
 * pass, so no replay is held whole).
 */
export async function expectedReplays(seg: LedgerReader, period: Period): Promise<Map<string, string>> {
  const api = new Map<string, { hash: ReturnType<typeof createHash>; keep: boolean }>();
  const terminals = new Set<string>();
  for await (const row of requestRows(seg, { ...period, bodies: true })) {
    if (row.terminal) terminals.add(row.id);
    const added = await apiReplayLineOf(seg, row, period);
    if (!added) continue;
    const name = `replays/api/${added.file}`;
    let file = api.get(name);
    if (!file) {
      file = { hash: createHash('sha256'), keep: false };
      api.set(name, file);
    }
    file.hash.update(`${added.line}\n`);
    if (added.keep) file.keep = true;
  }
  const expected = new Map<string, string>();
  for (const [name, file] of api) if (file.keep) expected.set(name, file.hash.digest('hex'));
  const sessions = new TerminalSessions(terminals);
  const add = async (session: OpenTerminal, end?: LedgerEntry) => {
    const cast = await castOf(seg, session, end);
    if (cast !== undefined) expected.set(`replays/terminal/${session.request.id}.cast`, sha256(cast));
  };
  for await (const entry of seg.entries({})) {
    const done = sessions.push(entry);
    if (done) await add(done.session, done.end);
  }
  for (const session of sessions.unfinished()) await add(session);
  return expected;
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * compareReplays checks the bundle's replay files against `expected` (expectedReplays): each
 * must be there with exactly that content, and no other may be.
 */
export async function compareReplays(dir: string, expected: ReadonlyMap<string, string>, problems: string[]): Promise<void> {
  const present: string[] = [];
  for (const sub of ['replays/api', 'replays/terminal']) {
    const folder = join(dir, sub);
    if (!existsSync(folder)) continue;
    for (const f of readdirSync(folder)) present.push(`${sub}/${f}`);
  }
  let reported = 0;
  const report = (problem: string) => {
    if (reported++ < 40) problems.push(problem);
  };
  for (const name of present.sort()) {
    const want = expected.get(name);
    if (want === undefined) report(`${name} is not a replay the ledger segment yields (added)`);
    else if ((await fileSha256(join(dir, name))) !== want) report(`${name} is not what the ledger segment yields (changed)`);
  }
  const have = new Set(present);
  for (const name of [...expected.keys()].sort()) if (!have.has(name)) report(`${name} is missing: the ledger segment holds that session`);
}
