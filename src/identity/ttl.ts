/**
 * parseTtl reads a token lifetime as people type it on a command line (`15m`, `1h30m`,
 * `90s`, or a bare number of seconds) with the config's duration grammar, and insists on
 * whole seconds: JWT times (`exp`, `iat`) are whole seconds, and a silently rounded
 * lifetime would surprise whoever asked for `1500ms`.
 */
import { parseDuration } from '../config/duration.js';
import { AirlockError } from '../errors.js';

/** parseTtl returns whole seconds (> 0); it throws AIRLOCK_INPUT_INVALID with an example. */
export function parseTtl(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0 || ms % 1000 !== 0) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `token lifetime "${text}" must be a positive whole number of seconds, e.g. 15m or 3600`);
  }
  return ms / 1000;
}
