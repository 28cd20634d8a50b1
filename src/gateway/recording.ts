/**
 * Recording: the record comes first. An allowed request is written to the ledger (durably)
 * before it is forwarded; a response is written before it is released; a refusal is written
 * before it is answered. When the ledger cannot write and airlock fails closed, the request is
 * refused with 503 and never reaches upstream.
 */
import { isAirlockError } from '../errors.js';
import type { EntryInput, Ledger, RecordedIdentity } from '../ledger/types.js';
import type { ProtocolAdapter, ResponseRecorder } from './adapter.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import type { Stage } from './stage.js';

export interface RecordingDeps {
  ledger: Pick<Ledger, 'append'>;
}

/** recordedIdentity keeps who and through which verifier; never the credential or its expiry. */
export function recordedIdentity(x: Exchange): RecordedIdentity | undefined {
  const id = x.identity;
  if (!id) return undefined;
  return {
    subject: id.subject,
    groups: id.groups,
    issuer: id.issuer,
    kind: id.kind,
    tokenId: id.tokenId,
    via: id.via,
    ...(id.clientId !== undefined ? { clientId: id.clientId } : {}),
  };
}

/** requestEntry is the ledger entry of an exchange: who, where, what, and what was decided. */
export function requestEntry(x: Exchange, data: Record<string, unknown>): EntryInput {
  const d = x.decision;
  return {
    id: x.id,
    type: 'request',
    sessionId: x.sessionId,
    identity: recordedIdentity(x),
    connection: x.connection,
    action: x.action,
    decision: d
      ? {
          effect: d.effect,
          rules: d.rules,
          message: d.message,
          ...(d.defaulted ? { defaulted: true } : {}),
          ...(d.mask?.secrets === 'clear' ? { unmasked: ['secrets'] } : {}),
        }
      : undefined,
    request: x.recordedRequest,
    data: { protocol: x.protocol, ...x.facts, ...(d?.errors?.length ? { ruleErrors: d.errors } : {}), ...data },
  };
}

/** withRecording records the decided request, then forwards it with a recorder for what comes back. */
export function withRecording<X extends Exchange>(adapter: ProtocolAdapter<X>, deps: RecordingDeps): Stage<X> {
  return async function recording(x: X): Promise<Refusal | void> {
    try {
      await deps.ledger.append(requestEntry(x, { outcome: 'forwarded' }));
    } catch (err) {
      return refusal(503, 'ledger-unavailable', `airlock cannot record this request, so it was not forwarded: ${describe(err)}`, { retryAfterSeconds: 5 });
    }
    const base = { sessionId: x.sessionId, identity: recordedIdentity(x), connection: x.connection };
    let sequence = 0;
    const recorder: ResponseRecorder = {
      async response({ status, body, data }) {
        const durationMs = Number(process.hrtime.bigint() - x.startedAt) / 1e6;
        await deps.ledger.append({ ...base, type: 'response', response: body, data: { requestId: x.id, status, durationMs: Math.round(durationMs * 1000) / 1000, ...data } });
      },
      async stream({ body, data }) {
        await deps.ledger.append({ ...base, type: 'stream', response: body, data: { requestId: x.id, part: ++sequence, ...data } });
      },
    };
    await adapter.forward(x, recorder);
  };
}

function describe(err: unknown): string {
  return isAirlockError(err) ? `${err.message} [${err.code}]` : err instanceof Error ? err.message : String(err);
}
