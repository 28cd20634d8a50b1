/**
 * What-if: replay recorded requests through a draft policy and report every request whose
 * decision would change. Pure, like the engine itself: entries in, a report out, no I/O.
 * The caller reads the ledger (and any request body kept in the blob store) and hands the
 * entries over one by one; `airlock policy test` is that caller.
 *
 * A recorded request is re-decided with the identity and the action it was recorded with,
 * and, for a Kubernetes create or update, the recorded (masked) request body as `object`.
 * The recorded effect is the entry's `decision.effect`; a request whose effect would differ is
 * a change. Nothing is deduplicated: every recorded request counts once.
 */
import type { CompiledPolicy } from './compiled-policy.js';
import type { Effect } from './decision.js';
import { evaluatePolicy, type PolicyIdentity } from './evaluate.js';
import type { PolicyRequest } from './request.js';

/**
 * One ledger entry as the replay reads it (the fields of docs/ledger.md it needs); a ledger
 * entry fits as it is.
 */
export interface RecordedRequest {
  id: string;
  time: string;
  type: string;
  chain?: string;
  seq?: number;
  connection?: string;
  identity?: PolicyIdentity;
  action?: PolicyRequest;
  decision?: { effect: Effect; rules: string[] };
  /** The masked request body as stored: inline text, or a reference into the blob store. */
  request?: { contentType?: string; inline?: string; blob?: boolean; sha256: string; fullSha256?: string };
  data?: Record<string, unknown>;
  /**
   * The request body's text when the ledger keeps it in the blob store (`request.blob`):
   * the caller reads it (see `needsRequestBody`), since this module does no I/O.
   */
  requestBody?: string;
}

/** Why a recorded request cannot be re-decided. */
export type UnreplayableReason =
  /** Refused before the caller was authenticated: there is no identity to decide for. */
  | 'no-identity'
  /** Refused before the request was understood (a bad path, say): there is no action. */
  | 'no-action'
  /** Refused before policy decided (an unreadable body, a failed dry-run): nothing to compare with. */
  | 'no-decision';

/**
 * Why the object a rule would see could not be rebuilt from the record: the draft's rules
 * that read `object` then see an empty map, as the gateway's do for requests without one.
 */
export type ObjectUnknownReason =
  /** A patch is recorded as written; the object it produced (a dry-run's answer) is not. */
  | 'patch'
  /** The body was recorded truncated. */
  | 'body-truncated'
  /** The body is in the blob store and was not supplied, or the entry has no body. */
  | 'body-missing'
  /** The recorded body is not JSON. */
  | 'body-unreadable';

/** A decision in brief: its effect and the rules that produced it. */
export interface DecisionSummary {
  effect: Effect;
  rules: string[];
}

/** One recorded request the draft would decide differently. */
export interface WhatIfChange {
  entryId: string;
  /** `chain#seq` when the entry came from a ledger. */
  position?: string;
  time: string;
  subject: string;
  connection?: string;
  /** `verb resource/name in namespace on connection`, for people. */
  summary: string;
  /** What happened to the request: `forwarded` or `refused` (with the status), as recorded. */
  outcome?: string;
  recorded: DecisionSummary;
  draft: DecisionSummary & { message: string; defaulted: boolean; errors?: { rule: string; error: string }[] };
  /** Set when the draft reads `object` and the object could not be rebuilt (see ObjectUnknownReason). */
  objectUnknown?: ObjectUnknownReason;
}

/** A count of changes from one effect to another. */
export interface Transition {
  from: Effect;
  to: Effect;
  count: number;
}

export interface WhatIfReport {
  /** Recorded `request` entries seen (replayed + unreplayable). */
  requests: number;
  /** Requests re-decided with the draft. */
  replayed: number;
  /** Replayed requests whose effect stays the same. */
  unchanged: number;
  /** Of the unchanged: the same effect, but by different rules. */
  sameEffectOtherRules: number;
  /** Replayed requests whose effect would change. */
  changed: number;
  /** Changes by transition, the most frequent first. */
  transitions: Transition[];
  /** Requests that could not be replayed, by reason. */
  unreplayable: { total: number } & Record<UnreplayableReason, number>;
  /**
   * Replayed writes whose object could not be rebuilt while the draft reads `object`: their
   * draft decision may differ from what the gateway would decide with the real object.
   */
  objectUnknown: number;
  /** Every change, newest first. */
  changes: WhatIfChange[];
}

/** Only these verbs carry an object policy sees (docs/policy.md, "object"). */
const objectVerbs = new Set(['create', 'update', 'patch']);

/**
 * WhatIf replays entries one at a time, so a caller can stream a large ledger through it;
 * only the changes are kept. `report()` may be called at any point.
 *
 * @example
 * const w = new WhatIf(draft);
 * for await (const entry of reader.entries({ types: ['request'] })) w.add(entry);
 * const report = w.report();
 */
export class WhatIf {
  private readonly readsObject: boolean;
  private requests = 0;
  private replayed = 0;
  private unchanged = 0;
  private sameEffectOtherRules = 0;
  private objectUnknown = 0;
  private readonly unreplayable: Record<UnreplayableReason, number> = { 'no-identity': 0, 'no-action': 0, 'no-decision': 0 };
  private readonly transitions = new Map<string, Transition>();
  private readonly changes: WhatIfChange[] = [];

  constructor(private readonly policy: CompiledPolicy) {
    this.readsObject = policyReadsObject(policy);
  }

  /** add replays one entry; entries of other types than `request` are ignored. */
  add(entry: RecordedRequest): void {
    if (entry.type !== 'request') return;
    this.requests++;
    const { identity, action, decision } = entry;
    if (!identity) return void this.unreplayable['no-identity']++;
    if (!action) return void this.unreplayable['no-action']++;
    if (!decision) return void this.unreplayable['no-decision']++;
    this.replayed++;

    const rebuilt = recordedObject(entry);
    const draft = evaluatePolicy(this.policy, { request: action, identity, object: 'object' in rebuilt ? rebuilt.object : undefined });
    const unknown = this.readsObject && 'unknown' in rebuilt ? rebuilt.unknown : undefined;
    if (unknown) this.objectUnknown++;

    if (draft.effect === decision.effect) {
      this.unchanged++;
      if (!sameRules(draft.rules, decision.rules)) this.sameEffectOtherRules++;
      return;
    }
    const key = `${decision.effect}>${draft.effect}`;
    const transition = this.transitions.get(key);
    if (transition) transition.count++;
    else this.transitions.set(key, { from: decision.effect, to: draft.effect, count: 1 });

    const outcome = typeof entry.data?.outcome === 'string' ? entry.data.outcome : undefined;
    const status = typeof entry.data?.status === 'number' ? entry.data.status : undefined;
    this.changes.push({
      entryId: entry.id,
      ...(entry.chain !== undefined && entry.seq !== undefined ? { position: `${entry.chain}#${entry.seq}` } : {}),
      time: entry.time,
      subject: identity.subject,
      ...(entry.connection ?? action.connection ? { connection: entry.connection ?? action.connection } : {}),
      summary: summarizeAction(action),
      ...(outcome ? { outcome: outcome === 'refused' && status !== undefined ? `refused ${status}` : outcome } : {}),
      recorded: { effect: decision.effect, rules: [...decision.rules] },
      draft: {
        effect: draft.effect,
        rules: draft.rules,
        message: draft.message,
        defaulted: draft.defaulted,
        ...(draft.errors?.length ? { errors: draft.errors } : {}),
      },
      ...(unknown ? { objectUnknown: unknown } : {}),
    });
  }

  report(): WhatIfReport {
    const unreplayableTotal = this.unreplayable['no-identity'] + this.unreplayable['no-action'] + this.unreplayable['no-decision'];
    return {
      requests: this.requests,
      replayed: this.replayed,
      unchanged: this.unchanged,
      sameEffectOtherRules: this.sameEffectOtherRules,
      changed: this.changes.length,
      transitions: [...this.transitions.values()]
        .map((t) => ({ ...t }))
        .sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
      unreplayable: { total: unreplayableTotal, ...this.unreplayable },
      objectUnknown: this.objectUnknown,
      // Newest first; entries of one chain with the same millisecond keep ledger order reversed.
      changes: this.changes
        .map((c, i) => ({ c, i }))
        .sort((a, b) => (a.c.time < b.c.time ? 1 : a.c.time > b.c.time ? -1 : b.i - a.i))
        .map(({ c }) => c),
    };
  }
}

/** whatIf replays every entry through `policy` and reports what would change. */
export function whatIf(policy: CompiledPolicy, entries: Iterable<RecordedRequest>): WhatIfReport {
  const w = new WhatIf(policy);
  for (const entry of entries) w.add(entry);
  return w.report();
}

/**
 * needsRequestBody: the entry is a replayable write whose body the ledger keeps in the blob
 * store, so the caller should read it (by `request.sha256`) into `requestBody` before `add`.
 */
export function needsRequestBody(entry: RecordedRequest): boolean {
  return (
    entry.type === 'request' &&
    entry.request?.blob === true &&
    entry.requestBody === undefined &&
    carriesObject(entry.action) &&
    !isPatch(entry.request.contentType) &&
    entry.request.fullSha256 === undefined
  );
}

/** policyReadsObject: some rule mentions `object` (the gateway's own test for resolving patches). */
export function policyReadsObject(policy: CompiledPolicy): boolean {
  return policy.rules.some((r) => /\bobject\b/.test(r.match));
}

/**
 * recordedObject rebuilds the object policy saw for a recorded request: the JSON request body
 * of a Kubernetes create or update (a protobuf body is recorded as its JSON form). Requests
 * that carry no object give `{ object: undefined }`, which policy reads as an empty map.
 */
export function recordedObject(entry: RecordedRequest): { object: unknown } | { unknown: ObjectUnknownReason } {
  if (!carriesObject(entry.action)) return { object: undefined };
  const body = entry.request;
  if (!body) return { unknown: 'body-missing' };
  if (isPatch(body.contentType)) return { unknown: 'patch' };
  if (body.fullSha256 !== undefined) return { unknown: 'body-truncated' };
  const text = body.inline ?? entry.requestBody;
  if (text === undefined) return { unknown: 'body-missing' };
  try {
    return { object: JSON.parse(text) as unknown };
  } catch {
    return { unknown: 'body-unreadable' };
  }
}

/**
 * summarizeAction renders an action for one line: `delete deployments/web in shop on prod`,
 * `create pods/web-1/exec in shop on prod`, `get /version on prod`.
 */
export function summarizeAction(action: PolicyRequest): string {
  const parts: string[] = [action.verb];
  if (action.resource) {
    parts.push([action.resource, action.name, action.subresource].filter((p) => p !== undefined && p !== '').join('/'));
  } else if (typeof action.path === 'string' && action.path !== '') {
    parts.push(action.path);
  } else if (action.statement) {
    parts.push(JSON.stringify(action.statement.length > 80 ? `${action.statement.slice(0, 77)}...` : action.statement));
  }
  const where = action.namespace ?? action.database;
  if (where) parts.push(`in ${where}`);
  if (action.connection) parts.push(`on ${action.connection}`);
  return parts.join(' ');
}

function carriesObject(action: PolicyRequest | undefined): boolean {
  return action !== undefined && action.protocol === 'kubernetes' && objectVerbs.has(action.verb) && !!action.resource;
}

/** isPatch: the recorded content type is one of Kubernetes' patch forms (`…patch+json`, `…patch+yaml`). */
function isPatch(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return /-patch\+(json|yaml|cbor)$/.test(type);
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
