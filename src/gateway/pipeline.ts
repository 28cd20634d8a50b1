/**
 * buildPipeline composes every stage, in the order a request meets them. Each line says
 * what the stage needs from the ones before it.
 *
 *   admit → authenticate → interpret → decide → review → record → forward
 *     └──────────── any refusal: record it, answer it natively ─────────────┘
 */
import type { Logger } from '../log.js';
import type { Ledger } from '../ledger/types.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { ProtocolAdapter } from './adapter.js';
import { withAuthentication, type Authenticate } from './authentication.js';
import { withDecision } from './decision.js';
import type { Exchange, Refusal } from './exchange.js';
import { withRecording } from './recording.js';
import { withRefusals } from './refusals.js';
import { withReview, type ReviewDeps } from './review.js';
import type { Stage } from './stage.js';

export interface PipelineDeps {
  ledger: Pick<Ledger, 'append' | 'health'>;
  policy: () => CompiledPolicy;
  authenticate: Authenticate;
  logger: Logger;
  onAuthFailure?: (code: string) => void;
  onOutcome?: (x: Exchange, outcome: 'forwarded' | Refusal) => void;
  /** Approvals: where `review` decisions wait for people. */
  review: ReviewDeps;
}

export function buildPipeline<X extends Exchange>(adapter: ProtocolAdapter<X>, deps: PipelineDeps): (x: X) => Promise<void> {
  // forward: the decided request is recorded before it goes upstream; responses before release.
  const recorded: Stage<X> = withRecording(adapter, deps);
  // review: a `review` decision waits for (or asks for) a human approver before recording.
  const reviewed = withReview(recorded, adapter, deps.review);
  // decide: needs the identity (authentication) and the action/object (interpretation).
  const decided = withDecision(reviewed, deps);
  // interpret: after authentication, because reading a patch may need a dry-run as the caller.
  const interpreted: Stage<X> = async (x) => (await adapter.interpret(x)) ?? decided(x);
  // authenticate: needs the credential the adapter found while admitting the request.
  const authenticated = withAuthentication(interpreted, { authenticate: deps.authenticate, onFailure: deps.onAuthFailure });
  // admit: routing and input checks come first, so malformed input never reaches a verifier.
  const admitted: Stage<X> = async (x) => (await adapter.admit(x)) ?? authenticated(x);
  // refusals: outermost, so every "no" (and every thrown failure) is recorded and answered natively.
  return withRefusals(admitted, adapter, deps);
}
