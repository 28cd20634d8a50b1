import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { limitMessage, nextLimit, startSessionLimits, type LimitClock, type LimitReason } from './session-limits.js';

const config = { idleTimeoutMs: 30 * 60_000, maxDurationMs: 8 * 3600_000 };

const cases: Array<[string, LimitClock, { at: number; reason: LimitReason }]> = [
  ['a fresh session ends first by idleness', { startedAt: 0, lastActivity: 0 }, { at: 30 * 60_000, reason: 'idle' }],
  ['activity moves the idle deadline', { startedAt: 0, lastActivity: 60_000 }, { at: 31 * 60_000, reason: 'idle' }],
  ['a busy session meets its maximum duration', { startedAt: 0, lastActivity: 8 * 3600_000 - 1000 }, { at: 8 * 3600_000, reason: 'max-duration' }],
  ['a token expiring before either limit ends it first', { startedAt: 0, lastActivity: 0, expiresAt: 5 * 60_000 }, { at: 5 * 60_000, reason: 'token-expired' }],
  ['a token expiring after the idle deadline does not', { startedAt: 0, lastActivity: 0, expiresAt: 40 * 60_000 }, { at: 30 * 60_000, reason: 'idle' }],
  ['a tie goes to the token', { startedAt: 0, lastActivity: 0, expiresAt: 30 * 60_000 }, { at: 30 * 60_000, reason: 'token-expired' }],
  ['an approval window closing first ends the session', { startedAt: 0, lastActivity: 0, expiresAt: 20 * 60_000, approvalEndsAt: 10 * 60_000 }, { at: 10 * 60_000, reason: 'approval-ended' }],
  ['an approval window closing after the token does not', { startedAt: 0, lastActivity: 0, expiresAt: 5 * 60_000, approvalEndsAt: 10 * 60_000 }, { at: 5 * 60_000, reason: 'token-expired' }],
  ['an already expired token is due at once', { startedAt: 1000, lastActivity: 1000, expiresAt: -5000 }, { at: -5000, reason: 'token-expired' }],
];

describe('nextLimit', () => {
  for (const [title, clock, expected] of cases) {
    it(title, () => assert.deepEqual(nextLimit(config, clock), expected));
  }
});

describe('limitMessage', () => {
  const messages: Array<[LimitReason, RegExp]> = [
    ['token-expired', /^airlock ended the session: the token expired$/],
    ['approval-ended', /^airlock ended the session: the approval window that allowed it closed$/],
    ['idle', /nothing was sent either way for 30m \(streams\.idleTimeout\)$/],
    ['max-duration', /longest session allowed, 8h \(streams\.maxDuration\)$/],
  ];
  for (const [reason, pattern] of messages) it(`says plainly why for ${reason}`, () => assert.match(limitMessage(reason, config), pattern));
});

describe('startSessionLimits', () => {
  // The limiter's timer does not hold the process open (a live stream does); here a ref'd
  // handle stands in for the stream so the awaited timer can fire.
  let hold: NodeJS.Timeout;
  beforeEach(() => {
    hold = setInterval(() => undefined, 60_000);
  });
  afterEach(() => clearInterval(hold));

  it('calls onLimit once with the reason when the idle timeout passes', async () => {
    const reasons: LimitReason[] = [];
    const fired = new Promise<void>((resolve) => {
      startSessionLimits({ idleTimeoutMs: 20, maxDurationMs: 3600_000, onLimit: (r) => (reasons.push(r), resolve()) });
    });
    await fired;
    assert.deepEqual(reasons, ['idle']);
  });

  it('ends at once, during start, when the token has already expired', () => {
    const reasons: LimitReason[] = [];
    startSessionLimits({ ...config, tokenExpiresAtMs: Date.now() - 1000, onLimit: (r) => reasons.push(r) });
    assert.deepEqual(reasons, ['token-expired']);
  });

  it('a shutdown ends the session once, with its own reason; a stopped limiter ignores it', () => {
    const reasons: LimitReason[] = [];
    const shutdown = new AbortController();
    startSessionLimits({ ...config, shutdown: shutdown.signal, onLimit: (r) => reasons.push(r) });
    const quiet = startSessionLimits({ ...config, shutdown: shutdown.signal, onLimit: (r) => reasons.push(`stopped:${r}` as LimitReason) });
    quiet.stop();
    shutdown.abort();
    shutdown.abort();
    assert.deepEqual(reasons, ['shutdown']);
    assert.match(limitMessage('shutdown', config), /shutting down; connect again to continue/);
  });

  it('a stopped limiter never fires', async () => {
    let fired = false;
    // The clock moves only when the test says: a slow machine cannot make the limit due during start.
    let t = 0;
    const limiter = startSessionLimits({ idleTimeoutMs: 1, maxDurationMs: 1, now: () => t, onLimit: () => (fired = true) });
    t = 10;
    limiter.stop();
    // A later timer of the same length has run by the time this resolves.
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    assert.equal(fired, false);
  });
});
