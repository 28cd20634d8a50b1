/**
 * Recording: nothing leaves airlock unrecorded.
 *
 * - A request that can change something upstream (a write, an exec, anything not a plain
 *   read) is written to the ledger, durably, before it is forwarded.
 * - A read (`get`, `list`, `watch` and non-resource GETs) cannot change anything upstream, so
 *   its request entry is appended together with its first response or stream entry, in the
 *   same group commit: one durable write per read instead of two, and still nothing is
 *   released to the client before both entries are durable.
 * - A refusal is written before it is answered (withRefusals).
 * When the ledger cannot write and airlock fails closed, a write is refused with 503 and never
 * reaches upstream; a read in flight has its response withheld (503), and while the ledger is
 * known not to write, a read is refused with 503 before it reaches upstream.
 */
import { isAirlockError } from '../errors.js';
import type { EntryInput, Ledger, RecordedIdentity } from '../ledger/types.js';
import type { ProtocolAdapter, ResponseRecorder } from './adapter.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import type { Stage } from './stage.js';

export interface RecordingDeps {
  ledger: Pick<Ledger, 'append' | 'health'>;
}

/** How long a client refused because the ledger cannot write is told to wait before retrying. */
export const LEDGER_RETRY_AFTER_SECONDS = 5;

/** ledgerUnavailable refuses a request airlock cannot record, before it is forwarded. */
function ledgerUnavailable(why: string): Refusal {
  return refusal(503, 'ledger-unavailable', `airlock cannot record this request, so it was not forwarded: ${why}`, { retryAfterSeconds: LEDGER_RETRY_AFTER_SECONDS });
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
    action: x.recordedAction ?? x.action,
    decision: d
      ? {
          effect: d.effect,
          rules: d.rules,
          message: d.message,
          ...(d.defaulted ? { defaulted: true } : {}),
          ...(d.mask?.secrets === 'clear' ? { unmasked: ['secrets'] } : {}),
          ...(d.mask?.detectors?.length ? { maskDetectors: d.mask.detectors } : {}),
        }
      : undefined,
    request: x.recordedRequest,
    data: { protocol: x.protocol, ...x.facts, ...(d?.errors?.length ? { ruleErrors: d.errors } : {}), ...data },
  };
}

const readVerbs = new Set(['get', 'list', 'watch']);

/** isRead: the action cannot change anything upstream (a dry-run or a plain read). */
export function isRead(x: Exchange): boolean {
  const verb = x.action?.verb;
  if (!verb || !readVerbs.has(verb)) return false;
  // Streaming subresources read as `get` but open a shell or a tunnel: record them first.
  const sub = x.action?.subresource;
  return sub !== 'exec' && sub !== 'attach' && sub !== 'portforward' && sub !== 'proxy';
}

/** withRecording records the decided request (now, or with its first answer for reads) and forwards it. */
export function withRecording<X extends Exchange>(adapter: ProtocolAdapter<X>, deps: RecordingDeps): Stage<X> {
  return async function recording(x: X): Promise<Refusal | void> {
    // The request entry still to be written with the first answer (reads only).
    let pending: EntryInput | undefined = requestEntry(x, { outcome: 'forwarded' });
    if (!isRead(x)) {
      try {
        await deps.ledger.append(pending);
      } catch (err) {
        return ledgerUnavailable(describe(err));
      }
      pending = undefined;
    } else {
      // A read is recorded with its answer. While the ledger is known not to write (failing
      // closed) that answer could never be released, so the cluster is not asked at all: its
      // audit log would show a read airlock has no entry for. The refusal is itself appended,
      // which is how the ledger finds out that it can write again.
      const health = deps.ledger.health();
      if (!health.writable && !health.failOpen) return ledgerUnavailable(health.lastError ?? 'the ledger cannot write');
    }
    const base = { sessionId: x.sessionId, identity: recordedIdentity(x), connection: x.connection };
    // Appended in the same turn, both entries land in one group commit (one fsync).
    const withPending = (entry: EntryInput): Promise<unknown> => {
      if (!pending) return deps.ledger.append(entry);
      const first = deps.ledger.append(pending);
      pending = undefined;
      return Promise.all([first, deps.ledger.append(entry)]);
    };
    let sequence = 0;
    const recorder: ResponseRecorder = {
      async response({ status, body, data }) {
        const durationMs = Number(process.hrtime.bigint() - x.startedAt) / 1e6;
        await withPending({ ...base, type: 'response', response: body, data: { requestId: x.id, status, durationMs: Math.round(durationMs * 1000) / 1000, ...data } });
      },
      async stream({ body, data }) {
        await withPending({ ...base, type: 'stream', response: body, data: { requestId: x.id, part: ++sequence, ...data } });
      },
    };
    try {
      await adapter.forward(x, recorder);
    } finally {
      // An adapter that failed before answering still leaves the request in the ledger.
      if (pending) await deps.ledger.append(pending).catch(() => undefined);
    }
  };
}

function describe(err: unknown): string {
  return isAirlockError(err) ? `${err.message} [${err.code}]` : err instanceof Error ? err.message : String(err);
}
