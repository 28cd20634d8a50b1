/**
 * The request read model for exports: one row per recorded request, joined with its upstream
 * answer, read from the ledger alone and streamed with bounded memory.
 *
 * A `request` entry says who asked for what, what policy decided and whether airlock forwarded
 * or refused it; the `response` entry that follows (linked by `data.requestId`) says what the
 * upstream answered and how long it took. A read's response lands in the same commit as its
 * request; a write's a few entries later; a watch's or a shell's when it ends. So rows are held
 * in a look-ahead window, in ledger order, and released from its head as soon as they are
 * complete. The window is bounded by a number of requests and by ledger time: a request still
 * open at either bound is released without its answer (status unknown) — after one targeted
 * look-up further on in the ledger when it is a long-running request (watch, logs, exec,
 * attach, port-forward, proxy), whose answer is recorded only when it ends.
 *
 * `imported` entries (history brought in from elsewhere) are rows of their own, flagged
 * `imported`, carrying whatever status they were recorded with.
 */
import type { EntryQuery, LedgerEntry, LedgerReader, Payload, StoredEntryRow } from '../ledger/types.js';

/** How the request stood with the approval book when it was recorded. */
export type ApprovalStatus =
  /** No approval was involved. */
  | 'none'
  /** The request waited for an approval that was not decided in time (or could not be opened): refused, retried by the client. */
  | 'pending'
  /** A grant let the request through. */
  | 'approved'
  /** An approver denied the approval it waited for. */
  | 'denied'
  /** The approval it named had expired, been revoked or used up: refused. */
  | 'lapsed';

export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['none', 'pending', 'approved', 'denied', 'lapsed'];

/** One recorded request, flat, as every export format renders it. Absent fields were not recorded. */
export interface RequestRow {
  chain: string;
  seq: number;
  hash: string;
  /** The request's entry id (Kubernetes `Audit-ID`). */
  id: string;
  time: string;
  sessionId?: string;
  subject?: string;
  issuer?: string;
  groups: string[];
  /** `agent` or `human`. */
  identityKind?: string;
  connection?: string;
  protocol?: string;
  verb?: string;
  resource?: string;
  apiGroup?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** exec/attach command argv, when recorded. */
  command?: string[];
  method?: string;
  /** The request target as the upstream saw it (path and query). */
  target?: string;
  userAgent?: string;
  remoteAddress?: string;
  /** `allow`, `deny` or `review`; absent when the request was refused before it was decided. */
  decision?: string;
  rules: string[];
  decisionMessage?: string;
  /** `forwarded` upstream or `refused` by airlock. */
  outcome?: string;
  /** Why airlock refused it (`policy-denied`, `approval-pending`, `unauthenticated`, …). */
  refusalReason?: string;
  refusalMessage?: string;
  approval: ApprovalStatus;
  approvalId?: string;
  approvedBy: string[];
  /** What the client was answered: the upstream status, or airlock's own for a refusal; absent when unknown. */
  status?: number;
  /** From arrival to the recorded answer, milliseconds. */
  durationMs?: number;
  /** When the answer was recorded. */
  responseTime?: string;
  /** The answer's entry id. */
  responseId?: string;
  /** The upstream error airlock saw, when the answer carries one. */
  upstreamError?: string;
  /** The request was an exec/attach recorded as a terminal session (replay it by `id`). */
  terminal?: true;
  imported: boolean;
  /** The masked bodies as stored (only with `bodies: true`). */
  requestBody?: Payload;
  responseBody?: Payload;
}

/** What to read: a slice of the ledger plus the window's bounds. */
export interface RowQuery extends Pick<EntryQuery, 'chain' | 'since' | 'until' | 'sessionId'> {
  /** Keep the masked request and response payloads on each row (for API replay). */
  bodies?: boolean;
  /** Requests held at most while waiting for their answers (default 10,000). */
  maxPending?: number;
  /** Ledger time a request waits at most for its answer (default 5 minutes). */
  maxPendingMs?: number;
  /** Called with the window's size after each entry read: lets a caller watch the memory bound. */
  onWindow?: (pending: number) => void;
}

export const DEFAULT_MAX_PENDING = 10_000;
export const DEFAULT_MAX_PENDING_MS = 5 * 60_000;
/** Entries walked at most when looking for long-running requests' late answers. */
const LATE_LOOKUP_LIMIT = 100_000;

const longRunningSubresources = new Set(['exec', 'attach', 'portforward', 'proxy', 'log']);

interface Pending {
  row: RequestRow;
  /** Ledger time of the request, ms. */
  at: number;
  done: boolean;
}

/**
 * requestRows yields one row per `request` and `imported` entry matching `query`, in ledger
 * order ((chain, seq)), each joined with its `response` entry when one is recorded.
 *
 * @example
 * for await (const row of requestRows(reader, { since: '2025-01-01T00:00:00.000Z' })) out.write(csvLine(row));
 */
export async function* requestRows(reader: LedgerReader, query: RowQuery = {}): AsyncGenerator<RequestRow> {
  const maxPending = Math.max(1, query.maxPending ?? DEFAULT_MAX_PENDING);
  const maxPendingMs = query.maxPendingMs ?? DEFAULT_MAX_PENDING_MS;
  const bodies = query.bodies === true;
  const window = new Map<string, Pending>();
  let chain: string | undefined;

  // Types and `until` are applied here rather than in the store: the store then walks its
  // primary key in order, page by page, instead of sorting every remaining match per page.
  const storeQuery: EntryQuery = {
    ...(query.chain !== undefined ? { chain: query.chain } : {}),
    ...(query.since !== undefined ? { since: query.since } : {}),
    ...(query.sessionId !== undefined ? { sessionId: query.sessionId } : {}),
  };
  const until = query.until;

  /** release yields complete rows from the head; with `force`, the head is released as it is. */
  async function* release(now: number, force: boolean): AsyncGenerator<RequestRow> {
    for (const [id, head] of window) {
      if (!head.done) {
        const over = force || window.size > maxPending || now - head.at > maxPendingMs;
        if (!over) return;
        if (isLongRunning(head.row)) await lookUpLate(reader, window, head, bodies);
      }
      window.delete(id);
      yield head.row;
    }
  }

  /** ready: the head of the window can go (checked before starting a release, the common case). */
  const ready = (now: number): boolean => {
    const head = window.values().next().value as Pending | undefined;
    return head !== undefined && (head.done || window.size > maxPending || now - head.at > maxPendingMs);
  };

  for await (const stored of walk(reader, storeQuery)) {
    const type = stored.type;
    if (type !== 'request' && type !== 'response' && type !== 'imported') continue;
    if (until !== undefined && stored.time >= until) continue;
    if (chain !== undefined && stored.chain !== chain) yield* release(Number.POSITIVE_INFINITY, true);
    chain = stored.chain;
    const now = Date.parse(stored.time);
    if (type === 'response') {
      const requestId = requestIdOf(stored.canonical);
      const pending = requestId !== undefined ? window.get(requestId) : undefined;
      if (pending && !pending.done) {
        join(pending.row, entryOf(stored), bodies);
        pending.done = true;
      }
    } else {
      const row = rowOf(entryOf(stored), bodies);
      // A refusal has no answer to wait for; neither has an imported entry.
      const done = row.imported || row.outcome === 'refused';
      window.set(row.id, { row, at: now, done });
    }
    query.onWindow?.(window.size);
    if (ready(now)) yield* release(now, false);
  }
  yield* release(Number.POSITIVE_INFINITY, true);
}

/** Rows asked of the store at a time. */
const PAGE = 1000;

/**
 * walk reads stored rows chain by chain, one page per store query, each page starting at its
 * own `fromSeq`: the store then seeks straight to the page's first row by (chain, seq), so
 * every page costs the same however far into the ledger it lies.
 */
async function* walk(reader: LedgerReader, query: EntryQuery, max = Number.POSITIVE_INFINITY): AsyncGenerator<StoredEntryRow> {
  const chains = query.chain !== undefined ? [query.chain] : await reader.chains();
  let left = max;
  for (const chain of chains) {
    let from = query.fromSeq ?? 1;
    while (left > 0) {
      const limit = Math.min(PAGE, left);
      let read = 0;
      let last = from - 1;
      for await (const row of reader.rows({ ...query, chain, fromSeq: from, limit })) {
        read++;
        last = row.seq;
        yield row;
      }
      left -= read;
      if (read < limit) break;
      from = last + 1;
    }
  }
}

/** entryOf rebuilds the entry from the canonical text it was hashed as. */
function entryOf(stored: StoredEntryRow): LedgerEntry {
  const entry = JSON.parse(stored.canonical) as LedgerEntry;
  entry.prevHash = stored.prevHash;
  entry.hash = stored.hash;
  return entry;
}

const REQUEST_ID = '"requestId":"';

/**
 * requestIdOf reads a response's `data.requestId` from its canonical text without parsing it
 * all: the canonical form writes the member exactly so, and a response holds one.
 */
function requestIdOf(canonical: string): string | undefined {
  const at = canonical.indexOf(REQUEST_ID);
  if (at < 0) return undefined;
  const start = at + REQUEST_ID.length;
  const end = canonical.indexOf('"', start);
  const id = end < 0 ? undefined : canonical.slice(start, end);
  if (id !== undefined && !id.includes('\\')) return id;
  // An id with escapes: read it properly.
  const requestId = (JSON.parse(canonical) as LedgerEntry).data?.requestId;
  return typeof requestId === 'string' ? requestId : undefined;
}

/** rowOf flattens a request (or imported) entry; the answer is joined later. */
export function rowOf(entry: LedgerEntry, bodies = false): RequestRow {
  const action = entry.action;
  const data = entry.data ?? {};
  const identity = entry.identity;
  const refused = data.outcome === 'refused';
  const approval = approvalOf(entry);
  const row: RequestRow = {
    chain: entry.chain,
    seq: entry.seq,
    hash: entry.hash,
    id: entry.id,
    time: entry.time,
    groups: identity?.groups ? [...identity.groups] : [],
    rules: entry.decision?.rules ? [...entry.decision.rules] : [],
    approval: approval.status,
    approvedBy: approval.approvedBy,
    imported: entry.type === 'imported',
  };
  if (entry.sessionId !== undefined) row.sessionId = entry.sessionId;
  if (identity) {
    row.subject = identity.subject;
    row.issuer = identity.issuer;
    row.identityKind = identity.kind;
  }
  const connection = entry.connection ?? action?.connection;
  if (connection !== undefined) row.connection = connection;
  const protocol = str(data.protocol) ?? action?.protocol;
  if (protocol !== undefined) row.protocol = protocol;
  if (action) {
    copyString(row, 'verb', action.verb);
    copyString(row, 'resource', action.resource);
    copyString(row, 'apiGroup', action.apiGroup);
    copyString(row, 'apiVersion', action.apiVersion);
    copyString(row, 'namespace', action.namespace);
    copyString(row, 'name', action.name);
    copyString(row, 'subresource', action.subresource);
    if (Array.isArray(action.command) && action.command.every((c) => typeof c === 'string')) row.command = [...action.command];
  }
  copyString(row, 'method', str(data.method) ?? (typeof action?.method === 'string' ? action.method : undefined));
  // An imported Kubernetes audit event keeps its request URI.
  copyString(row, 'target', str(data.target) ?? str(data.requestURI) ?? (typeof action?.path === 'string' ? action.path : undefined));
  copyString(row, 'userAgent', str(data.userAgent));
  copyString(row, 'remoteAddress', str(data.remoteAddress));
  if (entry.decision) {
    row.decision = entry.decision.effect;
    row.decisionMessage = entry.decision.message;
  }
  copyString(row, 'outcome', str(data.outcome));
  if (refused) {
    copyString(row, 'refusalReason', str(data.reason));
    copyString(row, 'refusalMessage', str(data.message));
  }
  if ((refused || row.imported) && typeof data.status === 'number') row.status = data.status;
  if (row.imported && typeof data.durationMs === 'number') row.durationMs = data.durationMs;
  if (approval.id !== undefined) row.approvalId = approval.id;
  if (bodies && entry.request) row.requestBody = entry.request;
  if (bodies && row.imported && entry.response) row.responseBody = entry.response;
  return row;
}

/** join copies the answer's facts onto its request's row. */
function join(row: RequestRow, response: LedgerEntry, bodies: boolean): void {
  const data = response.data ?? {};
  if (typeof data.status === 'number') row.status = data.status;
  if (typeof data.durationMs === 'number') row.durationMs = data.durationMs;
  row.responseTime = response.time;
  row.responseId = response.id;
  const error = str(data.error);
  if (error !== undefined) row.upstreamError = error;
  if (data.terminal === true) row.terminal = true;
  if (bodies && response.response) row.responseBody = response.response;
}

function approvalOf(entry: LedgerEntry): { status: ApprovalStatus; id?: string; approvedBy: string[] } {
  const data = entry.data ?? {};
  const approval = (typeof data.approval === 'object' && data.approval !== null ? data.approval : {}) as { id?: unknown; grant?: unknown; approvedBy?: unknown };
  const id = str(approval.id) ?? (typeof data.approvalId === 'string' ? data.approvalId : undefined);
  const approvedBy = Array.isArray(approval.approvedBy) ? approval.approvedBy.filter((s): s is string => typeof s === 'string') : [];
  const base = { ...(id !== undefined ? { id } : {}), approvedBy };
  switch (data.reason) {
    case 'approval-denied':
      return { status: 'denied', ...base };
    case 'approval-pending':
      return { status: 'pending', ...base };
    case 'approval-required':
      return { status: 'lapsed', ...base };
  }
  if (approval.grant !== undefined || approvedBy.length > 0) return { status: 'approved', ...base };
  if (id !== undefined || entry.decision?.effect === 'review') return { status: 'pending', ...base };
  return { status: 'none', ...base };
}

/** A request whose answer is recorded only when it ends (a watch, a followed log, a shell, a tunnel). */
export function isLongRunning(row: RequestRow): boolean {
  return row.verb === 'watch' || (row.subresource !== undefined && longRunningSubresources.has(row.subresource)) || /[?&]watch=(1|true)(&|$)/.test(row.target ?? '');
}

/**
 * lookUpLate searches the answers of long-running requests that outlived the window: it walks
 * the chain forward from the window's head, a bounded number of entries, and joins the answer
 * of every long-running request still waiting in the window that it meets, stopping once the
 * head has its answer. Stored rows are matched on their canonical text before anything is
 * parsed, so the walk costs little per entry.
 */
async function lookUpLate(reader: LedgerReader, window: Map<string, Pending>, head: Pending, bodies: boolean): Promise<void> {
  const waiting = new Map<string, Pending>();
  for (const [id, p] of window) if (!p.done && isLongRunning(p.row)) waiting.set(id, p);
  const query: EntryQuery = { chain: head.row.chain, fromSeq: head.row.seq + 1 };
  for await (const stored of walk(reader, query, LATE_LOOKUP_LIMIT)) {
    if (stored.type !== 'response') continue;
    const requestId = requestIdOf(stored.canonical);
    const pending = requestId !== undefined ? waiting.get(requestId) : undefined;
    if (!pending) continue;
    join(pending.row, entryOf(stored), bodies);
    pending.done = true;
    waiting.delete(requestId as string);
    if (head.done) return;
  }
}

/** Filters for session summaries; times are RFC 3339 (since inclusive, until exclusive). */
export interface SessionFilter {
  /** Only this session (read through the ledger's session index). */
  sessionId?: string;
  since?: string;
  until?: string;
  chain?: string;
  /** The caller's subject, exactly. */
  identity?: string;
  connection?: string;
  /** Sessions with at least one request decided so. */
  decision?: 'allow' | 'deny' | 'review';
  /** Sessions with at least one request in this approval status; `none`: sessions without any approval. */
  approval?: ApprovalStatus;
}

/** A terminal session (exec, attach) inside an API session: replay it with `airlock replay ID`. */
export interface TerminalRef {
  id: string;
  time: string;
  subresource: string;
  namespace?: string;
  name?: string;
  command?: string[];
}

/** What one session did, in numbers. */
export interface SessionSummary {
  sessionId: string;
  firstTime: string;
  lastTime: string;
  subject?: string;
  issuer?: string;
  groups: string[];
  identityKind?: string;
  connections: string[];
  requests: number;
  decisions: { allow: number; deny: number; review: number };
  forwarded: number;
  refused: number;
  /** Each approval the session's requests met, with the last status a request saw. */
  approvals: { id: string; status: ApprovalStatus }[];
  terminalSessions: TerminalRef[];
}

/**
 * sessionSummaries groups the rows by session (requests without a session — refused before
 * authentication — belong to none) and returns the sessions that match `filter`, by first time.
 */
export async function sessionSummaries(reader: LedgerReader, filter: SessionFilter = {}): Promise<SessionSummary[]> {
  const sessions = new Map<string, SessionSummary & { statuses: Set<ApprovalStatus> }>();
  const query: RowQuery = {
    ...(filter.since !== undefined ? { since: filter.since } : {}),
    ...(filter.until !== undefined ? { until: filter.until } : {}),
    ...(filter.chain !== undefined ? { chain: filter.chain } : {}),
    ...(filter.sessionId !== undefined ? { sessionId: filter.sessionId } : {}),
  };
  for await (const row of requestRows(reader, query)) {
    if (row.sessionId === undefined) continue;
    let s = sessions.get(row.sessionId);
    if (!s) {
      s = {
        sessionId: row.sessionId,
        firstTime: row.time,
        lastTime: row.time,
        groups: row.groups,
        connections: [],
        requests: 0,
        decisions: { allow: 0, deny: 0, review: 0 },
        forwarded: 0,
        refused: 0,
        approvals: [],
        terminalSessions: [],
        statuses: new Set(),
      };
      if (row.subject !== undefined) s.subject = row.subject;
      if (row.issuer !== undefined) s.issuer = row.issuer;
      if (row.identityKind !== undefined) s.identityKind = row.identityKind;
      sessions.set(row.sessionId, s);
    }
    addRow(s, row);
  }
  const out: SessionSummary[] = [];
  for (const { statuses, ...s } of sessions.values()) {
    if (filter.identity !== undefined && s.subject !== filter.identity) continue;
    if (filter.connection !== undefined && !s.connections.includes(filter.connection)) continue;
    if (filter.decision !== undefined && s.decisions[filter.decision] === 0) continue;
    if (filter.approval !== undefined) {
      const has = filter.approval === 'none' ? s.approvals.length === 0 && !statuses.has('pending') : statuses.has(filter.approval);
      if (!has) continue;
    }
    out.push(s);
  }
  return out.sort((a, b) => (a.firstTime < b.firstTime ? -1 : a.firstTime > b.firstTime ? 1 : 0));
}

function addRow(s: SessionSummary & { statuses: Set<ApprovalStatus> }, row: RequestRow): void {
  s.requests++;
  if (row.time < s.firstTime) s.firstTime = row.time;
  if (row.time > s.lastTime) s.lastTime = row.time;
  if (row.connection !== undefined && !s.connections.includes(row.connection)) s.connections.push(row.connection);
  if (row.decision === 'allow' || row.decision === 'deny' || row.decision === 'review') s.decisions[row.decision]++;
  if (row.outcome === 'forwarded') s.forwarded++;
  else if (row.outcome === 'refused') s.refused++;
  s.statuses.add(row.approval);
  if (row.approvalId !== undefined) {
    const known = s.approvals.find((a) => a.id === row.approvalId);
    if (known) known.status = row.approval;
    else s.approvals.push({ id: row.approvalId, status: row.approval });
  }
  if (isTerminalRow(row)) {
    const ref: TerminalRef = { id: row.id, time: row.time, subresource: row.subresource ?? 'exec' };
    if (row.namespace !== undefined) ref.namespace = row.namespace;
    if (row.name !== undefined) ref.name = row.name;
    if (row.command !== undefined) ref.command = row.command;
    s.terminalSessions.push(ref);
  }
}

/** isTerminalRow: an exec or attach that was let through, so a terminal session may be recorded. */
export function isTerminalRow(row: RequestRow): boolean {
  return row.terminal === true || ((row.subresource === 'exec' || row.subresource === 'attach') && row.outcome === 'forwarded');
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function copyString<K extends keyof RequestRow>(row: RequestRow, key: K, value: unknown): void {
  if (typeof value === 'string') (row as unknown as Record<string, unknown>)[key] = value;
}
