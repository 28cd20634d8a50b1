/**
 * Forwarding an admitted pods/portforward upgrade: over SPDY/3.1 through spdy-relay.ts, over
 * WebSocket (tunnelled SPDY or channels) through websocket-relay.ts, read and recorded by
 * port-forward-session.ts. The ledger gets `stream` entries with the connections' events, then
 * one `response` entry (101 and the summary: connections, ports, bytes each way, errors, how
 * it ended). Session limits apply as to exec: past them the session is cut and the reason recorded;
 * so is a session whose recording the ledger refuses (fail closed).
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import type { PortForwardEvent } from '../../../evidence/port-forward-recording.js';
import type { KubeExchange } from '../kube-exchange.js';
import { upstreamHeaders } from '../upstream-headers.js';
import { upstreamPath } from '../upstream/index.js';
import { parsePortsQuery } from './channel/index.js';
import { spdyPortForwardObserver, webSocketPortForwardObserver, type PortForwardEnd } from './port-forward-session.js';
import { limitMessage, startSessionLimits, type LimitReason } from './session-limits.js';
import { SessionLedger, type StreamSessionDeps } from './session-ledger.js';
import { relaySpdy } from './spdy-relay.js';
import type { CloseRelay } from './websocket-relay.js';
import { relayWebSocket } from './websocket-relay.js';
import { recordRefusedUpgrade, sessionLimitsOf, spdyWithActivity, webSocketWithActivity } from './stream-recording.js';

const CONTENT_TYPE = 'application/vnd.airlock.port-forward+json';

/**
 * ledgerWriter appends a session's batches and then its final entry, in order (session-ledger.ts:
 * a recording behind the stream holds the relay). A batch the ledger refuses calls `unrecorded`,
 * which ends the session: nothing more passes unrecorded.
 */
function ledgerWriter(record: ResponseRecorder, deps: StreamSessionDeps, unrecorded: () => void) {
  const ledger = new SessionLedger(record, { unrecorded, ...(deps.onRecordingHeld ? { onHold: deps.onRecordingHeld } : {}) });
  return {
    hold: ledger.hold,
    batch(events: PortForwardEvent[]): void {
      if (events.length === 0) return;
      ledger.batch({ contentType: CONTENT_TYPE, body: JSON.stringify(events) }, { portForward: true, events: events.length }).catch(() => undefined);
    },
    end(end: PortForwardEnd, limit: { reason: LimitReason; message: string } | undefined): Promise<void> {
      this.batch(end.events);
      return ledger.end({ status: 101, data: { portForward: true, ...end.summary, ...(limit ? { closedBy: 'airlock', limit } : {}) } });
    },
  };
}

/** forwardWebSocketPortForward relays port-forward over WebSocket; resolves once it is recorded. */
export async function forwardWebSocketPortForward(x: KubeExchange, record: ResponseRecorder, deps: StreamSessionDeps, protocols: string[]): Promise<void> {
  const { conn, req } = x;
  if (!conn || x.target === undefined || !x.identity || !x.upgradeSocket) throw new Error('forwardWebSocketPortForward needs an admitted upgrade');
  const url = new URL(upstreamPath(conn.upstream, x.target), conn.upstream.baseUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  // The channel form needs the ports; a missing or bad list is the cluster's to refuse.
  let ports: number[] = [];
  try {
    ports = parsePortsQuery(url.searchParams.getAll('ports'));
  } catch {
    ports = [];
  }
  x.res.detachSocket(x.upgradeSocket as never);

  const limits = sessionLimitsOf(x);
  let limitHit: { reason: LimitReason; message: string } | undefined;
  let closeRelay: CloseRelay | undefined;
  const endSession = (reason: LimitReason) => {
    if (limitHit) return;
    limitHit = { reason, message: limitMessage(reason, limits) };
    closeRelay?.(1000, limitHit.message);
  };
  const ledger = ledgerWriter(record, deps, () => endSession('unrecorded'));
  const limiter = startSessionLimits({ ...limits, onLimit: endSession });
  await new Promise<void>((resolve) => {
    const inner = webSocketPortForwardObserver({
      offered: protocols,
      ports,
      detectors: deps.detectors,
      capture: conn.config.streams.portForwardCapture,
      onBatch: (events) => ledger.batch(events),
      onOpen: (close) => (closeRelay = close),
      onEnd: (end) => {
        limiter.stop();
        const done = ledger.end(end, limitHit);
        void done.then(resolve);
        return done;
      },
    });
    const observer = webSocketWithActivity(inner, limiter);
    relayWebSocket({
      req,
      socket: x.upgradeSocket!,
      head: x.upgradeHead ?? Buffer.alloc(0),
      upstreamUrl: url.href,
      protocols,
      headers: upstreamHeaders(req.headers, {
        authorization: conn.upstream.authorization(),
        impersonation: x.impersonation ?? conn.impersonate(x.identity!),
        auditId: x.id,
      }),
      tls: conn.upstream.tlsOptions(),
      observer,
      hold: ledger.hold,
    }).then(async (start) => {
      if (!start.upgraded) {
        limiter.stop();
        await recordRefusedUpgrade(record, start, conn.upstream);
        resolve();
      }
    }, () => resolve());
  });
}

/** forwardSpdyPortForward relays port-forward over SPDY/3.1; resolves once it is recorded. */
export async function forwardSpdyPortForward(x: KubeExchange, record: ResponseRecorder, deps: StreamSessionDeps): Promise<void> {
  const { conn, req } = x;
  if (!conn || x.target === undefined || !x.identity || !x.upgradeSocket) throw new Error('forwardSpdyPortForward needs an admitted upgrade');
  const headers = upstreamHeaders(req.headers, {
    authorization: conn.upstream.authorization(),
    impersonation: x.impersonation ?? conn.impersonate(x.identity),
    auditId: x.id,
  });
  x.res.detachSocket(x.upgradeSocket as never);

  const limits = sessionLimitsOf(x);
  let limitHit: { reason: LimitReason; message: string } | undefined;
  const endSession = (reason: LimitReason) => {
    if (limitHit) return;
    // SPDY port-forward has no stream to tell the client why: the connection is cut and the
    // reason recorded.
    limitHit = { reason, message: limitMessage(reason, limits) };
    x.upgradeSocket?.destroy();
  };
  const ledger = ledgerWriter(record, deps, () => endSession('unrecorded'));
  const limiter = startSessionLimits({ ...limits, onLimit: endSession });
  await new Promise<void>((resolve) => {
    const inner = spdyPortForwardObserver({
      detectors: deps.detectors,
      capture: conn.config.streams.portForwardCapture,
      onBatch: (events) => ledger.batch(events),
      onEnd: (end) => {
        limiter.stop();
        void ledger.end(end, limitHit).then(resolve);
      },
    });
    const observer = spdyWithActivity(inner, limiter);
    relaySpdy({
      socket: x.upgradeSocket!,
      head: x.upgradeHead ?? Buffer.alloc(0),
      upstreamUrl: new URL(upstreamPath(conn.upstream, x.target!), conn.upstream.baseUrl),
      method: req.method ?? 'POST',
      headers,
      tls: conn.upstream.tlsOptions(),
      observer,
      hold: ledger.hold,
    }).then(async (start) => {
      if (!start.upgraded) {
        limiter.stop();
        await recordRefusedUpgrade(record, start, conn.upstream);
        resolve();
      }
    }, () => resolve());
  });
}
