/**
 * The approval book: approval requests, votes, grants and their expiry, for one airlock
 * process. Every change is written to the ledger before it takes effect (an approval the
 * ledger could not record did not happen), and the book can be rebuilt from those entries
 * after a restart (`restore`).
 *
 * Rules it keeps:
 * - A grant serves only the identity that asked (subject and issuer) and only the request it
 *   was asked for (its digest), once, before `grantTtl` — or, for a window grant, the requests
 *   the same review rules match on the same connection and namespace until the window closes.
 * - Approvers are people holding the `approver` (or `admin`) role and, when the rule names
 *   approvers, named by it; nobody approves their own request; each approver counts once; a
 *   single denial decides.
 * - A pending request expires at `expiresAt` and can no longer be approved.
 * - An approval that can no longer let anything through is forgotten `retain` after it stopped
 *   mattering (`prune`); the ledger keeps it. Memory follows recent traffic, not history.
 *
 * Decides nothing about traffic: the gateway's review stage asks it. Notifications are sent in
 * the background and their outcome recorded (`approval.notified`).
 */
import { randomBytes } from 'node:crypto';
import type { Identity } from '../identity/identity.js';
import type { Ledger, LedgerEntry } from '../ledger/types.js';
import type { Logger } from '../log.js';
import type { ReviewConfig } from '../config/review-schema.js';
import type { ApprovalActor, ApprovalEvent, ApprovalNotification, ApprovalRequest, ApprovalSubject, Notifier } from './types.js';

export interface ApprovalsOptions {
  ledger: Pick<Ledger, 'append'>;
  /** This replica's ledger chain: entries from other chains come in through `apply`. */
  chain?: string;
  config: Pick<ReviewConfig, 'requestTtl' | 'grantTtl' | 'roles'> & Partial<Pick<ReviewConfig, 'retain'>>;
  notifiers?: Notifier[];
  /** The admin server's public URL, for links in notifications. */
  adminUrl: string;
  logger: Logger;
  /** Wall clock, ms since the epoch. */
  now?: () => number;
}

/** What the review stage knows about a request that needs approval. */
export interface ApprovalAsk {
  connection: string;
  identity: Identity;
  sessionId?: string;
  /** The review rules that matched and their parameters. */
  rules: string[];
  message: string;
  approvers: string[];
  approvals: number;
  /** A window grant's length (ms) and how the rule wrote it; absent: a single-request grant. */
  window?: { ms: number; text: string };
  digest: string;
  /** Namespace (or database) the request is in, for window grants. */
  scope?: string;
  subject: ApprovalSubject;
  /** Builds the preview (a dry run) only when a new approval request is opened. */
  preview?: () => Promise<ApprovalSubject['preview']>;
  requestEntryId: string;
  /** What the ledger entry carries besides the approval (the policy request, the decision). */
  entry?: { action?: Record<string, unknown>; decision?: unknown };
}

export type ApprovalErrorKind = 'not-found' | 'conflict' | 'forbidden';

/** ApprovalActionError: why an approver's action was refused, with the HTTP status to answer. */
export class ApprovalActionError extends Error {
  constructor(
    readonly kind: ApprovalErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalActionError';
  }

  get status(): number {
    return this.kind === 'not-found' ? 404 : this.kind === 'conflict' ? 409 : 403;
  }
}

/** newApprovalId: `apr-` and 20 random hex characters. */
export function newApprovalId(): string {
  return `apr-${randomBytes(10).toString('hex')}`;
}

export function actorOf(identity: Pick<Identity, 'subject' | 'issuer' | 'groups' | 'kind'>): ApprovalActor {
  return { subject: identity.subject, issuer: identity.issuer, groups: [...identity.groups], kind: identity.kind };
}

function sameActor(a: Pick<ApprovalActor, 'subject' | 'issuer'>, b: Pick<ApprovalActor, 'subject' | 'issuer'>): boolean {
  return a.subject === b.subject && a.issuer === b.issuer;
}

/** holds: whether an identity is one of `principals` (`group:NAME`, `user:SUBJECT`). */
export function holds(actor: Pick<ApprovalActor, 'subject' | 'groups'>, principals: readonly string[]): boolean {
  return principals.some((p) => (p.startsWith('group:') ? actor.groups.includes(p.slice(6)) : p.startsWith('user:') && actor.subject === p.slice(5)));
}

export type Role = 'admin' | 'approver' | 'auditor';

/** The origin of an approval opened by this process. */
const LOCAL = '';

/** How long a finished approval stays in the book when the configuration does not say. */
const DEFAULT_RETAIN_MS = 24 * 60 * 60 * 1000;
const PRUNE_INTERVAL_MS = 5 * 60 * 1000;

/** relevantUntil: until when an approval's request (a denial stands for it) or grant can matter. */
function relevantUntil(a: ApprovalRequest): number {
  const grant = a.grant.expiresAt ? Date.parse(a.grant.expiresAt) : 0;
  return Math.max(Date.parse(a.expiresAt) || 0, grant || 0);
}

export class Approvals {
  readonly #o: ApprovalsOptions;
  readonly #now: () => number;
  readonly #byId = new Map<string, ApprovalRequest>();
  readonly #waiters = new Map<string, Set<(a: ApprovalRequest) => void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Approval requests being opened, by requester and digest: concurrent retries share one. */
  readonly #opening = new Map<string, Promise<ApprovalRequest>>();
  /** Grants handed out but not yet recorded as used: a second request cannot take the same one. */
  readonly #taken = new Set<string>();
  /** Per approval id, the decision being recorded: decisions on one request run one at a time. */
  readonly #deciding = new Map<string, Promise<unknown>>();
  #closed = false;
  readonly #pruner: NodeJS.Timeout;

  constructor(options: ApprovalsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    // The book holds what can still matter, plus `retain` of history for `airlock approvals`.
    this.#pruner = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.#pruner.unref();
  }

  /**
   * prune forgets approvals that can no longer let anything through and whose `retain` has
   * passed (the ledger keeps them); returns how many. Runs on a timer and after `restore`.
   */
  prune(): number {
    const now = this.#now();
    const retain = this.#o.config.retain ?? DEFAULT_RETAIN_MS;
    let pruned = 0;
    for (const [id, a] of this.#byId) {
      if (a.state === 'pending' || a.state === 'approved' || this.#deciding.has(id)) continue;
      if (now <= relevantUntil(a) + retain) continue;
      this.#byId.delete(id);
      this.#origin.delete(id);
      this.#windows.delete(id);
      this.#taken.delete(id);
      this.#clearTimer(id);
      pruned++;
    }
    return pruned;
  }

  /** roles lists the roles an identity holds. */
  roles(actor: Pick<ApprovalActor, 'subject' | 'groups'>): Role[] {
    const r = this.#o.config.roles;
    return (['admin', 'approver', 'auditor'] as const).filter((role) => holds(actor, r[role]));
  }

  get(id: string): ApprovalRequest | undefined {
    const a = this.#byId.get(id);
    if (a) this.#expireIfDue(a);
    return a;
  }

  list(filter: { state?: ApprovalRequest['state']; requester?: Pick<ApprovalActor, 'subject' | 'issuer'> } = {}): ApprovalRequest[] {
    const out: ApprovalRequest[] = [];
    for (const a of this.#byId.values()) {
      this.#expireIfDue(a);
      if (filter.state && a.state !== filter.state) continue;
      if (filter.requester && !sameActor(a.requester, filter.requester)) continue;
      out.push(a);
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * grantFor finds an approved, unexpired grant for this identity and request, and reserves it
   * so that a concurrent request cannot use it too; `use` records it, `release` gives it back.
   */
  grantFor(ask: Pick<ApprovalAsk, 'identity' | 'digest' | 'connection' | 'rules' | 'scope'>): ApprovalRequest | undefined {
    for (const a of this.#byId.values()) {
      if (a.state !== 'approved' || !sameActor(a.requester, ask.identity)) continue;
      if (this.#expireIfDue(a)) continue;
      if (a.grant.kind === 'request') {
        if (a.digest !== ask.digest || this.#taken.has(a.id)) continue;
        this.#taken.add(a.id);
        return a;
      }
      if (a.connection === ask.connection && sameRules(a.rules, ask.rules) && a.scope === ask.scope) return a;
    }
    return undefined;
  }

  /** release returns a reserved single-request grant unused (the request never reached the ledger). */
  release(a: ApprovalRequest): void {
    this.#taken.delete(a.id);
  }

  /**
   * use records that a grant let a request through (`approval.used`); a single-request grant is
   * then spent. Rejects when the ledger cannot record it — the request must then not pass.
   */
  async use(a: ApprovalRequest, by: { requestEntryId: string; identity: Identity; sessionId?: string }): Promise<void> {
    await this.#o.ledger.append({
      type: 'approval.used',
      identity: recordedIdentity(by.identity),
      ...(by.sessionId ? { sessionId: by.sessionId } : {}),
      connection: a.connection,
      data: { approvalId: a.id, requestId: by.requestEntryId, grant: a.grant.kind, ...(a.grant.expiresAt ? { grantExpiresAt: a.grant.expiresAt } : {}) },
    });
    this.#taken.delete(a.id);
    if (a.grant.kind === 'request') {
      a.state = 'used';
      this.#clearTimer(a.id);
      this.#wake(a);
    }
  }

  /**
   * open returns the pending request for this identity and digest — or its denial, which stands
   * until the request would have expired, so a client's retries hear the "no" instead of asking
   * again — or opens (and records) a new one.
   */
  async open(ask: ApprovalAsk): Promise<ApprovalRequest> {
    const now = this.#now();
    for (const a of this.#byId.values()) {
      if (a.digest !== ask.digest || !sameActor(a.requester, ask.identity)) continue;
      if (a.state === 'pending' && !this.#expireIfDue(a)) return a;
      if (a.state === 'denied' && now < Date.parse(a.expiresAt)) return a;
    }
    const key = `${ask.identity.issuer}\n${ask.identity.subject}\n${ask.digest}`;
    const inFlight = this.#opening.get(key);
    if (inFlight) return inFlight;
    const opening = this.#create(ask).finally(() => this.#opening.delete(key));
    this.#opening.set(key, opening);
    return opening;
  }

  async #create(ask: ApprovalAsk): Promise<ApprovalRequest> {
    const now = this.#now();
    let preview: ApprovalSubject['preview'];
    if (ask.preview) {
      try {
        preview = await ask.preview();
      } catch (err) {
        preview = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const approval: ApprovalRequest = {
      id: newApprovalId(),
      state: 'pending',
      connection: ask.connection,
      requester: actorOf(ask.identity),
      request: { ...ask.subject, ...(preview ? { preview } : {}) },
      rules: [...ask.rules],
      message: ask.message,
      approvers: [...ask.approvers],
      approvalsRequired: Math.max(1, ask.approvals),
      approvals: [],
      digest: ask.digest,
      ...(ask.scope !== undefined ? { scope: ask.scope } : {}),
      grant: ask.window ? { kind: 'window', window: ask.window.text } : { kind: 'request' },
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#o.config.requestTtl).toISOString(),
      requestEntryId: ask.requestEntryId,
    };
    if (ask.window) this.#windows.set(approval.id, ask.window.ms);
    await this.#o.ledger.append({
      type: 'approval.requested',
      identity: recordedIdentity(ask.identity),
      ...(ask.sessionId ? { sessionId: ask.sessionId } : {}),
      connection: ask.connection,
      ...(ask.entry?.action ? { action: ask.entry.action as never } : {}),
      data: { approvalId: approval.id, approval: snapshot(approval), ...(ask.window ? { windowMs: ask.window.ms } : {}) },
    });
    this.#byId.set(approval.id, approval);
    this.#origin.set(approval.id, LOCAL);
    this.#arm(approval, approval.expiresAt);
    this.#notify('approval.requested', approval);
    return approval;
  }

  readonly #windows = new Map<string, number>();

  /**
   * wait resolves with the approval once it is no longer pending, or after `ms` as it is then.
   * An approval that is not known resolves undefined.
   */
  wait(id: string, ms: number): Promise<ApprovalRequest | undefined> {
    const a = this.get(id);
    if (!a || a.state !== 'pending' || ms <= 0 || this.#interrupted) return Promise.resolve(a);
    return new Promise((resolve) => {
      const set = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, set);
      const done = (value: ApprovalRequest) => {
        clearTimeout(timer);
        set.delete(done);
        resolve(value);
      };
      const timer = setTimeout(() => done(this.get(id) ?? a), ms);
      set.add(done);
    });
  }

  /**
   * #serially runs decisions on one approval one after another, so each one checks the state
   * the previous one left (and wrote to the ledger) — two approvers voting at the same moment
   * both count, a vote racing a denial is refused before it is recorded.
   */
  #serially<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#deciding.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#deciding.set(id, settled);
    void settled.then(() => {
      if (this.#deciding.get(id) === settled) this.#deciding.delete(id);
    });
    return run;
  }

  /** approve records one approver's approval; with enough approvals the request is approved. */
  approve(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    return this.#serially(id, () => this.#approve(id, actor, reason));
  }

  async #approve(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    const a = this.#decidable(id, actor, 'approve');
    if (a.approvals.some((v) => sameActor(v, actor))) throw new ApprovalActionError('conflict', `${actor.subject} has already approved ${id}; it needs ${a.approvalsRequired - a.approvals.length} more approval(s) from someone else`);
    const now = this.#now();
    const vote = { subject: actor.subject, issuer: actor.issuer, at: new Date(now).toISOString(), ...(reason ? { reason } : {}) };
    const count = a.approvals.length + 1;
    const approved = count >= a.approvalsRequired;
    const grantMs = this.#windows.get(a.id) ?? this.#o.config.grantTtl;
    const grantExpiresAt = approved ? new Date(now + grantMs).toISOString() : undefined;
    await this.#o.ledger.append({
      type: 'approval.approved',
      identity: recordedIdentity(actor),
      connection: a.connection,
      data: {
        approvalId: a.id,
        approvals: count,
        required: a.approvalsRequired,
        state: approved ? 'approved' : 'pending',
        ...(reason ? { reason } : {}),
        ...(grantExpiresAt ? { grant: a.grant.kind, grantExpiresAt } : {}),
      },
    });
    // The ledger has it: now it counts (re-check, another vote may have landed meanwhile).
    if (a.state !== 'pending') throw new ApprovalActionError('conflict', `${id} was ${a.state} while this approval was being recorded`);
    a.approvals.push(vote);
    if (approved) {
      a.state = 'approved';
      a.grant = { ...a.grant, expiresAt: grantExpiresAt! };
      this.#arm(a, grantExpiresAt!);
      this.#wake(a);
      this.#notify('approval.approved', a);
    }
    return a;
  }

  /** deny records a denial; one is enough. */
  deny(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    return this.#serially(id, () => this.#deny(id, actor, reason));
  }

  async #deny(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    const a = this.#decidable(id, actor, 'deny');
    const at = new Date(this.#now()).toISOString();
    await this.#o.ledger.append({
      type: 'approval.denied',
      identity: recordedIdentity(actor),
      connection: a.connection,
      data: { approvalId: a.id, ...(reason ? { reason } : {}) },
    });
    if (a.state !== 'pending') throw new ApprovalActionError('conflict', `${id} was ${a.state} while this denial was being recorded`);
    a.state = 'denied';
    a.denial = { subject: actor.subject, issuer: actor.issuer, at, ...(reason ? { reason } : {}) };
    this.#clearTimer(a.id);
    this.#wake(a);
    this.#notify('approval.denied', a);
    return a;
  }

  /** revoke withdraws an approved grant before it is used or lapses (admins, or an approver of it). */
  revoke(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    return this.#serially(id, () => this.#revoke(id, actor, reason));
  }

  async #revoke(id: string, actor: Identity, reason?: string): Promise<ApprovalRequest> {
    const a = this.get(id);
    if (!a) throw new ApprovalActionError('not-found', `no approval request ${id}`);
    const roles = this.roles(actor);
    const approvedIt = a.approvals.some((v) => sameActor(v, actor));
    if (!roles.includes('admin') && !approvedIt) throw new ApprovalActionError('forbidden', `only an admin or one of its approvers may revoke ${id}`);
    if (a.state !== 'approved') throw new ApprovalActionError('conflict', `${id} is ${a.state}; only an approved grant can be revoked`);
    await this.#o.ledger.append({ type: 'approval.revoked', identity: recordedIdentity(actor), connection: a.connection, data: { approvalId: a.id, ...(reason ? { reason } : {}) } });
    a.state = 'revoked';
    this.#clearTimer(a.id);
    this.#wake(a);
    return a;
  }

  /** restore rebuilds the book from the ledger's approval entries, in order (after a restart). */
  restore(entries: Iterable<LedgerEntry>): void {
    for (const e of entries) this.#applyEntry(e);
    this.prune();
    for (const a of this.#byId.values()) this.#armByState(a);
  }

  /**
   * apply takes in one approval entry another airlock replica recorded (on its own chain of a
   * shared store): a request opened there can be approved here, a vote given there releases a
   * request held here, a grant used there is spent here too.
   */
  apply(e: LedgerEntry): void {
    const a = this.#applyEntry(e);
    if (!a) return;
    for (const listener of this.#applied) listener(a);
    this.#armByState(a);
    if (a.state !== 'pending') this.#wake(a);
  }

  /** #armByState sets the timer a pending request (expiry) or an approved grant (lapse) needs, else clears it. */
  #armByState(a: ApprovalRequest): void {
    if (a.state === 'pending') this.#arm(a, a.expiresAt);
    else if (a.state === 'approved' && a.grant.expiresAt) this.#arm(a, a.grant.expiresAt);
    else this.#clearTimer(a.id);
  }

  /** #applyEntry updates the book from one recorded entry and returns the approval it touched. */
  #applyEntry(e: LedgerEntry): ApprovalRequest | undefined {
    const data = e.data ?? {};
    const id = typeof data.approvalId === 'string' ? data.approvalId : undefined;
    if (!id) return undefined;
    if (e.type === 'approval.requested' && isApproval(data.approval)) {
      if (!this.#byId.has(id)) this.#byId.set(id, structuredClone(data.approval));
      this.#origin.set(id, e.chain);
      if (typeof data.windowMs === 'number') this.#windows.set(id, data.windowMs);
      return this.#byId.get(id);
    }
    const a = this.#byId.get(id);
    if (!a) return undefined;
    const who = e.identity ? { subject: e.identity.subject, issuer: e.identity.issuer, at: e.time, ...(typeof data.reason === 'string' ? { reason: data.reason } : {}) } : undefined;
    if (e.type === 'approval.approved' && who) {
      if (!a.approvals.some((v) => sameActor(v, who))) a.approvals.push(who);
      if (data.state === 'approved' && a.state === 'pending') {
        a.state = 'approved';
        if (typeof data.grantExpiresAt === 'string') a.grant = { ...a.grant, expiresAt: data.grantExpiresAt };
      }
    } else if (e.type === 'approval.denied' && who) {
      a.state = 'denied';
      a.denial = who;
    } else if (e.type === 'approval.used' && a.grant.kind === 'request') {
      a.state = 'used';
    } else if (e.type === 'approval.expired') {
      a.state = 'expired';
    } else if (e.type === 'approval.revoked') {
      a.state = 'revoked';
    }
    return a;
  }

  readonly #applied = new Set<(a: ApprovalRequest) => void>();
  /** Set by interrupt(): nothing is held any more (shutting down). */
  #interrupted = false;

  /** onApplied calls `listener` with each approval another replica's entry changed; returns the unsubscribe. */
  onApplied(listener: (a: ApprovalRequest) => void): () => void {
    this.#applied.add(listener);
    return () => this.#applied.delete(listener);
  }

  /** Which chain opened each approval: only that replica records its expiry. */
  readonly #origin = new Map<string, string>();

  /**
   * interrupt answers every held request now, with its approval as it stands (still pending:
   * the caller is told to retry, e.g. on another replica) — for a shutdown.
   */
  interrupt(): void {
    this.#interrupted = true;
    for (const [id, set] of [...this.#waiters]) {
      this.#waiters.delete(id);
      const a = this.#byId.get(id);
      if (a) for (const w of set) w(a);
    }
  }

  close(): void {
    this.interrupt();
    this.#closed = true;
    clearInterval(this.#pruner);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  /** #decidable checks that `actor` may approve or deny `id` now, or throws why not. */
  #decidable(id: string, actor: Identity, verb: 'approve' | 'deny'): ApprovalRequest {
    const a = this.get(id);
    if (!a) throw new ApprovalActionError('not-found', `no approval request ${id}`);
    if (a.state !== 'pending') {
      const why = a.state === 'expired' ? `it expired at ${a.expiresAt}; the caller must ask again` : `it is already ${a.state}`;
      throw new ApprovalActionError('conflict', `${id} cannot be ${verb === 'approve' ? 'approved' : 'denied'}: ${why}`);
    }
    if (sameActor(a.requester, actor)) throw new ApprovalActionError('forbidden', `${actor.subject} asked for ${id} and cannot ${verb} their own request`);
    if (actor.kind !== 'human') throw new ApprovalActionError('forbidden', `approvers are people; ${actor.subject} is an agent identity`);
    const roles = this.roles(actor);
    if (!roles.includes('approver') && !roles.includes('admin')) {
      throw new ApprovalActionError('forbidden', `${actor.subject} does not hold the approver role (review.roles.approver)`);
    }
    if (a.approvers.length > 0 && !holds(actor, a.approvers)) {
      throw new ApprovalActionError('forbidden', `${id} may be ${verb === 'approve' ? 'approved' : 'denied'} only by ${a.approvers.join(', ')}; ${actor.subject} is none of them`);
    }
    return a;
  }

  /** #expireIfDue expires a pending request or a lapsed grant whose time has come; true if it is (now) expired. */
  #expireIfDue(a: ApprovalRequest): boolean {
    if (a.state === 'expired') return true;
    const now = this.#now();
    const due = a.state === 'pending' ? Date.parse(a.expiresAt) : a.state === 'approved' && a.grant.expiresAt ? Date.parse(a.grant.expiresAt) : undefined;
    if (due === undefined || now < due) return false;
    const was = a.state;
    a.state = 'expired';
    this.#clearTimer(a.id);
    this.#wake(a);
    // With several replicas on one store, the one that opened the request records its expiry.
    const origin = this.#origin.get(a.id);
    if (origin === undefined || origin === LOCAL || origin === this.#o.chain) {
      void this.#o.ledger
        .append({ type: 'approval.expired', connection: a.connection, data: { approvalId: a.id, was, at: new Date(due).toISOString() } })
        .catch((err: unknown) => this.#o.logger.warn({ err, approval: a.id }, 'could not record an approval expiry'));
      if (was === 'pending') this.#notify('approval.expired', a);
    }
    return true;
  }

  #arm(a: ApprovalRequest, at: string): void {
    this.#clearTimer(a.id);
    if (this.#closed) return;
    const delay = Math.max(0, Date.parse(at) - this.#now());
    const timer = setTimeout(() => {
      this.#timers.delete(a.id);
      // A delay past the longest timer Node allows fires early: wait again for the rest.
      if (!this.#expireIfDue(a) && (a.state === 'pending' || a.state === 'approved')) this.#arm(a, at);
    }, Math.min(delay + 5, 2 ** 31 - 1));
    timer.unref();
    this.#timers.set(a.id, timer);
  }

  #clearTimer(id: string): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
  }

  #wake(a: ApprovalRequest): void {
    const set = this.#waiters.get(a.id);
    if (!set) return;
    this.#waiters.delete(a.id);
    for (const w of set) w(a);
  }

  #notify(event: ApprovalEvent, a: ApprovalRequest): void {
    const notifiers = this.#o.notifiers ?? [];
    if (notifiers.length === 0) return;
    const notification = notificationFor(event, a, this.#o.adminUrl);
    for (const n of notifiers) {
      n.notify(notification).then(
        () => this.#recordNotified(a, event, n.name, undefined),
        (err: unknown) => this.#recordNotified(a, event, n.name, err instanceof Error ? err.message : String(err)),
      );
    }
  }

  #recordNotified(a: ApprovalRequest, event: ApprovalEvent, channel: string, error: string | undefined): void {
    void this.#o.ledger
      .append({ type: 'approval.notified', connection: a.connection, data: { approvalId: a.id, event, channel, ok: error === undefined, ...(error ? { error } : {}) } })
      .catch((err: unknown) => this.#o.logger.warn({ err, approval: a.id }, 'could not record a notification'));
    if (error) this.#o.logger.warn({ approval: a.id, channel, error }, 'approval notification failed');
  }
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((r, i) => r === [...b].sort()[i]);
}

function recordedIdentity(identity: Identity) {
  return { subject: identity.subject, groups: [...identity.groups], issuer: identity.issuer, kind: identity.kind, tokenId: identity.tokenId, via: identity.via };
}

/** snapshot is the approval as recorded: a plain copy. */
function snapshot(a: ApprovalRequest): ApprovalRequest {
  return structuredClone(a);
}

function isApproval(v: unknown): v is ApprovalRequest {
  return typeof v === 'object' && v !== null && typeof (v as ApprovalRequest).id === 'string' && typeof (v as ApprovalRequest).digest === 'string';
}

/** notificationFor builds what notifiers send: the approval and where to act on it. */
export function notificationFor(event: ApprovalEvent, a: ApprovalRequest, adminUrl: string): ApprovalNotification {
  const base = adminUrl.replace(/\/+$/, '');
  return {
    event,
    approval: snapshot(a),
    // Links open in a browser (a GET, maybe a link previewer's): they lead to the page, never act.
    links: { show: `${base}/approvals/${a.id}`, approve: `${base}/approvals/${a.id}?decide=approve`, deny: `${base}/approvals/${a.id}?decide=deny` },
    commands: { approve: `airlock approvals approve ${a.id} --reason "…"`, deny: `airlock approvals deny ${a.id} --reason "…"` },
  };
}

export function isApprovalActionError(err: unknown): err is ApprovalActionError {
  return err instanceof ApprovalActionError;
}
