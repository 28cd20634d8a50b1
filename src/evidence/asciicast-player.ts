/**
 * Plays asciicast events in a terminal with their timing, for `airlock replay SESSION`.
 * Only `"o"` events are written (what the viewer saw); input, resizes and markers only advance
 * the clock. Sleeping is injected so tests run without waiting, and so a caller can pause.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AsciicastEvent } from './asciicast.js';

export interface PlayOptions {
  /** Playback speed: 2 plays twice as fast. Default 1. */
  speed?: number;
  /** Longest pause in recorded seconds, like asciinema's idle_time_limit. Default: none. */
  maxIdle?: number;
  /** Waits the given milliseconds. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Stops playback between events. */
  signal?: AbortSignal;
}

/** What a playback did, in the same units as the recording. */
export interface PlayResult {
  written: number;
  /** Milliseconds slept in total (after maxIdle and speed). */
  sleptMs: number;
  aborted: boolean;
}

/**
 * playAsciicast writes each output event once its (compressed, sped-up) time has come. Waits
 * are relative to the previous event, so an idle gap longer than maxIdle is shortened to maxIdle
 * and later events shift with it. Rejects only if `write` or `sleep` rejects.
 *
 * @example
 * const { events } = parseAsciicast(await readFile('session.cast', 'utf8'));
 * await playAsciicast(events, (s) => process.stdout.write(s), { maxIdle: 2 });
 */
export async function playAsciicast(
  events: readonly AsciicastEvent[],
  write: (data: string) => unknown,
  options: PlayOptions = {},
): Promise<PlayResult> {
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError('speed must be a positive number');
  const maxIdle = options.maxIdle ?? Infinity;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  let previous = 0;
  let written = 0;
  let sleptMs = 0;
  for (const [t, code, data] of events) {
    if (options.signal?.aborted) return { written, sleptMs, aborted: true };
    const gap = Math.min(Math.max(0, t - previous), maxIdle);
    previous = t;
    const ms = (gap * 1000) / speed;
    if (ms > 0) {
      await sleep(ms);
      sleptMs += ms;
      if (options.signal?.aborted) return { written, sleptMs, aborted: true };
    }
    if (code !== 'o') continue;
    await write(data);
    written++;
  }
  return { written, sleptMs, aborted: false };
}
