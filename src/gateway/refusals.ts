/**
 * withRefusals is the outermost stage: whatever inner stage said no is recorded in the
 * ledger and then answered in the protocol's own error form. A stage that throws is a broken
 * thing, not a decision: it becomes a 500 refusal, recorded with its cause, and the process
 * carries on.
 */
import type { Logger } from '../log.js';
import type { ProtocolAdapter } from './adapter.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import { requestEntry, type RecordingDeps } from './recording.js';
import type { Stage } from './stage.js';

export interface RefusalDeps extends RecordingDeps {
  logger: Logger;
  onOutcome?: (x: Exchange, outcome: 'forwarded' | Refusal) => void;
}

export function withRefusals<X extends Exchange>(next: Stage<X>, adapter: ProtocolAdapter<X>, deps: RefusalDeps): (x: X) => Promise<void> {
  return async function refusals(x: X): Promise<void> {
    let outcome: Refusal | void;
    try {
      outcome = await next(x);
    } catch (err) {
      deps.logger.error({ err, exchange: x.id }, 'request failed inside the gateway');
      outcome = refusal(500, 'internal', `airlock failed while handling this request (entry ${x.id}); the failure is recorded`);
      x.facts.failure = err instanceof Error ? err.message : String(err);
    }
    if (!outcome) {
      deps.onOutcome?.(x, 'forwarded');
      return;
    }
    deps.onOutcome?.(x, outcome);
    try {
      await deps.ledger.append(
        requestEntry(x, { outcome: 'refused', status: outcome.status, reason: outcome.reason, message: outcome.message }),
      );
    } catch (err) {
      // A refusal sends nothing upstream, so answering it unrecorded loses no evidence of access.
      deps.logger.warn({ err, exchange: x.id }, 'could not record a refusal');
    }
    try {
      await adapter.refuse(x, outcome);
    } catch (err) {
      deps.logger.warn({ err, exchange: x.id }, 'could not deliver a refusal to the client');
    }
  };
}
