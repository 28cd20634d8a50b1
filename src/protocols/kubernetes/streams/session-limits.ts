/**
 * Session limits for exec, attach and port-forward streams: a session ends when it has been
 * quiet for the idle timeout, when it reaches its maximum duration, when the caller's token
 * expires, or when the approval window that let it open closes — a stream must not outlive
 * the credential or the approval that opened it. One timer is armed for
 * the nearest deadline; activity only moves a timestamp, so a busy stream costs no timer work
 * per message. `nextLimit` is the pure part; `startSessionLimits` arms the timer.
 */
import { formatDuration } from '../../../config/duration.js';

/** Why airlock ended a stream itself; `unrecorded`: the ledger could not record it, and airlock fails closed. */
export type LimitReason = 'idle' | 'max-duration' | 'token-expired' | 'approval-ended' | 'shutdown' | 'unrecorded';

export interface SessionLimitsConfig {
  /** Milliseconds without a message in either direction. */
  idleTimeoutMs: number;
  /** Milliseconds from the start, whatever happens. */
  maxDurationMs: number;
}

export interface LimitClock {
  /** When the session started (ms, the limiter's clock). */
  startedAt: number;
  /** The last message in either direction (ms). */
  lastActivity: number;
  /** When the caller's token expires (ms), if it does. */
  expiresAt?: number;
  /** When the approval window that let the session open closes (ms), if one did. */
  approvalEndsAt?: number;
}

/** The longest single setTimeout delay Node accepts; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * nextLimit gives the nearest deadline and its reason; when several fall at the same moment
 * the token's expiry wins (it is the reason a caller most needs to read).
 */
export function nextLimit(config: SessionLimitsConfig, clock: LimitClock): { at: number; reason: LimitReason } {
  const candidates: Array<{ at: number; reason: LimitReason }> = [];
  if (clock.expiresAt !== undefined) candidates.push({ at: clock.expiresAt, reason: 'token-expired' });
  if (clock.approvalEndsAt !== undefined) candidates.push({ at: clock.approvalEndsAt, reason: 'approval-ended' });
  candidates.push({ at: clock.startedAt + config.maxDurationMs, reason: 'max-duration' });
  candidates.push({ at: clock.lastActivity + config.idleTimeoutMs, reason: 'idle' });
  let best = candidates[0]!;
  for (const c of candidates) if (c.at < best.at) best = c;
  return best;
}

/** limitMessage is the plain sentence the client sees on the error channel and the record keeps. */
export function limitMessage(reason: LimitReason, config: SessionLimitsConfig): string {
  switch (reason) {
    case 'token-expired':
      return 'airlock ended the session: the token expired';
    case 'approval-ended':
      return 'airlock ended the session: the approval window that allowed it closed';
    case 'shutdown':
      return 'airlock ended the session: it is shutting down; connect again to continue';
    case 'unrecorded':
      return 'airlock ended the session: it could not record it (the ledger cannot write), and nothing passes unrecorded';
    case 'idle':
      return `airlock ended the session: nothing was sent either way for ${formatDuration(config.idleTimeoutMs)} (streams.idleTimeout)`;
    case 'max-duration':
      return `airlock ended the session: it reached the longest session allowed, ${formatDuration(config.maxDurationMs)} (streams.maxDuration)`;
  }
}

export interface SessionLimiter {
  /** activity notes a message in either direction. */
  activity(): void;
  /** stop disarms the timer; a stopped limiter never calls onLimit. */
  stop(): void;
}

export interface StartSessionLimitsOptions extends SessionLimitsConfig {
  /** The token's expiry, milliseconds since the epoch (Identity.expiresAt × 1000). */
  tokenExpiresAtMs?: number;
  /** The end of the approval window the session was let through by (ms since the epoch). */
  approvalEndsAtMs?: number;
  /** Aborted when airlock shuts down and the drain deadline has passed: the session ends then. */
  shutdown?: AbortSignal;
  onLimit(reason: LimitReason): void;
  /** Monotonic milliseconds; default performance.now. */
  now?: () => number;
  /** Wall-clock milliseconds, to place the token's expiry; default Date.now. */
  wallNow?: () => number;
}

/** startSessionLimits arms the limits from now; onLimit is called at most once. */
export function startSessionLimits(options: StartSessionLimitsOptions): SessionLimiter {
  const now = options.now ?? (() => performance.now());
  const wallNow = options.wallNow ?? Date.now;
  const startedAt = now();
  const clock: LimitClock = { startedAt, lastActivity: startedAt };
  if (options.tokenExpiresAtMs !== undefined) clock.expiresAt = startedAt + (options.tokenExpiresAtMs - wallNow());
  if (options.approvalEndsAtMs !== undefined) clock.approvalEndsAt = startedAt + (options.approvalEndsAtMs - wallNow());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const arm = () => {
    if (stopped) return;
    const next = nextLimit(options, clock);
    const delay = next.at - now();
    if (delay <= 0) {
      stopped = true;
      options.onLimit(next.reason);
      return;
    }
    // A stream that is still open holds the process anyway; the timer must not add to it.
    timer = setTimeout(arm, Math.min(Math.ceil(delay), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  const onShutdown = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    options.onLimit('shutdown');
  };
  if (options.shutdown?.aborted) onShutdown();
  else options.shutdown?.addEventListener('abort', onShutdown, { once: true });

  return {
    activity() {
      clock.lastActivity = now();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      options.shutdown?.removeEventListener('abort', onShutdown);
    },
  };
}
