/**
 * `airlock sessions list` and `airlock sessions show SESSION`: what each session (every request
 * made with one token) did, read from the ledger alone — requests and their decisions, approvals,
 * terminal sessions to replay. Exit code 0, or 2 with a plain error.
 */
import { CommanderError, Option, type Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { AirlockError, isAirlockError } from '../errors.js';
import { APPROVAL_STATUSES, requestRows, sessionSummaries, isTerminalRow, type ApprovalStatus, type RequestRow, type SessionSummary } from '../evidence/request-rows.js';
import { readerOptionsFromConfig } from '../gateway/ledger-options.js';
import { openLedgerReader, type LedgerEntry, type LedgerReader } from '../ledger/index.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

/** Where a command writes, and its clock; the defaults are the process's own. */
export interface CliIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  now?: () => Date;
}

interface ListOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  identity?: string;
  connection?: string;
  since?: string;
  until?: string;
  decision?: 'allow' | 'deny' | 'review';
  approval?: ApprovalStatus;
  json?: boolean;
}

interface ShowOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  json?: boolean;
}

/** registerSessions adds `airlock sessions list|show`. */
export function registerSessions(program: Command, io: CliIo = {}): void {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const now = io.now ?? (() => new Date());
  const sessions = program.command('sessions').description('sessions (all requests made with one token) as the ledger recorded them');

  const list = sessions
    .command('list')
    .description('one line per session: who, when, how many requests and how they were decided')
    .option('--identity <subject>', 'only sessions of this subject, e.g. agent:deploy-bot')
    .option('--connection <name>', 'only sessions that used this connection')
    .option('--since <time>', 'only requests from this time on: RFC 3339, or a duration before now such as 24h or 7d')
    .option('--until <time>', 'only requests before this time: RFC 3339, or a duration before now')
    .addOption(new Option('--decision <effect>', 'only sessions with a request decided so').choices(['allow', 'deny', 'review']))
    .addOption(new Option('--approval <status>', 'only sessions with a request in this approval status (none: sessions without approvals)').choices([...APPROVAL_STATUSES]))
    .option('--json', 'print the sessions as JSON');
  addConfigOptions(list);
  usageExitsTwo(list);
  list.action((options: ListOptions) =>
    guarded(err, async () => {
      const since = options.since !== undefined ? parseTimeFlag('--since', options.since, now()) : undefined;
      const until = options.until !== undefined ? parseTimeFlag('--until', options.until, now()) : undefined;
      const found = await withReader(options, (reader) =>
        sessionSummaries(reader, {
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          ...(options.identity !== undefined ? { identity: options.identity } : {}),
          ...(options.connection !== undefined ? { connection: options.connection } : {}),
          ...(options.decision !== undefined ? { decision: options.decision } : {}),
          ...(options.approval !== undefined ? { approval: options.approval } : {}),
        }),
      );
      out(options.json ? `${JSON.stringify(found, null, 2)}\n` : formatSessionList(found));
    }),
  );

  const show = sessions
    .command('show')
    .description('the story of one session: each request with its decision and status, approvals, terminal sessions')
    .argument('<session>', 'the session id, as `airlock sessions list` shows it')
    .option('--json', 'print the session as JSON');
  addConfigOptions(show);
  usageExitsTwo(show);
  show.action((sessionId: string, options: ShowOptions) =>
    guarded(err, async () => {
      const story = await withReader(options, (reader) => readSessionStory(reader, sessionId));
      if (!story) throw new AirlockError('AIRLOCK_INPUT_INVALID', `no recorded session "${sessionId}"; \`airlock sessions list\` shows the recorded ones`);
      out(options.json ? `${JSON.stringify(story, null, 2)}\n` : formatSessionStory(story));
    }),
  );
}

/** A usage error is an error of the command: exit 2. */
export function usageExitsTwo(command: Command): void {
  command.exitOverride((e) => {
    throw e.exitCode === 0 ? e : new CommanderError(2, e.code, e.message);
  });
}

/** guarded runs a command body; a failure is printed in plain words and exits 2. */
export async function guarded(err: (text: string) => void, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    err(`airlock: ${isAirlockError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}

/** withReader opens the configured ledger for reading, runs `fn`, and closes it. */
export async function withReader<T>(options: Pick<ConfigOptions, 'config' | 'data'>, fn: (reader: LedgerReader) => Promise<T>): Promise<T> {
  const config = configFromOptions({ config: options.config, data: options.data });
  const reader = await openLedgerReader(readerOptionsFromConfig(config));
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

/**
 * parseTimeFlag reads `--since`/`--until`: an RFC 3339 time (a date alone means its midnight
 * UTC) or a duration before `now` (`24h`, `7d`), returned in the ledger's time form.
 */
export function parseTimeFlag(flag: string, text: string, now: Date): string {
  const source = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(source)) {
    const ms = Date.parse(source);
    if (Number.isNaN(ms)) throw new AirlockError('AIRLOCK_INPUT_INVALID', `${flag} "${text}" is not a valid time; use RFC 3339 (2025-01-15T09:30:00Z) or a duration such as 24h`);
    return new Date(ms).toISOString();
  }
  try {
    return new Date(now.getTime() - parseDuration(source)).toISOString();
  } catch {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `${flag} "${text}" is neither a time (RFC 3339, e.g. 2025-01-15T09:30:00Z) nor a duration before now (e.g. 24h, 7d)`);
  }
}

/** One approval step in a session's story. */
export interface ApprovalStep {
  time: string;
  chain: string;
  seq: number;
  approvalId: string;
  /** requested, approved, denied, used, expired, revoked. */
  step: string;
  by?: string;
  reason?: string;
  /** The request a grant let through (`used`). */
  requestId?: string;
}

/** Everything `sessions show` prints. */
export interface SessionStory {
  summary: SessionSummary;
  requests: RequestRow[];
  approvals: ApprovalStep[];
}

/** readSessionStory reads one session's requests and the steps of the approvals they met. */
export async function readSessionStory(reader: LedgerReader, sessionId: string): Promise<SessionStory | undefined> {
  const [summary] = await sessionSummaries(reader, { sessionId });
  if (!summary) return undefined;
  const requests: RequestRow[] = [];
  for await (const row of requestRows(reader, { sessionId })) requests.push(row);
  // Approvers act from their own sessions: their steps are found by approval id, from the session's start on.
  const ids = new Set(summary.approvals.map((a) => a.id));
  const approvals: ApprovalStep[] = [];
  if (ids.size > 0) {
    const types = ['approval.requested', 'approval.approved', 'approval.denied', 'approval.used', 'approval.expired', 'approval.revoked'];
    for await (const entry of reader.entries({ types, since: summary.firstTime })) {
      const id = entry.data?.approvalId;
      if (typeof id === 'string' && ids.has(id)) approvals.push(approvalStep(entry, id));
    }
  }
  return { summary, requests, approvals };
}

function approvalStep(entry: LedgerEntry, approvalId: string): ApprovalStep {
  const data = entry.data ?? {};
  const step: ApprovalStep = { time: entry.time, chain: entry.chain, seq: entry.seq, approvalId, step: entry.type.replace(/^approval\./, '') };
  if (entry.identity?.subject !== undefined) step.by = entry.identity.subject;
  if (typeof data.reason === 'string') step.reason = data.reason;
  if (typeof data.requestId === 'string') step.requestId = data.requestId;
  if (entry.type === 'approval.approved' && data.state === 'pending') step.step = `approved (${String(data.approvals)} of ${String(data.required)})`;
  if (entry.type === 'approval.expired' && typeof data.was === 'string') step.step = data.was === 'approved' ? 'grant expired' : 'expired';
  return step;
}

/** formatSessionList renders one line per session. */
export function formatSessionList(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'no recorded sessions match\n';
  const lines = sessions.map((s) => {
    const d = s.decisions;
    const parts = [
      s.sessionId,
      s.subject ?? 'unknown',
      `${s.firstTime} .. ${s.lastTime}`,
      `${s.requests} ${s.requests === 1 ? 'request' : 'requests'} (allow ${d.allow}, deny ${d.deny}, review ${d.review}; refused ${s.refused})`,
      `on ${s.connections.join(',') || '-'}`,
    ];
    if (s.approvals.length > 0) parts.push(`approvals ${s.approvals.map((a) => `${a.id}:${a.status}`).join(',')}`);
    if (s.terminalSessions.length > 0) parts.push(`${s.terminalSessions.length} terminal ${s.terminalSessions.length === 1 ? 'session' : 'sessions'}`);
    return parts.map(escapeControls).join('  ');
  });
  return `${lines.join('\n')}\n`;
}

/** formatSessionStory renders a session chronologically for people. */
export function formatSessionStory(story: SessionStory): string {
  const s = story.summary;
  const head = [
    `session ${s.sessionId}`,
    `  who:      ${s.subject ?? 'unknown'}${s.identityKind ? ` (${s.identityKind})` : ''}${s.issuer ? ` from ${s.issuer}` : ''}${s.groups.length ? `, groups ${s.groups.join(',')}` : ''}`,
    `  when:     ${s.firstTime} .. ${s.lastTime}`,
    `  where:    ${s.connections.join(', ') || '-'}`,
    `  requests: ${s.requests} (allow ${s.decisions.allow}, deny ${s.decisions.deny}, review ${s.decisions.review}; forwarded ${s.forwarded}, refused ${s.refused})`,
    '',
  ];
  // Chronological; within one millisecond, in ledger order.
  const events: { time: string; chain: string; seq: number; lines: string[] }[] = [];
  for (const r of story.requests) events.push({ time: r.time, chain: r.chain, seq: r.seq, lines: requestLines(r) });
  story.approvals.forEach((a) =>
    events.push({
      time: a.time,
      chain: a.chain,
      seq: a.seq,
      lines: [`${a.time}  approval ${a.approvalId} ${a.step}${a.by ? ` by ${a.by}` : ''}${a.requestId ? ` (request ${a.requestId})` : ''}${a.reason ? `: ${a.reason}` : ''}`],
    }),
  );
  events.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : a.chain !== b.chain ? (a.chain < b.chain ? -1 : 1) : a.seq - b.seq));
  const body = events.flatMap((e) => e.lines);
  return `${[...head, ...body].map(escapeControls).join('\n')}\n`;
}

function requestLines(r: RequestRow): string[] {
  const what = [r.verb ?? r.method ?? '?', r.resource ? `${r.resource}${r.subresource ? `/${r.subresource}` : ''}` : (r.target ?? '')];
  const where = r.namespace !== undefined ? `${r.namespace}/${r.name ?? ''}` : (r.name ?? '');
  if (where) what.push(where);
  const decision = r.decision ? `${r.decision}${r.rules.length ? ` [${r.rules.join(', ')}]` : ''}` : 'undecided';
  const outcome = r.outcome === 'refused' ? `refused (${r.refusalReason ?? 'no reason recorded'})` : (r.outcome ?? '');
  const status = r.status !== undefined ? `status ${r.status}` : 'status unknown';
  const approval = r.approval !== 'none' ? `approval ${r.approval}${r.approvalId ? ` ${r.approvalId}` : ''}${r.approvedBy.length ? ` by ${r.approvedBy.join(',')}` : ''}` : '';
  const duration = r.durationMs !== undefined ? `${r.durationMs} ms` : '';
  const lines = [[r.time, what.join(' '), decision, outcome, status, approval, duration].filter(Boolean).join('  ')];
  if (r.command?.length) lines.push(`    command: ${r.command.join(' ')}`);
  if (isTerminalRow(r)) lines.push(`    terminal session: airlock replay ${r.id}`);
  return lines;
}

/** escapeControls keeps a hostile recorded value from rewriting the terminal. */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
