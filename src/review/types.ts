/**
 * Just-in-time approvals: the shapes shared by the approval store, the gateway's review stage,
 * the admin API, the CLI and the notifiers. An approval request is created when policy decides
 * `review`; it is bound to the caller and to the digest of the exact request, and every change
 * of its state is a ledger entry (`approval.requested`, `.notified`, `.approved`, `.denied`,
 * `.expired`, `.used`, `.revoked`).
 */

/** pending → approved (enough approvals) | denied (any denial) | expired; approved → used | expired | revoked. */
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used' | 'revoked';

/** Who asked or acted: the authenticated identity, never a token. */
export interface ApprovalActor {
  subject: string;
  issuer: string;
  groups: string[];
  kind: 'agent' | 'human';
}

export interface ApprovalVote {
  subject: string;
  issuer: string;
  at: string;
  reason?: string;
}

/**
 * What an approval grants once approved:
 * - `request`: the same identity may make the same request (same digest) once, before `expiresAt`;
 * - `window`: the same identity may make any request the same review rules match on the same
 *   connection (and namespace, when the request had one) until `expiresAt`.
 */
export interface ApprovalGrant {
  kind: 'request' | 'window';
  /** Set when the approval is approved. */
  expiresAt?: string;
  /** The window's length, e.g. `30m` (window grants). */
  window?: string;
}

/** The request waiting for approval, as shown to approvers (masked). */
export interface ApprovalSubject {
  protocol: string;
  /** HTTP method or protocol verb. */
  method: string;
  /** The request target as the client sent it (path and query). */
  target: string;
  /** One line for humans: `create pods "debug" in default`. */
  summary: string;
  /** The protocol-neutral request policy decided on (verb, resource, namespace, name, …). */
  action: Record<string, unknown>;
  /** The request body, masked, when it had one. */
  body?: string;
  /** What the change would produce (a server-side dry run), masked; or why it could not be shown. */
  preview?: { object?: unknown; error?: string };
}

export interface ApprovalRequest {
  /** `apr-` + 26 lowercase base32 characters; what callers and approvers quote. */
  id: string;
  state: ApprovalState;
  connection: string;
  requester: ApprovalActor;
  request: ApprovalSubject;
  /** The review rules that matched, and the first one's message. */
  rules: string[];
  message: string;
  /** Who may approve: `group:NAME` or `user:SUBJECT`; empty means any approver. */
  approvers: string[];
  /** How many distinct approvers must approve. */
  approvalsRequired: number;
  approvals: ApprovalVote[];
  denial?: ApprovalVote;
  /** SHA-256 (hex) of the exact request: connection, method, path, sorted query, canonical body. */
  digest: string;
  /** The namespace (or database) the request was made in; a window grant covers only it. */
  scope?: string;
  grant: ApprovalGrant;
  createdAt: string;
  /** A pending request that is not decided by then can no longer be approved. */
  expiresAt: string;
  /** The ledger entry of the request that asked (its id is the Audit-ID). */
  requestEntryId: string;
}

/** The events notifiers hear about. */
export type ApprovalEvent = 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired';

/** What a notifier sends: the event, the approval (already masked) and where to act on it. */
export interface ApprovalNotification {
  event: ApprovalEvent;
  approval: ApprovalRequest;
  /** Absolute URLs on the admin server: the request, and the approve/deny endpoints. */
  links: { show: string; approve: string; deny: string };
  /** The CLI lines an approver can paste. */
  commands: { approve: string; deny: string };
}

/**
 * A notification channel (generic webhook, Slack, …). `notify` resolves when the channel
 * accepted the message, after its own retries, or rejects with why it gave up. It must never
 * throw synchronously and never include a token.
 */
export interface Notifier {
  /** `webhook:<host>`, `slack:<host>` — shown in the ledger's `approval.notified` entry. */
  readonly name: string;
  notify(notification: ApprovalNotification): Promise<void>;
}
