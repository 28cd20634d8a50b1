/**
 * ExecSession observes one exec or attach stream relayed over WebSocket: it decodes each
 * channel message, masks secrets in stdout and stderr before the client sees them, records
 * stdin, stdout, stderr, resizes and the exit status with time offsets as a terminal session
 * (what is typed at a password prompt only as a marker: secret-prompt.ts), and reads the exit status from the error channel. It decides nothing and opens no socket:
 * websocket-relay.ts carries the bytes, the gateway records the batches it emits.
 *
 * A `kubectl cp` (the command is `tar` to or from the standard streams, see tar-command.ts) is
 * recorded as a file transfer instead: the archive is read as it passes (transfer-listing.ts)
 * and listed in the final entry, but neither recorded as terminal text nor masked (masking would
 * corrupt the archive; whether a copy may happen at all is policy's decision). Its other
 * channels — stderr, the exit status — are recorded as usual.
 *
 * Limits (session-limits.ts): when the session has been idle too long, has lasted too long or
 * the caller's token expires, airlock tells the client why on the error channel (a Failure
 * Status from v4 on, plain text before), closes both legs and records the reason.
 *
 * Terminal frames are recorded in batches as they pass, not held until each batch is durable
 * (an interactive shell cannot wait for a disk flush per keystroke); the session's final entry
 * is written after its last batch, before the stream is reported closed.
 */
import { TerminalRecorder, type RecordedEvent } from '../../../evidence/terminal-recording.js';
import { createStreamMasker, type StreamMasker } from '../../../masking/stream-masker.js';
import type { Detector } from '../../../masking/detectors/detector.js';
import {
  decodeChannelMessage,
  encodeChannelMessage,
  ErrorChannelReader,
  negotiateSubprotocol,
  ResizeDecoder,
  type ChannelProtocol,
  type ExecStatus,
} from './channel/index.js';
import { limitMessage, startSessionLimits, type LimitReason, type SessionLimiter, type SessionLimitsConfig } from './session-limits.js';
import { recordTyped, SecretPromptGuard } from './secret-prompt.js';
import type { TransferDirection } from './tar-command.js';
import { TransferListing, type TransferSummary } from './transfer-listing.js';
import type { CloseRelay, Inject, RelayDirection, RelayObserver } from './websocket-relay.js';

/** How long masked output may wait for the rest of a possible secret before it is released. */
export const IDLE_FLUSH_MS = 50;

/** How often a quiet session hands its pending events to the ledger. */
export const BATCH_INTERVAL_MS = 1000;

/** Session limits for one stream, with the caller's token expiry (ms since the epoch). */
export interface ExecLimits extends SessionLimitsConfig {
  tokenExpiresAtMs?: number;
  /** The end of the approval window that let the session open, when one did. */
  approvalEndsAtMs?: number;
  /** Aborted when airlock shuts down past its drain deadline. */
  shutdown?: AbortSignal;
}

export interface ExecSessionOptions {
  /** The subprotocols the client offered (without a bearer token). */
  offered: string[];
  detectors: readonly Detector[];
  /** Receives each batch of terminal events, in order. */
  onBatch(events: RecordedEvent[]): void;
  /**
   * Called once when the stream has ended, after the last batch; a returned promise (the
   * recording's end) holds the client's close until it settles.
   */
  onEnd(summary: ExecSummary): void | Promise<void>;
  /** Set when the command is `tar` on the standard streams (kubectl cp): which way the archive goes. */
  transfer?: TransferDirection;
  /** Idle, duration and token limits; none when absent. */
  limits?: ExecLimits;
  now?: () => number;
}

export interface ExecSummary {
  protocol: string;
  /** `airlock`: a session limit ended it (see `limit`). */
  closedBy: 'client' | 'upstream' | 'error' | 'airlock';
  code: number;
  exit?: ExecStatus;
  error?: string;
  bytes: { stdin: number; stdout: number; stderr: number };
  transfer?: TransferSummary;
  /** Which limit ended the session, and the sentence the client was sent. */
  limit?: { reason: LimitReason; message: string };
}

type OutputChannel = 'stdout' | 'stderr';

/** The exec session as the relay sees it, plus `end`: airlock ends it itself (the recording failed). */
export interface ExecObserver extends RelayObserver {
  /** end tells the client why on the error channel, closes both legs and records the reason. */
  end(reason: LimitReason): void;
}

export function createExecSession(options: ExecSessionOptions): ExecObserver {
  let protocol: ChannelProtocol | undefined;
  let inject: Inject | undefined;
  const recorder = new TerminalRecorder({ onBatch: options.onBatch, ...(options.now ? { now: options.now } : {}) });
  const replacement = (kind: string) => `[masked ${kind}]`;
  const maskers: Record<OutputChannel | 'stdin', StreamMasker> = {
    stdout: createStreamMasker({ detectors: options.detectors, replacement }),
    stderr: createStreamMasker({ detectors: options.detectors, replacement }),
    stdin: createStreamMasker({ detectors: options.detectors, replacement }),
  };
  const timers: Partial<Record<OutputChannel | 'stdin', NodeJS.Timeout>> = {};
  const resizes = new ResizeDecoder();
  let errors: ErrorChannelReader | undefined;
  const bytes = { stdin: 0, stdout: 0, stderr: 0 };
  let ticker: NodeJS.Timeout | undefined;
  let closeRelay: CloseRelay | undefined;
  let limiter: SessionLimiter | undefined;
  let limitHit: { reason: LimitReason; message: string } | undefined;
  // The tar archive travels on stdout for a download and on stdin for an upload.
  const listing = options.transfer ? new TransferListing(options.transfer) : undefined;
  const tarChannel = listing?.channel;

  const kindOf = { stdout: 'o', stderr: 'e', stdin: 'i' } as const;
  const prompts = new SecretPromptGuard();

  /** release sends masked output held back for a possible secret once the stream pauses. */
  const scheduleFlush = (channel: OutputChannel | 'stdin') => {
    if (timers[channel]) clearTimeout(timers[channel]);
    timers[channel] = setTimeout(() => {
      delete timers[channel];
      const out = maskers[channel].flush();
      if (out.length === 0 || !protocol) return;
      recorder.output(kindOf[channel], out);
      if (channel !== 'stdin') {
        const encoded = encodeChannelMessage({ channel, bytes: out }, protocol);
        inject?.('upstream-to-client', encoded.data, encoded.binary);
      }
    }, IDLE_FLUSH_MS);
    timers[channel].unref();
  };

  return {
    end(reason) {
      endForLimit(reason, options.limits ?? { idleTimeoutMs: 0, maxDurationMs: 0 });
    },

    accept(chosen) {
      try {
        const info = negotiateSubprotocol(options.offered, chosen, 'remotecommand');
        if (info.kind !== 'channel') return `airlock cannot read "${chosen}" for exec`;
        protocol = info;
        errors = new ErrorChannelReader(info.version);
        return undefined;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    },

    open(_chosen, send, close) {
      inject = send;
      closeRelay = close;
      recorder.start();
      ticker = setInterval(() => {
        const batch = recorder.flush();
        if (batch.length > 0) options.onBatch(batch);
      }, BATCH_INTERVAL_MS);
      ticker.unref();
      const limits = options.limits;
      if (limits) limiter = startSessionLimits({ ...limits, onLimit: (reason) => endForLimit(reason, limits) });
    },

    message(direction: RelayDirection, data: Buffer) {
      if (!protocol) throw new Error('a message arrived before the subprotocol was accepted');
      const msg = decodeChannelMessage(data, protocol);
      limiter?.activity();
      if (listing && msg.channel === listing.channel) {
        // The archive passes as it is, listed, neither masked nor recorded as text.
        bytes[listing.channel] += msg.bytes.length;
        listing.push(msg.bytes);
        return data;
      }
      if (direction === 'client-to-upstream') {
        if (msg.channel === 'stdin') {
          bytes.stdin += msg.bytes.length;
          // The recorded copy of what was typed is masked (an answer to a password prompt is
          // only a marker); the cluster gets the keystrokes as typed.
          if (recordTyped(prompts, maskers.stdin, msg.bytes, (b) => recorder.output('i', b))) scheduleFlush('stdin');
        } else if (msg.channel === 'resize') {
          for (const size of resizes.push(msg.bytes)) recorder.resize(size.width, size.height);
        }
        return data;
      }
      if (msg.channel === 'stdout' || msg.channel === 'stderr') {
        bytes[msg.channel] += msg.bytes.length;
        prompts.output(msg.bytes);
        const out = maskers[msg.channel].push(msg.bytes);
        scheduleFlush(msg.channel);
        if (out.length === 0) return null;
        recorder.output(kindOf[msg.channel], out);
        // Nothing masked or held back: the message goes on as it came, not encoded again.
        if (out.length === msg.bytes.length && out.buffer === msg.bytes.buffer && out.byteOffset === msg.bytes.byteOffset) return data;
        return encodeChannelMessage({ channel: msg.channel, bytes: out }, protocol).data;
      }
      if (msg.channel === 'error') errors?.push(msg.bytes);
      return data;
    },

    closed(result) {
      if (ticker) clearInterval(ticker);
      limiter?.stop();
      for (const channel of ['stdin', 'stdout', 'stderr'] as const) {
        if (timers[channel]) clearTimeout(timers[channel]);
        const rest = maskers[channel].flush();
        if (rest.length > 0) recorder.output(kindOf[channel], rest);
      }
      let exit: ExecStatus | undefined;
      try {
        exit = errors?.finish();
      } catch {
        exit = undefined;
      }
      // A limit airlock enforced is how the session ended, whatever the cluster said after it.
      if (limitHit) exit = { outcome: 'failure', message: limitHit.message, reason: limitHit.reason };
      if (exit) recorder.exit(exit.outcome === 'failure' ? { message: exit.message } : { exitCode: exit.exitCode });
      const last = recorder.close();
      if (last.length > 0) options.onBatch(last);
      return options.onEnd({
        protocol: protocol?.name ?? '',
        closedBy: result.by,
        code: result.code,
        ...(exit ? { exit } : {}),
        ...(result.error ? { error: result.error } : {}),
        bytes,
        ...(listing ? { transfer: listing.summary() } : {}),
        ...(limitHit ? { limit: limitHit } : {}),
      });
    },
  };

  /**
   * endForLimit releases output held for masking, tells the client why on the error channel,
   * then closes both legs; `closed` records the reason.
   */
  function endForLimit(reason: LimitReason, limits: SessionLimitsConfig): void {
    if (limitHit || !protocol) return;
    limitHit = { reason, message: limitMessage(reason, limits) };
    for (const channel of ['stdout', 'stderr'] as const) {
      if (channel === tarChannel) continue;
      if (timers[channel]) clearTimeout(timers[channel]);
      delete timers[channel];
      const out = maskers[channel].flush();
      if (out.length === 0) continue;
      recorder.output(kindOf[channel], out);
      const encoded = encodeChannelMessage({ channel, bytes: out }, protocol);
      inject?.('upstream-to-client', encoded.data, encoded.binary);
    }
    const status = protocol.version >= 4 ? limitStatus(reason, limitHit.message) : Buffer.from(limitHit.message);
    const encoded = encodeChannelMessage({ channel: 'error', bytes: status }, protocol);
    inject?.('upstream-to-client', encoded.data, encoded.binary);
    closeRelay?.(1000, limitHit.message);
  }
}

/** limitStatus is the metav1 Status a v4+ client reads from the error channel. */
function limitStatus(reason: LimitReason, message: string): Buffer {
  const [code, statusReason] =
    reason === 'token-expired'
      ? [401, 'Unauthorized']
      : reason === 'approval-ended'
        ? [403, 'Forbidden']
        : reason === 'shutdown' || reason === 'unrecorded'
          ? [503, 'ServiceUnavailable']
          : [504, 'Timeout'];
  return Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: statusReason, code }));
}
