/**
 * Export formats of a request row: CSV (RFC 4180, safe to open in a spreadsheet), JSON lines,
 * and the Kubernetes `audit.k8s.io/v1` `Event` that SIEM pipelines already parse.
 * Pure: strings and objects in, strings and objects out.
 */
import type { LedgerEntry } from '../ledger/types.js';
import type { RequestRow } from './request-rows.js';

/** The CSV columns, in order: the header names and how each cell is read from a row. */
const columns: readonly [string, (row: RequestRow) => string | number | boolean | undefined][] = [
  ['time', (r) => r.time],
  ['id', (r) => r.id],
  ['chain', (r) => r.chain],
  ['seq', (r) => r.seq],
  ['hash', (r) => r.hash],
  ['session_id', (r) => r.sessionId],
  ['subject', (r) => r.subject],
  ['issuer', (r) => r.issuer],
  ['groups', (r) => r.groups.join(';')],
  ['identity_kind', (r) => r.identityKind],
  ['connection', (r) => r.connection],
  ['protocol', (r) => r.protocol],
  ['verb', (r) => r.verb],
  ['resource', (r) => r.resource],
  ['api_group', (r) => r.apiGroup],
  ['namespace', (r) => r.namespace],
  ['name', (r) => r.name],
  ['subresource', (r) => r.subresource],
  ['method', (r) => r.method],
  ['target', (r) => r.target],
  ['remote_address', (r) => r.remoteAddress],
  ['user_agent', (r) => r.userAgent],
  ['decision', (r) => r.decision],
  ['rules', (r) => r.rules.join(';')],
  ['decision_message', (r) => r.decisionMessage],
  ['outcome', (r) => r.outcome],
  ['refusal_reason', (r) => r.refusalReason],
  ['approval', (r) => r.approval],
  ['approval_id', (r) => r.approvalId],
  ['approved_by', (r) => r.approvedBy.join(';')],
  ['status', (r) => r.status],
  ['duration_ms', (r) => r.durationMs],
  ['imported', (r) => r.imported],
];

/** The CSV column names. */
export const CSV_COLUMNS: readonly string[] = columns.map(([name]) => name);

/** csvHeader is the first line of a CSV export, ending in CRLF. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** csvLine renders one row as a CSV record ending in CRLF (RFC 4180). */
export function csvLine(row: RequestRow): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const value = (columns[i] as (typeof columns)[number])[1](row);
    if (i > 0) line += ',';
    if (value !== undefined) line += csvCell(String(value));
  }
  return `${line}\r\n`;
}

// A spreadsheet runs a cell that starts with one of these as a formula.
const formulaStart = /^[=+\-@\t\r]/;
const needsQuotes = /[",\r\n]/;

/**
 * csvCell quotes one cell: a value a spreadsheet would read as a formula gets a leading
 * apostrophe (OWASP's guard against CSV injection), and a value holding a comma, quote or line
 * break is quoted with its quotes doubled.
 */
export function csvCell(value: string): string {
  const safe = formulaStart.test(value) ? `'${value}` : value;
  return needsQuotes.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** jsonLine renders one row as a JSON line. */
export function jsonLine(row: RequestRow): string {
  const { requestBody: _request, responseBody: _response, ...flat } = row;
  return `${JSON.stringify(flat)}\n`;
}

/** The subset of `audit.k8s.io/v1` `Event` airlock fills (level Metadata: no bodies). */
export interface K8sAuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Metadata';
  auditID: string;
  stage: 'ResponseComplete';
  requestURI: string;
  verb: string;
  user: { username: string; groups?: string[]; extra?: Record<string, string[]> };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { metadata: Record<string, never>; status?: 'Failure'; message?: string; reason?: string; code: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations: Record<string, string>;
}

/** Kubernetes StatusReason for the statuses airlock answers itself. */
const statusReasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/**
 * toK8sAuditEvent maps a row to an `audit.k8s.io/v1` `Event` at level Metadata, stage
 * ResponseComplete, with airlock's decision, approval and ledger position as annotations.
 * `entry` (the request entry) fills the request URI when the row has no target.
 */
export function toK8sAuditEvent(row: RequestRow, entry?: LedgerEntry): K8sAuditEvent {
  // The answer's time less the duration is the arrival; without an answer, the entry's time.
  const answered = row.responseTime !== undefined && row.durationMs !== undefined;
  const stageUs = Date.parse(answered ? (row.responseTime as string) : row.time) * 1000;
  const receivedUs = answered ? stageUs - Math.round((row.durationMs as number) * 1000) : stageUs;
  const requestURI = row.target ?? (typeof entry?.action?.path === 'string' ? entry.action.path : '');
  const event: K8sAuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: row.id,
    stage: 'ResponseComplete',
    requestURI,
    verb: row.verb ?? (row.method ?? 'unknown').toLowerCase(),
    user: userOf(row),
    requestReceivedTimestamp: microTime(receivedUs),
    stageTimestamp: microTime(stageUs),
    annotations: annotationsOf(row),
  };
  if (row.remoteAddress !== undefined) event.sourceIPs = [row.remoteAddress];
  if (row.userAgent !== undefined) event.userAgent = row.userAgent;
  if (row.resource !== undefined) {
    event.objectRef = { resource: row.resource };
    if (row.namespace !== undefined) event.objectRef.namespace = row.namespace;
    if (row.name !== undefined) event.objectRef.name = row.name;
    if (row.apiGroup !== undefined) event.objectRef.apiGroup = row.apiGroup;
    if (row.apiVersion !== undefined) event.objectRef.apiVersion = row.apiVersion;
    if (row.subresource !== undefined) event.objectRef.subresource = row.subresource;
  }
  if (row.status !== undefined) {
    event.responseStatus = { metadata: {}, code: row.status };
    if (row.status >= 400) {
      event.responseStatus.status = 'Failure';
      const message = row.refusalMessage ?? row.upstreamError;
      if (message !== undefined) event.responseStatus.message = message;
      const reason = statusReasons[row.status];
      if (reason !== undefined) event.responseStatus.reason = reason;
    }
  }
  return event;
}

function userOf(row: RequestRow): K8sAuditEvent['user'] {
  if (row.subject === undefined) return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
  const user: K8sAuditEvent['user'] = { username: row.subject, groups: [...row.groups] };
  const extra: Record<string, string[]> = {};
  if (row.issuer !== undefined) extra['airlock.dev/issuer'] = [row.issuer];
  if (row.identityKind !== undefined) extra['airlock.dev/kind'] = [row.identityKind];
  if (row.sessionId !== undefined) extra['airlock.dev/session'] = [row.sessionId];
  user.extra = extra;
  return user;
}

function annotationsOf(row: RequestRow): Record<string, string> {
  const a: Record<string, string> = {};
  if (row.decision !== undefined) {
    // Let through: allowed by policy, or held for review and approved.
    const allowed = row.decision === 'allow' || (row.decision === 'review' && row.approval === 'approved');
    a['authorization.k8s.io/decision'] = allowed ? 'allow' : 'forbid';
    const rules = row.rules.length > 0 ? `airlock rule ${row.rules.join(', ')}` : 'airlock policy default';
    a['authorization.k8s.io/reason'] = row.decisionMessage ? `${rules}: ${row.decisionMessage}` : rules;
    a['airlock.dev/decision'] = row.decision;
    if (row.rules.length > 0) a['airlock.dev/rules'] = row.rules.join(',');
  }
  if (row.connection !== undefined) a['airlock.dev/connection'] = row.connection;
  if (row.outcome !== undefined) a['airlock.dev/outcome'] = row.outcome;
  if (row.refusalReason !== undefined) a['airlock.dev/refusal-reason'] = row.refusalReason;
  if (row.approval !== 'none') a['airlock.dev/approval'] = row.approvalId !== undefined ? `${row.approval} ${row.approvalId}` : row.approval;
  if (row.approvedBy.length > 0) a['airlock.dev/approved-by'] = row.approvedBy.join(',');
  if (row.imported) a['airlock.dev/imported'] = 'true';
  a['airlock.dev/ledger'] = `${row.chain}#${row.seq}@${row.hash}`;
  return a;
}

/** microTime renders microseconds since the epoch as a Kubernetes MicroTime (RFC 3339, 6 digits). */
export function microTime(micros: number): string {
  const whole = Math.floor(micros / 1000);
  const rest = Math.round(micros - whole * 1000);
  const iso = new Date(whole).toISOString(); // 2025-01-15T09:30:00.123Z
  return `${iso.slice(0, -1)}${String(Math.min(rest, 999)).padStart(3, '0')}Z`;
}
