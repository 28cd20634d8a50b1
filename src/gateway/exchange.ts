/**
 * Exchange is one request's journey through the gateway, protocol-neutral. Each pipeline
 * stage reads what earlier stages wrote and adds its own part: the adapter's admission
 * (connection, credential), authentication (identity), interpretation (action, object,
 * recorded request body), decision, then recording and forwarding.
 */
import type { Identity } from '../identity/identity.js';
import type { Decision } from '../policy/decision.js';
import type { PolicyRequest } from '../policy/request.js';
import type { PayloadInput } from '../ledger/types.js';

export interface Exchange {
  /** The request's ledger entry id (UUIDv7); Kubernetes sees it as Audit-ID. */
  readonly id: string;
  readonly protocol: string;
  /** process.hrtime-based start, for durations. */
  readonly startedAt: bigint;
  /** Connection name once routed. */
  connection?: string;
  /** The presented credential; never recorded, never logged. */
  credential?: string;
  identity?: Identity;
  sessionId?: string;
  action?: PolicyRequest;
  /**
   * The action as the ledger records it, when it differs from `action`: free text a caller may
   * put a secret in (an exec's command line) masked. Policy always reads `action`.
   */
  recordedAction?: PolicyRequest;
  /** The object the request would produce (policy's `object`), when the adapter could read it. */
  object?: unknown;
  /** The masked request body for the ledger. */
  recordedRequest?: PayloadInput;
  decision?: Decision;
  /** When the approval window that let this request through closes (ms since the epoch): a stream it opened ends then. */
  approvalEndsAtMs?: number;
  /** Facts for the ledger entry that only the adapter knows (remote address, user agent …). */
  facts: Record<string, unknown>;
}

/**
 * Refusal is a "no" the gateway answers itself: a value, not an exception. The adapter turns
 * it into the protocol's own error (a Kubernetes Status, a Postgres ErrorResponse).
 */
export interface Refusal {
  /** HTTP-like status: 400 bad input, 401 no identity, 403 policy or a denied approval, 413 too large, 429 waiting for approval, 502/503/504 upstream or ledger. */
  status: number;
  /** Stable reason code recorded in the ledger. */
  reason: RefusalReason;
  /** Plain words: what was refused, by which rule, what to do next. */
  message: string;
  rules?: string[];
  retryAfterSeconds?: number;
  /** Protocol-specific details the adapter may use (Kubernetes Status details). */
  details?: Record<string, unknown>;
}

export type RefusalReason =
  | 'bad-request'
  | 'unauthenticated'
  | 'forbidden'
  | 'policy-denied'
  | 'approval-required'
  | 'approval-pending'
  | 'approval-denied'
  | 'too-large'
  | 'unsupported'
  | 'ledger-unavailable'
  | 'upstream-unavailable'
  | 'upstream-timeout'
  | 'upstream-refused'
  | 'internal';

/** refusal builds a Refusal. */
export function refusal(status: number, reason: RefusalReason, message: string, extra: Partial<Refusal> = {}): Refusal {
  return { status, reason, message, ...extra };
}

/** isRefusal tells a stage's refusal from its pass-through (undefined). */
export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'reason' in value && 'status' in value && 'message' in value;
}
