/**
 * Small pieces every stream forwarder (exec, attach, port-forward; WebSocket or SPDY) shares:
 * the limits of a session, recording the cluster's refusal of an upgrade, and feeding a
 * session's limits with the activity its relay observes.
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import type { KubeExchange, UpstreamTarget } from '../kube-exchange.js';
import type { SessionLimiter, SessionLimitsConfig } from './session-limits.js';
import type { SpdyRelayObserver } from './spdy-relay.js';
import type { RelayObserver } from './websocket-relay.js';

/** The limits of one stream session. */
export interface StreamLimits extends SessionLimitsConfig {
  tokenExpiresAtMs: number;
  approvalEndsAtMs?: number;
  shutdown?: AbortSignal;
}

/**
 * sessionLimitsOf: the connection's idle and maximum durations, the caller's token expiry, the
 * close of the approval window that let the stream open, and airlock's own shutdown.
 */
export function sessionLimitsOf(x: KubeExchange): StreamLimits {
  const streams = x.conn!.config.streams;
  return {
    idleTimeoutMs: streams.idleTimeout,
    maxDurationMs: streams.maxDuration,
    tokenExpiresAtMs: x.identity!.expiresAt * 1000,
    ...(x.approvalEndsAtMs !== undefined ? { approvalEndsAtMs: x.approvalEndsAtMs } : {}),
    ...(x.shutdown ? { shutdown: x.shutdown } : {}),
  };
}

/**
 * recordRefusedUpgrade records the cluster's (or the handshake's) "no" to an upgrade, whose
 * answer already went back to the client unchanged. A ledger failure here loses no access: the
 * stream never opened. A 401 is the cluster refusing airlock's own credential: one that can be
 * renewed (an exec plugin's token) is, before the refusal is recorded, so the client's next
 * attempt goes through (an upgrade is not sent again: its client already has the answer).
 */
export async function recordRefusedUpgrade(record: ResponseRecorder, start: { status: number; body: Buffer; error?: string }, upstream: Pick<UpstreamTarget, 'renew'>): Promise<void> {
  if (start.status === 401) await upstream.renew();
  await record
    .response({ status: start.status, body: { contentType: 'application/json', body: start.body }, ...(start.error ? { data: { error: start.error } } : {}) })
    .catch(() => undefined);
}

/** spdyWithActivity passes every frame through `observer` and notes it as activity for the limits. */
export function spdyWithActivity(observer: SpdyRelayObserver, limiter: Pick<SessionLimiter, 'activity'>): SpdyRelayObserver {
  return {
    accept: (protocol) => observer.accept(protocol),
    open: (protocol, inject) => observer.open(protocol, inject),
    frame: (item) => {
      limiter.activity();
      return observer.frame(item);
    },
    closed: (result) => observer.closed(result),
  };
}

/** webSocketWithActivity passes every message through `observer` and notes it as activity for the limits. */
export function webSocketWithActivity(observer: RelayObserver, limiter: Pick<SessionLimiter, 'activity'>): RelayObserver {
  return {
    accept: (protocol) => observer.accept(protocol),
    open: (protocol, inject, close) => observer.open(protocol, inject, close),
    message: (direction, data, binary) => {
      limiter.activity();
      return observer.message(direction, data, binary);
    },
    closed: (result) => observer.closed(result),
  };
}
