/**
 * Importing existing Kubernetes audit logs (`audit.k8s.io/v1` and `v1beta1` `Event`s, one JSON
 * object a line as the log backend writes them, or an `EventList` as the webhook backend
 * posts it) into the ledger as `imported` entries, so the requests a cluster saw before
 * airlock stood in front of it appear in the same exports, marked as not witnessed by airlock.
 *
 * One entry per request (per `auditID`): the final stage (`ResponseComplete` or `Panic`) when
 * the input has it, else the latest earlier stage seen. Request and response bodies
 * (`requestObject`, `responseObject`) and annotations other than the authorizer's decision are
 * never read into an entry: they may hold Secret values. Files are read a line at a time;
 * memory grows with the number of distinct audit IDs, not with the size of the files.
 * docs/import.md describes the mapping field by field.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { AirlockError, isAirlockError } from '../errors.js';
import type { EntryInput, LedgerReader, RecordedDecision, RecordedIdentity } from '../ledger/index.js';
import type { PolicyRequest } from '../policy/request.js';

/** The audit API versions understood. */
export const AUDIT_API_VERSIONS = ['audit.k8s.io/v1', 'audit.k8s.io/v1beta1'] as const;

/** The issuer recorded on every imported identity: the subject was named by the cluster's audit log. */
export const IMPORT_ISSUER = 'kubernetes-audit';

/** Audit stages, earliest first. A request's last stage is `ResponseComplete` (or `Panic`). */
const STAGE_RANK: Record<string, number> = { RequestReceived: 0, ResponseStarted: 1, ResponseComplete: 2, Panic: 2 };

/** Requests waiting for their final stage, at most; the oldest is imported as it is when more arrive. */
export const DEFAULT_STAGE_WINDOW = 10_000;

/** Where an event came from: the file as named by the caller, and its line or its place in an EventList. */
export interface AuditLocation {
  file: string;
  /** 1-based line of a JSON-lines file (also set for an EventList that sits on one line). */
  line?: number;
  /** 1-based position in an EventList (or a JSON array of events). */
  item?: number;
}

/** A line (or list item) that could not be imported, and why. */
export interface BadLine extends AuditLocation {
  reason: string;
}

/** The fields of an audit Event the import reads; everything else (bodies included) is ignored. */
export interface AuditEvent {
  apiVersion: string;
  level?: string;
  auditID: string;
  stage: string;
  requestURI: string;
  verb: string;
  user: { username: string; groups: string[] };
  impersonatedUser?: { username: string; groups?: string[] };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { code?: number };
  /** RFC 3339 UTC with milliseconds, as the ledger keeps time. */
  time: string;
  /** requestReceivedTimestamp as written (Kubernetes writes microseconds). */
  receivedTimestamp: string;
  stageTimestamp?: string;
  decision?: { value: string; reason?: string };
}

/** formatLocation renders `file:line`, `file item N` or `file:line item N`. */
export function formatLocation(loc: AuditLocation): string {
  return `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ''}${loc.item !== undefined ? ` item ${loc.item}` : ''}`;
}

/**
 * readAuditEvent checks one decoded JSON value as an audit Event and keeps only what the
 * import uses. `listApiVersion` is the apiVersion of the EventList holding it (list items
 * usually carry no kind or apiVersion of their own). Returns the reason when it cannot be
 * imported.
 */
export function readAuditEvent(value: unknown, listApiVersion?: string): AuditEvent | { error: string } {
  if (!isObject(value)) return { error: 'not a JSON object' };
  if (value.kind !== undefined && value.kind !== 'Event') return { error: `kind ${describe(value.kind)} is not an audit Event` };
  const apiVersion = value.apiVersion ?? listApiVersion ?? AUDIT_API_VERSIONS[0];
  if (!(AUDIT_API_VERSIONS as readonly unknown[]).includes(apiVersion)) {
    return { error: `apiVersion ${describe(apiVersion)} is not ${AUDIT_API_VERSIONS.join(' or ')}` };
  }
  const auditID = value.auditID;
  if (typeof auditID !== 'string' || auditID === '') return { error: 'no auditID' };
  const stage = value.stage;
  if (typeof stage !== 'string' || STAGE_RANK[stage] === undefined) return { error: `stage ${describe(stage)} is not one of ${Object.keys(STAGE_RANK).join(', ')}` };
  if (typeof value.verb !== 'string' || value.verb === '') return { error: 'no verb' };
  if (typeof value.requestURI !== 'string') return { error: 'no requestURI' };
  // v1beta1 also had `timestamp`, the same instant under its older name.
  const received = value.requestReceivedTimestamp ?? (apiVersion === 'audit.k8s.io/v1beta1' ? value.timestamp : undefined);
  if (received === undefined) return { error: 'no requestReceivedTimestamp' };
  const time = normalizeTime(received);
  if (time === undefined) return { error: `requestReceivedTimestamp ${describe(received)} is not an RFC 3339 time` };
  const user = readUser(value.user);
  if (user === undefined) return { error: 'no user.username' };

  const event: AuditEvent = { apiVersion: apiVersion as string, auditID, stage, requestURI: value.requestURI, verb: value.verb, user: { username: user.username, groups: user.groups ?? [] }, time, receivedTimestamp: received as string };
  if (typeof value.level === 'string') event.level = value.level;
  const impersonated = readUser(value.impersonatedUser);
  if (impersonated) event.impersonatedUser = impersonated;
  if (Array.isArray(value.sourceIPs)) event.sourceIPs = value.sourceIPs.filter((ip): ip is string => typeof ip === 'string');
  if (typeof value.userAgent === 'string') event.userAgent = value.userAgent;
  if (isObject(value.objectRef)) {
    const ref: NonNullable<AuditEvent['objectRef']> = {};
    for (const key of ['resource', 'namespace', 'name', 'apiGroup', 'apiVersion', 'subresource'] as const) {
      const v = value.objectRef[key];
      if (typeof v === 'string') ref[key] = v;
    }
    event.objectRef = ref;
  }
  if (isObject(value.responseStatus) && Number.isSafeInteger(value.responseStatus.code)) event.responseStatus = { code: value.responseStatus.code as number };
  if (typeof value.stageTimestamp === 'string') event.stageTimestamp = value.stageTimestamp;
  if (isObject(value.annotations)) {
    const decision = value.annotations['authorization.k8s.io/decision'];
    const reason = value.annotations['authorization.k8s.io/reason'];
    if (typeof decision === 'string') event.decision = { value: decision, ...(typeof reason === 'string' && reason !== '' ? { reason } : {}) };
  }
  return event;
}

/** What every imported entry shares: the connection it is filed under. */
export interface MapContext {
  connection: string;
}

/**
 * toImportedEntry maps an audit event onto an `imported` ledger entry: the original receive
 * time, the cluster's user as the identity, objectRef as the action, the authorizer's decision
 * when the event carries it, and the request's metadata under `data`.
 */
export function toImportedEntry(event: AuditEvent, loc: AuditLocation, context: MapContext): EntryInput {
  const [path = '', query = ''] = splitOnce(event.requestURI, '?');
  const identity: RecordedIdentity = {
    subject: event.user.username,
    groups: event.user.groups,
    issuer: IMPORT_ISSUER,
    kind: event.user.username.startsWith('system:serviceaccount:') ? 'agent' : 'human',
    tokenId: '',
    via: 'import',
  };
  const action: PolicyRequest = { protocol: 'kubernetes', connection: context.connection, verb: event.verb, path };
  const ref = event.objectRef;
  if (ref?.resource) {
    action.resource = ref.resource;
    action.apiGroup = ref.apiGroup ?? '';
    if (ref.apiVersion) action.apiVersion = ref.apiVersion;
    if (ref.namespace) action.namespace = ref.namespace;
    if (ref.name) action.name = ref.name;
    if (ref.subresource) action.subresource = ref.subresource;
    action.dryRun = new URLSearchParams(query).getAll('dryRun').some((v) => v !== '');
  }
  const data: Record<string, unknown> = { witnessed: false, source: basename(loc.file) };
  if (loc.line !== undefined) data.line = loc.line;
  if (loc.item !== undefined) data.item = loc.item;
  data.auditID = event.auditID;
  data.stage = event.stage;
  if (event.level !== undefined) data.level = event.level;
  data.requestURI = event.requestURI;
  if (event.sourceIPs !== undefined) data.sourceIPs = event.sourceIPs;
  // The last source IP is the peer the apiserver saw, as a gateway entry's remoteAddress is.
  if (event.sourceIPs?.length) data.remoteAddress = event.sourceIPs[event.sourceIPs.length - 1];
  if (event.userAgent !== undefined) data.userAgent = event.userAgent;
  if (event.responseStatus?.code !== undefined) data.status = event.responseStatus.code;
  if (event.impersonatedUser !== undefined) data.impersonatedUser = event.impersonatedUser;
  if (event.stageTimestamp !== undefined) data.stageTimestamp = event.stageTimestamp;
  const duration = STAGE_RANK[event.stage] === 2 ? durationMs(event.receivedTimestamp, event.stageTimestamp) : undefined;
  if (duration !== undefined) data.durationMs = duration;
  const entry: EntryInput = { type: 'imported', time: event.time, identity, connection: context.connection, action, data };
  const decision = toDecision(event.decision);
  if (decision) entry.decision = decision;
  return entry;
}

function toDecision(annotation: AuditEvent['decision']): RecordedDecision | undefined {
  if (!annotation) return undefined;
  const effect = annotation.value === 'allow' ? 'allow' : annotation.value === 'forbid' ? 'deny' : undefined;
  if (!effect) return undefined;
  return { effect, rules: [], message: annotation.reason ?? `the cluster's authorizer answered ${annotation.value}` };
}

/** One readable event and where it was, or a bad line and why. */
export type AuditRead = { loc: AuditLocation; event: AuditEvent } | { loc: AuditLocation; error: string };

/**
 * readAuditFile yields the events of one file in order: JSON lines (each line an Event, or an
 * EventList on one line), or one JSON document spanning lines (an EventList, an Event, or an
 * array of Events). Blank lines are skipped; anything else that is not an event is yielded as
 * an error with its line. Throws only when the file cannot be read at all.
 */
export async function* readAuditFile(file: string): AsyncGenerator<AuditRead> {
  let first = true;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      const text = first ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        // A first line that does not parse on its own may open a document spread over lines.
        if (first && /^\s*[[{]/.test(text)) {
          const document = await readDocument(file);
          if (document !== undefined) {
            yield* fromValue(document, { file });
            return;
          }
        }
        first = false;
        yield { loc: { file, line: lineNo }, error: jsonErrorReason(err, text) };
        continue;
      }
      first = false;
      yield* fromValue(value, { file, line: lineNo });
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Documents spread over lines are parsed whole; past this size a file is read as JSON lines only. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

async function readDocument(file: string): Promise<unknown> {
  try {
    if ((await stat(file)).size > MAX_DOCUMENT_BYTES) return undefined;
    return JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, '')) as unknown;
  } catch {
    return undefined;
  }
}

function* fromValue(value: unknown, loc: AuditLocation): Generator<AuditRead> {
  const list = Array.isArray(value) ? { items: value, apiVersion: undefined } : isObject(value) && value.kind === 'EventList' ? value : undefined;
  if (!list) {
    const event = readAuditEvent(value);
    yield 'error' in event ? { loc, error: event.error } : { loc, event };
    return;
  }
  if (list.apiVersion !== undefined && !(AUDIT_API_VERSIONS as readonly unknown[]).includes(list.apiVersion)) {
    yield { loc, error: `EventList apiVersion ${describe(list.apiVersion)} is not ${AUDIT_API_VERSIONS.join(' or ')}` };
    return;
  }
  if (!Array.isArray(list.items)) {
    yield { loc, error: 'EventList without items' };
    return;
  }
  for (let i = 0; i < list.items.length; i++) {
    const itemLoc = { ...loc, item: i + 1 };
    const event = readAuditEvent(list.items[i], list.apiVersion as string | undefined);
    yield 'error' in event ? { loc: itemLoc, error: event.error } : { loc: itemLoc, event };
  }
}

interface Located {
  loc: AuditLocation;
  event: AuditEvent;
}

/**
 * StageWindow folds the stages of one request into its last: a final stage is released at
 * once (and its earlier stages dropped); an earlier stage waits for a later one. At most
 * `limit` requests wait; past that the longest-waiting one is released as it is, and so are
 * all still waiting at `flush`.
 */
export class StageWindow {
  private readonly waiting = new Map<string, Located>();
  /** Earlier stages replaced by a later stage of the same request. */
  folded = 0;

  constructor(private readonly limit = DEFAULT_STAGE_WINDOW) {}

  /** add returns the events to import now (zero, one or two). */
  add(item: Located): Located[] {
    const id = item.event.auditID;
    const waiting = this.waiting.get(id);
    const rank = STAGE_RANK[item.event.stage] ?? 0;
    if (waiting) {
      this.folded++;
      this.waiting.delete(id);
      // Out of order: an earlier stage after a later one is the one dropped.
      if ((STAGE_RANK[waiting.event.stage] ?? 0) > rank) item = waiting;
    }
    if ((STAGE_RANK[item.event.stage] ?? 0) === 2) return [item];
    this.waiting.set(id, item);
    if (this.waiting.size <= this.limit) return [];
    const [oldestId, oldest] = this.waiting.entries().next().value as [string, Located];
    this.waiting.delete(oldestId);
    return [oldest];
  }

  /** flush returns every request still waiting, oldest first, and empties the window. */
  flush(): Located[] {
    const rest = [...this.waiting.values()];
    this.waiting.clear();
    return rest;
  }
}

/** knownAuditIds collects the audit IDs of every `imported` entry already in the ledger, in all chains. */
export async function knownAuditIds(reader: LedgerReader): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const entry of reader.entries({ types: ['imported'] })) {
    const id = entry.data?.auditID;
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

export interface K8sAuditImportOptions {
  /** Connection the entries are filed under (default `imported`). */
  connection?: string;
  /** Writes one entry durably. Absent: a dry run that counts what would be imported. */
  append?: (input: EntryInput) => Promise<unknown>;
  /** Audit IDs already imported (see knownAuditIds); grows with the IDs imported by this run. */
  known?: Set<string>;
  /** Refuse the whole import, writing nothing, when any line is bad. */
  strict?: boolean;
  /** Requests that may wait for their final stage (default 10 000). */
  window?: number;
  /** Appends handed to the ledger together, so they share commits (default 256). */
  batch?: number;
  /** Bad lines kept in the report (all are counted; default 20). */
  listBad?: number;
}

export interface K8sAuditImportReport {
  files: number;
  /** Events read without error, every stage counted. */
  events: number;
  /** Entries written (or, in a dry run, that would be). */
  imported: number;
  /** Requests already in the ledger or already imported earlier in this run. */
  duplicates: number;
  /** Earlier stages folded into a later stage of the same request. */
  earlierStages: number;
  badLines: number;
  /** The first bad lines, in input order. */
  bad: BadLine[];
  dryRun: boolean;
  /** `strict` found bad lines, so nothing was written. */
  refused: boolean;
}

/**
 * importK8sAudit reads `files` in order (give rotated logs oldest first: a request's stages
 * may straddle two files) and appends one `imported` entry per request not imported before.
 * Bad lines are counted and listed, never fatal, unless `strict`, which checks every file
 * first and writes nothing when any line is bad. Throws AIRLOCK_INPUT_INVALID when a file
 * cannot be read, and the ledger's error (naming how far the import got) when it cannot write.
 */
export async function importK8sAudit(files: string[], options: K8sAuditImportOptions = {}): Promise<K8sAuditImportReport> {
  const connection = options.connection ?? 'imported';
  if (connection === '') throw new AirlockError('AIRLOCK_INPUT_INVALID', 'the connection name must not be empty');
  const listBad = options.listBad ?? 20;
  const batchSize = Math.max(1, options.batch ?? 256);
  const known = options.known ?? new Set<string>();
  const report: K8sAuditImportReport = {
    files: files.length,
    events: 0,
    imported: 0,
    duplicates: 0,
    earlierStages: 0,
    badLines: 0,
    bad: [],
    dryRun: options.append === undefined,
    refused: false,
  };
  const badLine = (loc: AuditLocation, reason: string) => {
    report.badLines++;
    if (report.bad.length < listBad) report.bad.push({ ...loc, reason });
  };
  for (const file of files) await checkReadable(file);

  if (options.strict) {
    for (const file of files) for await (const read of readAuditFile(file)) if ('error' in read) badLine(read.loc, read.error);
    if (report.badLines > 0) {
      report.refused = true;
      return report;
    }
  }

  const window = new StageWindow(options.window);
  let batch: EntryInput[] = [];
  let batchLocs: AuditLocation[] = [];
  const flushBatch = async () => {
    if (batch.length === 0) return;
    const inputs = batch;
    const locs = batchLocs;
    batch = [];
    batchLocs = [];
    const append = options.append;
    if (!append) {
      report.imported += inputs.length;
      return;
    }
    // Appends made together share a commit; the ledger keeps their order.
    const results = await Promise.allSettled(inputs.map((input) => append(input)));
    let fatal: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') report.imported++;
      else if (isAirlockError(result.reason) && result.reason.code === 'AIRLOCK_INPUT_INVALID') {
        // The ledger refused this one entry (it never should); the rest stand.
        badLine(locs[i] as AuditLocation, `the ledger refused it: ${result.reason.message}`);
        known.delete(inputs[i]?.data?.auditID as string);
      } else fatal ??= result.reason;
    });
    if (fatal !== undefined) {
      const message = fatal instanceof Error ? fatal.message : String(fatal);
      const code = isAirlockError(fatal) ? fatal.code : 'AIRLOCK_LEDGER_UNAVAILABLE';
      throw new AirlockError(code, `the import stopped after ${report.imported} entries: ${message}; run it again to import the rest (requests already imported are skipped)`);
    }
  };
  const emit = async (items: Located[]) => {
    for (const { event, loc } of items) {
      if (known.has(event.auditID)) {
        report.duplicates++;
        continue;
      }
      known.add(event.auditID);
      batch.push(toImportedEntry(event, loc, { connection }));
      batchLocs.push(loc);
      if (batch.length >= batchSize) await flushBatch();
    }
  };

  for (const file of files) {
    for await (const read of readAuditFile(file)) {
      if ('error' in read) {
        badLine(read.loc, read.error);
        continue;
      }
      report.events++;
      await emit(window.add(read));
    }
  }
  await emit(window.flush());
  await flushBatch();
  report.earlierStages = window.folded;
  return report;
}

async function checkReadable(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (info.isDirectory()) throw new AirlockError('AIRLOCK_INPUT_INVALID', `cannot read ${file}: it is a directory; name the audit log files`);
}

function readUser(value: unknown): { username: string; groups?: string[] } | undefined {
  if (!isObject(value) || typeof value.username !== 'string' || value.username === '') return undefined;
  const user: { username: string; groups?: string[] } = { username: value.username };
  if (Array.isArray(value.groups)) user.groups = value.groups.filter((g): g is string => typeof g === 'string');
  return user;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * normalizeTime turns an RFC 3339 time (Kubernetes writes microseconds) into the ledger's
 * form, UTC with milliseconds. Digits beyond the millisecond are cut, not rounded, so an
 * event never moves into the next millisecond.
 */
export function normalizeTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}.${((m[3] ?? '') + '000').slice(0, 3)}${(m[4] as string).toUpperCase()}`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * jsonErrorReason says where a line stops being JSON without quoting it: the engine's message
 * can repeat part of the line, and a line of an audit log may hold a request body.
 */
function jsonErrorReason(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (/end of JSON input/.test(message) || (position !== undefined && Number(position) >= text.trimEnd().length)) {
    return `not JSON: it ends early (truncated after ${text.length} characters?)`;
  }
  if (position !== undefined) return `not JSON: unexpected text at column ${Number(position) + 1}`;
  return 'not JSON: unexpected character';
}

/**
 * durationMs is the time from receiving a request to its final stage, in milliseconds with
 * the microseconds Kubernetes writes. The whole milliseconds and the fractions are
 * subtracted apart, so epoch-sized numbers lose no precision.
 */
function durationMs(from: string, to: string | undefined): number | undefined {
  const a = RFC3339.exec(from);
  const b = to === undefined ? null : RFC3339.exec(to);
  const msA = normalizeTime(from);
  const msB = to === undefined ? undefined : normalizeTime(to);
  if (!a || !b || msA === undefined || msB === undefined) return undefined;
  const sub = (m: RegExpExecArray) => Number(`0.${((m[3] ?? '') + '000000').slice(3, 6)}`);
  const ms = Date.parse(msB) - Date.parse(msA) + sub(b) - sub(a);
  return ms < 0 ? undefined : Math.round(ms * 1000) / 1000;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
