/**
 * Forwarding an upgrade request (exec, attach, port-forward). exec and attach — over WebSocket
 * (websocket-relay.ts) or SPDY/3.1 (spdy-relay.ts) — are relayed, masked and recorded as
 * terminal sessions (`kubectl cp` as a file transfer); port-forward, in each of its forms, is
 * relayed and recorded connection by connection (forward-port-forward.ts). Any other stream
 * (a proxy upgrade) is refused with a plain message, never passed unread. Every stream is masked
 * with the gateway's detectors plus those the request's decision adds (request-detectors.ts).
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import type { KubeExchange } from '../kube-exchange.js';
import { statusFailure, statusResponse } from '../status.js';
import { upstreamHeaders } from '../upstream-headers.js';
import { upstreamPath } from '../upstream/index.js';
import { parseSubprotocolHeader, splitBearerSubprotocol } from './channel/index.js';
import { createExecSession } from './exec-session.js';
import { detectTarTransfer } from './tar-command.js';
import { relayWebSocket } from './websocket-relay.js';
import { forwardSpdyExec } from './spdy-exec-session.js';
import { forwardSpdyPortForward, forwardWebSocketPortForward } from './forward-port-forward.js';
import { noteMaskDetectors, requestDetectors } from './request-detectors.js';
import { SessionLedger, terminalBatch, type StreamSessionDeps } from './session-ledger.js';
import { recordRefusedUpgrade, sessionLimitsOf } from './stream-recording.js';

/** The gateway's stream detectors (a decision may add more for its request) and the hold counter. */
export type StreamDeps = StreamSessionDeps;

/** isWebSocketUpgrade: a GET with `Upgrade: websocket`. */
export function isWebSocketUpgrade(x: KubeExchange): boolean {
  return x.req.method === 'GET' && /\bwebsocket\b/i.test(String(x.req.headers.upgrade ?? ''));
}

/** refuseStream answers an upgrade airlock will not relay with a Status on the raw socket. */
async function refuseStream(x: KubeExchange, record: ResponseRecorder, code: number, message: string): Promise<void> {
  const status = statusResponse(statusFailure({ code, reason: code === 400 ? 'BadRequest' : 'InternalError', message }));
  await record.response({ status: code, data: { error: message } });
  x.res.writeHead(status.statusCode, { ...status.headers, 'audit-id': x.id });
  x.res.end(status.body);
}

export async function forwardStream(x: KubeExchange, gatewayRecord: ResponseRecorder, gatewayDeps: StreamDeps): Promise<void> {
  const { conn, info, req } = x;
  if (!conn || !info || x.target === undefined || !x.identity || !x.upgradeSocket) throw new Error('forwardStream needs an admitted upgrade');
  const deps: StreamDeps = { ...gatewayDeps, detectors: requestDetectors(gatewayDeps.detectors, x.decision) };
  const record = noteMaskDetectors(gatewayRecord, deps.detectors, x.decision);
  const sub = info.subresource;
  if (!isWebSocketUpgrade(x)) {
    if (!/^spdy\/3\.1$/i.test(String(req.headers.upgrade ?? '').trim())) {
      return refuseStream(x, record, 400, `airlock relays streams over WebSocket or SPDY/3.1 only; this client asked for "${String(req.headers.upgrade ?? '')}"`);
    }
    if (sub === 'portforward') return forwardSpdyPortForward(x, record, deps);
    if (sub !== 'exec' && sub !== 'attach') {
      return refuseStream(x, record, 400, `airlock does not relay ${sub || 'this stream'} (only exec, attach and port-forward are recorded), so it was refused`);
    }
    return forwardSpdyExec(x, record, deps);
  }
  const { protocols } = splitBearerSubprotocol(parseSubprotocolHeader(req.headers['sec-websocket-protocol']));
  if (sub === 'portforward') return forwardWebSocketPortForward(x, record, deps, protocols);
  if (sub !== 'exec' && sub !== 'attach') {
    return refuseStream(x, record, 400, `airlock does not relay ${sub || 'this stream'} (only exec, attach and port-forward are recorded), so it was refused`);
  }

  const url = new URL(upstreamPath(conn.upstream, x.target), conn.upstream.baseUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  // Detach the socket from the placeholder HTTP response: the relay owns it from here on.
  x.res.detachSocket(x.upgradeSocket as never);

  // `kubectl cp` is an exec of tar on the standard streams: recorded as the files it moved.
  const transfer = sub === 'exec' ? detectTarTransfer(x.action?.command ?? []) : undefined;
  const limits = sessionLimitsOf(x);

  const ended = new Promise<void>((resolve) => {
    // A batch the ledger refuses ends the session (fail closed): nothing more passes unrecorded.
    const ledger = new SessionLedger(record, { unrecorded: () => session.end('unrecorded'), ...(deps.onRecordingHeld ? { onHold: deps.onRecordingHeld } : {}) });
    const session = createExecSession({
      offered: protocols,
      detectors: deps.detectors,
      ...(transfer ? { transfer } : {}),
      limits,
      onBatch: (events) => void ledger.batch(...terminalBatch(events)).catch(() => undefined),
      onEnd: (summary) => {
        const recorded = ledger.end({ status: 101, data: { terminal: true, transport: 'websocket', ...summary } });
        void recorded.then(() => resolve());
        // The client's leg closes once the session is in the ledger: when kubectl returns, it is recorded.
        return recorded;
      },
    });
    relayWebSocket({
      req,
      socket: x.upgradeSocket!,
      head: x.upgradeHead ?? Buffer.alloc(0),
      upstreamUrl: url.href,
      protocols,
      headers: {
        ...upstreamHeaders(req.headers, {
          authorization: conn.upstream.authorization(),
          impersonation: x.impersonation ?? conn.impersonate(x.identity!),
          auditId: x.id,
        }),
      },
      tls: conn.upstream.tlsOptions(),
      observer: session,
      hold: ledger.hold,
    }).then(async (start) => {
      if (!start.upgraded) {
        await recordRefusedUpgrade(record, start, conn.upstream);
        resolve();
      }
    }, () => resolve());
  });
  await ended;
}
