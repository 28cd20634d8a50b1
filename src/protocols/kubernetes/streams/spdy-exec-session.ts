/**
 * SpdyExecSession observes one exec or attach connection relayed over SPDY/3.1 and records it
 * exactly as exec-session.ts records the WebSocket one: the same terminal events (stdin masked,
 * stdout and stderr masked, resizes, the exit status from the error stream), the same batches
 * and the same summary. Stream types come from the `streamtype` header of each SYN_STREAM.
 *
 * Only DATA frames of stdout and stderr are rewritten, re-framed with the masked payload's
 * length; header frames pass as received, because their zlib history is shared by the peers and
 * a rewritten block would desynchronise it. Output held back for a possible secret is released
 * after an idle pause as an extra DATA frame on its stream (DATA frames carry no compression
 * state), and before the stream's FIN, so the client never loses masked output.
 *
 * A `kubectl cp` (`tar` on the standard streams, see tar-command.ts) is recorded as a file
 * transfer, as on WebSocket: the archive's DATA frames — stdout from the cluster for a download,
 * stdin from the client for an upload — pass as received, are read as tar as they pass
 * (transfer-listing.ts) and listed in the final entry, and are neither masked (masking would
 * corrupt the archive; whether a copy may happen at all is policy's decision) nor recorded as
 * terminal text. The other streams — stderr, the exit status — are recorded as usual; what is
 * not tar on the archive's stream ends the connection.
 *
 * `forwardSpdyExec` is the entry from forward-stream.ts: it dials the cluster through
 * spdy-relay.ts with this observer and writes the batches and the final entry to the ledger.
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import { TerminalRecorder, type RecordedEvent } from '../../../evidence/terminal-recording.js';
import { createStreamMasker, type StreamMasker } from '../../../masking/stream-masker.js';
import type { Detector } from '../../../masking/detectors/detector.js';
import { ErrorChannelReader, negotiateSubprotocol, ResizeDecoder, type ExecStatus } from './channel/index.js';
import { encodeDataFrame } from './spdy/spdy-frame-encoder.js';
import type { SessionItem } from './spdy/spdy-session.js';
import type { KubeExchange } from '../kube-exchange.js';
import { upstreamHeaders } from '../upstream-headers.js';
import { upstreamPath } from '../upstream/index.js';
import { relaySpdy, type SpdyInject, type SpdyRelayObserver } from './spdy-relay.js';
import { limitMessage, startSessionLimits, type LimitReason } from './session-limits.js';
import { recordTyped, SecretPromptGuard } from './secret-prompt.js';
import { detectTarTransfer, type TransferDirection } from './tar-command.js';
import { TransferListing, type TransferSummary } from './transfer-listing.js';
import { SessionLedger, terminalBatch, type StreamSessionDeps } from './session-ledger.js';
import { recordRefusedUpgrade, sessionLimitsOf, spdyWithActivity } from './stream-recording.js';

/** How long masked output may wait for the rest of a possible secret (as exec-session.ts). */
export const SPDY_IDLE_FLUSH_MS = 50;

/** How often a quiet session hands its pending events to the ledger (as exec-session.ts). */
export const SPDY_BATCH_INTERVAL_MS = 1000;

/** The stream types a remotecommand client opens; any other ends the connection unread. */
const execStreamTypes = new Set(['error', 'stdin', 'stdout', 'stderr', 'resize']);

export interface SpdyExecSessionOptions {
  /** The `X-Stream-Protocol-Version` values the client offered. */
  offered: string[];
  detectors: readonly Detector[];
  /** Receives each batch of terminal events, in order; a promise says when it is recorded. */
  onBatch(events: RecordedEvent[]): void | Promise<unknown>;
  onEnd(summary: SpdyExecSummary): void;
  /** Set when the command is `tar` on the standard streams (kubectl cp): which way the archive goes. */
  transfer?: TransferDirection;
  now?: () => number;
}

/** The same shape as ExecSummary, with `code` 0: SPDY has no close code. */
export interface SpdyExecSummary {
  protocol: string;
  transport: 'spdy';
  closedBy: 'client' | 'upstream' | 'error';
  code: number;
  exit?: ExecStatus;
  error?: string;
  bytes: { stdin: number; stdout: number; stderr: number };
  transfer?: TransferSummary;
}

type Masked = 'stdout' | 'stderr' | 'stdin';

/** An SPDY exec observer that can also end the session itself with a Status the client reads. */
export interface SpdyExecObserver extends SpdyRelayObserver {
  /** endWithStatus sends a Failure Status on the error stream (kubectl prints its message); false when there is none yet. */
  endWithStatus(message: string): boolean;
}

export function createSpdyExecSession(options: SpdyExecSessionOptions): SpdyExecObserver {
  let protocol = '';
  let inject: SpdyInject | undefined;
  const recorder = new TerminalRecorder({ onBatch: options.onBatch, ...(options.now ? { now: options.now } : {}) });
  const replacement = (kind: string) => `[masked ${kind}]`;
  const maskers: Record<Masked, StreamMasker> = {
    stdout: createStreamMasker({ detectors: options.detectors, replacement }),
    stderr: createStreamMasker({ detectors: options.detectors, replacement }),
    stdin: createStreamMasker({ detectors: options.detectors, replacement }),
  };
  const kindOf = { stdout: 'o', stderr: 'e', stdin: 'i' } as const;
  const prompts = new SecretPromptGuard();
  const timers: Partial<Record<Masked, NodeJS.Timeout>> = {};
  /** The open stdout/stderr stream ids, for idle flushes; removed at FIN or reset. */
  const outputStream: Partial<Record<'stdout' | 'stderr', number>> = {};
  let errorStream: number | undefined;
  const resizes = new ResizeDecoder();
  const errors = new ErrorChannelReader(4);
  const bytes = { stdin: 0, stdout: 0, stderr: 0 };
  let ticker: NodeJS.Timeout | undefined;
  let exit: ExecStatus | undefined;
  let exitRecorded = false;
  let errorBytes = 0;
  const listing = options.transfer ? new TransferListing(options.transfer) : undefined;
  /** The peer that sends the archive: the cluster's stdout for a download, the client's stdin for an upload. */
  const tarFrom = listing?.channel === 'stdout' ? 'server' : 'client';

  /** readExit records how the command ended once, from everything the error stream carried. */
  const readExit = (complete: boolean) => {
    if (exitRecorded) return;
    exitRecorded = true;
    try {
      // An error stream that never finished and carried nothing says nothing (not "success").
      exit = complete || errorBytes > 0 ? errors.finish() : undefined;
    } catch {
      exit = undefined;
    }
    for (const channel of ['stdin', 'stdout', 'stderr'] as const) {
      const rest = maskers[channel].flush();
      if (rest.length === 0) continue;
      recorder.output(kindOf[channel], rest);
      const id = channel === 'stdin' ? undefined : outputStream[channel];
      if (id !== undefined) inject?.('client', encodeDataFrame(id, rest));
    }
    if (exit) recorder.exit(exit.outcome === 'failure' ? { message: exit.message } : { exitCode: exit.exitCode });
  };

  const scheduleFlush = (channel: Masked) => {
    if (timers[channel]) clearTimeout(timers[channel]);
    timers[channel] = setTimeout(() => {
      delete timers[channel];
      const out = maskers[channel].flush();
      if (out.length === 0) return;
      recorder.output(kindOf[channel], out);
      if (channel === 'stdin') return;
      const id = outputStream[channel];
      if (id !== undefined) inject?.('client', encodeDataFrame(id, out));
    }, SPDY_IDLE_FLUSH_MS);
    timers[channel].unref();
  };

  /** output masks one stdout/stderr DATA frame and returns the frame(s) to send, or null. */
  const output = (channel: 'stdout' | 'stderr', id: number, data: Uint8Array, fin: boolean): Uint8Array | null => {
    bytes[channel] += data.length;
    prompts.output(data);
    let out = maskers[channel].push(data);
    if (fin) {
      if (timers[channel]) clearTimeout(timers[channel]);
      delete timers[channel];
      delete outputStream[channel];
      out = Buffer.concat([out, maskers[channel].flush()]);
    } else {
      scheduleFlush(channel);
    }
    if (out.length > 0) recorder.output(kindOf[channel], out);
    if (out.length === 0 && !fin) return null;
    return encodeDataFrame(id, out, { fin });
  };

  return {
    accept(chosen) {
      try {
        const info = negotiateSubprotocol(options.offered, chosen, 'remotecommand');
        // Over SPDY only v4 carries a Status airlock reads the exit code from; the API server picks it.
        if (info.kind !== 'channel' || info.version !== 4) return `airlock cannot read "${chosen}" for exec over SPDY`;
        protocol = info.name;
        return undefined;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    },

    open(_chosen, send) {
      inject = send;
      recorder.start();
      ticker = setInterval(() => {
        const batch = recorder.flush();
        if (batch.length > 0) options.onBatch(batch);
      }, SPDY_BATCH_INTERVAL_MS);
      ticker.unref();
    },

    endWithStatus(message: string) {
      if (errorStream === undefined || !inject) return false;
      // DATA frames carry no compressed headers, so one composed by airlock is safe to add.
      const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Timeout', code: 500 });
      inject('client', encodeDataFrame(errorStream, Buffer.from(status), { fin: true }));
      return true;
    },

    frame(item: SessionItem) {
      let out: Uint8Array | null = item.raw;
      for (const event of item.events) {
        if (event.kind === 'stream-open') {
          const type = event.stream.streamType;
          if (type === undefined || !execStreamTypes.has(type)) throw new Error(`exec opened a stream of type "${type ?? ''}", which airlock cannot read`);
          if (type === 'stdout' || type === 'stderr') outputStream[type] = event.stream.id;
          if (type === 'error') errorStream = event.stream.id;
        } else if (event.kind === 'stream-reset' || event.kind === 'stream-closed') {
          if (event.streamType === 'stdout' || event.streamType === 'stderr') {
            if (outputStream[event.streamType] === event.id) delete outputStream[event.streamType];
          }
        } else if (event.kind === 'data' && !event.late) {
          const type = event.streamType;
          if (listing && type === listing.channel && event.from === tarFrom) {
            // The archive passes as it is, listed, neither masked nor recorded as text.
            bytes[listing.channel] += event.bytes.length;
            listing.push(event.bytes);
            if (event.fin && type === 'stdout' && outputStream.stdout === event.id) delete outputStream.stdout;
          } else if (event.from === 'client') {
            if (type === 'stdin') {
              bytes.stdin += event.bytes.length;
              // The recorded copy of what was typed is masked (an answer to a password prompt is
              // only a marker); the cluster gets the keystrokes as typed.
              if (recordTyped(prompts, maskers.stdin, event.bytes, (b) => recorder.output('i', b))) scheduleFlush('stdin');
            } else if (type === 'resize') {
              for (const size of resizes.push(event.bytes)) recorder.resize(size.width, size.height);
            }
          } else if (type === 'stdout' || type === 'stderr') {
            out = output(type, event.id, event.bytes, event.fin);
          } else if (type === 'error') {
            errors.push(event.bytes);
            errorBytes += event.bytes.length;
            if (event.fin) {
              // The exit status reaches the client only once it is recorded with the output before it.
              readExit(true);
              const recorded = options.onBatch(recorder.flush());
              if (recorded instanceof Promise) return recorded.then(() => out);
            }
          }
        }
      }
      return out;
    },

    closed(result) {
      if (ticker) clearInterval(ticker);
      for (const channel of ['stdin', 'stdout', 'stderr'] as const) if (timers[channel]) clearTimeout(timers[channel]);
      readExit(false);
      const last = recorder.close();
      if (last.length > 0) options.onBatch(last);
      options.onEnd({
        protocol,
        transport: 'spdy',
        closedBy: result.by,
        code: 0,
        ...(exit ? { exit } : {}),
        ...(result.error ? { error: result.error } : {}),
        bytes,
        ...(listing ? { transfer: listing.summary() } : {}),
      });
    },
  };
}

/**
 * forwardSpdyExec relays an admitted SPDY/3.1 exec or attach upgrade and records it as a terminal
 * session: `stream` entries per batch, then a `response` entry (101, exit status, byte counts,
 * and for a `kubectl cp` the transfer: direction and files);
 * a cluster's refusal is recorded as its status and body. Resolves once the stream is recorded.
 */
export async function forwardSpdyExec(x: KubeExchange, record: ResponseRecorder, deps: StreamSessionDeps): Promise<void> {
  const { conn, req } = x;
  if (!conn || x.target === undefined || !x.identity || !x.upgradeSocket) throw new Error('forwardSpdyExec needs an admitted upgrade');
  const offered = [req.headers['x-stream-protocol-version'] ?? []].flat().flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const headers = upstreamHeaders(req.headers, {
    authorization: conn.upstream.authorization(),
    impersonation: x.impersonation ?? conn.impersonate(x.identity),
    auditId: x.id,
  });
  // Detach the socket from the placeholder HTTP response: the relay owns it from here on.
  x.res.detachSocket(x.upgradeSocket as never);

  // Session limits: past the idle time, the maximum duration or the caller's token expiry the
  // connection is cut (SPDY has no frame airlock could add without corrupting the shared header
  // compression), and the recording is closed with the reason.
  const limits = sessionLimitsOf(x);
  let limitHit: { reason: LimitReason; message: string } | undefined;
  let inner: SpdyExecObserver | undefined;
  const endSession = (reason: LimitReason) => {
    if (limitHit) return;
    limitHit = { reason, message: limitMessage(reason, limits) };
    // Tell the client why (kubectl prints it), then cut both legs once that frame is written.
    inner?.endWithStatus(limitHit.message);
    setTimeout(() => x.upgradeSocket?.destroy(), 100).unref();
  };
  const limiter = startSessionLimits({ ...limits, onLimit: endSession });

  // `kubectl cp` is an exec of tar on the standard streams: recorded as the files it moved.
  const transfer = x.info?.subresource === 'exec' ? detectTarTransfer(x.action?.command ?? []) : undefined;

  // A batch the ledger refuses ends the stream (fail closed) rather than releasing what follows.
  const ledger = new SessionLedger(record, { unrecorded: () => endSession('unrecorded'), ...(deps.onRecordingHeld ? { onHold: deps.onRecordingHeld } : {}) });
  await new Promise<void>((resolve) => {
    const observer = createSpdyExecSession({
      offered,
      detectors: deps.detectors,
      ...(transfer ? { transfer } : {}),
      onBatch: (events) => (events.length === 0 ? ledger.settled() : ledger.batch(...terminalBatch(events))),
      onEnd: (summary) => {
        limiter.stop();
        void ledger.end({ status: 101, data: { terminal: true, ...summary, ...(limitHit ? { closedBy: 'airlock', limit: limitHit } : {}) } }).then(() => resolve());
      },
    });
    inner = observer;
    const session = spdyWithActivity(observer, limiter);
    relaySpdy({
      socket: x.upgradeSocket!,
      head: x.upgradeHead ?? Buffer.alloc(0),
      upstreamUrl: new URL(upstreamPath(conn.upstream, x.target!), conn.upstream.baseUrl),
      method: req.method ?? 'POST',
      headers,
      tls: conn.upstream.tlsOptions(),
      observer: session,
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
