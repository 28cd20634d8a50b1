/**
 * ProtocolAdapter is what a protocol (Kubernetes, PostgreSQL) supplies to the pipeline. An
 * adapter only translates: wire → Exchange fields, Refusal → the protocol's own error, and
 * the allowed request → upstream and back. It never decides policy.
 */
import type { PayloadInput } from '../ledger/types.js';
import type { ApprovalSubject } from '../review/types.js';
import type { Exchange, Refusal } from './exchange.js';

/** ResponseRecorder is how an adapter records what came back before releasing it. */
export interface ResponseRecorder {
  /** response records the final answer; it rejects when the ledger cannot record (fail closed). */
  response(record: { status: number; body?: PayloadInput; data?: Record<string, unknown> }): Promise<void>;
  /** stream records one batch of a long-running response (watch events, log lines) before it is released. */
  stream(record: { body: PayloadInput; data?: Record<string, unknown> }): Promise<void>;
}

export interface ProtocolAdapter<X extends Exchange> {
  readonly protocol: string;
  /** admit routes the request and reads the credential; bad input is refused here, before anything else. */
  admit(x: X): Promise<Refusal | void>;
  /** interpret builds `action`, `object` and `recordedRequest`; it may ask upstream (a dry-run) as the caller. */
  interpret(x: X): Promise<Refusal | void>;
  /** forward sends the allowed request upstream and streams the (masked) answer back, recording it first. */
  forward(x: X, record: ResponseRecorder): Promise<void>;
  /** refuse answers a refusal in the protocol's own error form. */
  refuse(x: X, refusal: Refusal): Promise<void>;
  /**
   * describeForReview says what an approver is shown about a request policy sent to review and
   * what a grant is bound to: the digest of the exact request, the masked request, the scope
   * (namespace or database) and, built only for a new approval request, a preview of its effect.
   */
  describeForReview(x: X): ReviewDescription;
}

export interface ReviewDescription {
  digest: string;
  subject: ApprovalSubject;
  scope?: string;
  preview?: () => Promise<ApprovalSubject['preview']>;
}
