/**
 * Structured JSON logging (pino). Logs never carry a secret or a token: known credential
 * fields are redacted by path, and callers log identities and ids, not credentials.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const redactPaths = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
];

/** createLogger returns the process logger; level from the argument, else AIRLOCK_LOG_LEVEL, else `info`; written to stderr. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  // Logs go to stderr: stdout belongs to the command's own output (a minted token, a report).
  return pino({
    name: options.name ?? 'airlock',
    level: options.level ?? process.env.AIRLOCK_LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, pino.destination(2));
}

/** silentLogger is for tests and library use where nothing should be printed. */
export const silentLogger: Logger = pino({ level: 'silent' });
