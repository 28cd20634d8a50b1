/**
 * The bearer token airlock itself presents to the cluster. A token in configuration never
 * changes; a token file is read at open and re-read when it changes, because projected
 * service-account tokens rotate (the kubelet refreshes them at 80% of their lifetime, hourly
 * by default) and a token read once at start-up would expire under a running airlock.
 *
 * The file is checked lazily, on the request path, at most once per `checkIntervalMs`: a
 * `stat` every few seconds costs nothing, needs no timer to clean up, and a test moves the
 * injected clock instead of sleeping. A change is seen through the mtime, inode and size —
 * the kubelet swaps a symlinked directory, so the inode changes even within one mtime tick.
 * A re-read that fails keeps the last good token (and says so in the log): a half-written
 * file must not take the connection down.
 *
 * Never logs or reports the token; messages name the file only.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { silentLogger, type Logger } from '../../../log.js';
import { errorCode, upstreamError } from './target.js';

export interface TokenSource {
  /** current returns the token to send now (re-reading a changed file first, if due). */
  current(): string;
  /** What the token is, for `describe()`: never the token itself. */
  readonly description: string;
}

export interface FileTokenSourceOptions {
  connection: string;
  /** How often, at most, the file is checked for a change (default 5 s). */
  checkIntervalMs?: number;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
  logger?: Logger;
}

export const defaultTokenCheckIntervalMs = 5_000;

/** staticTokenSource wraps a token from configuration; it throws AIRLOCK_UPSTREAM_CONFIG for an unusable value. */
export function staticTokenSource(connection: string, token: string, from: string): TokenSource {
  const problem = tokenProblem(token.trim());
  if (problem) throw upstreamError(connection, `the bearer token ${from} ${problem}`);
  const value = token.trim();
  return { current: () => value, description: `bearer token ${from}` };
}

/**
 * fileTokenSource reads the token file now and re-reads it when it changes; it throws
 * AIRLOCK_UPSTREAM_CONFIG when the file cannot be read or holds no usable token.
 */
export async function fileTokenSource(path: string, options: FileTokenSourceOptions): Promise<TokenSource> {
  const { connection } = options;
  const interval = options.checkIntervalMs ?? defaultTokenCheckIntervalMs;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  let stats: Stats;
  let text: string;
  try {
    stats = await stat(path);
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw upstreamError(connection, `the token file ${path} cannot be read (${errorCode(err)})`, err);
  }
  const problem = tokenProblem(text.trim());
  if (problem) throw upstreamError(connection, `the token file ${path} ${problem}`);

  let token = text.trim();
  let signature = fileSignature(stats);
  let checkedAt = now();
  let reportedFailure = '';

  const refresh = () => {
    let next: string;
    let nextSignature: string;
    try {
      const current = statSync(path);
      nextSignature = fileSignature(current);
      if (nextSignature === signature) return;
      next = readFileSync(path, 'utf8').trim();
    } catch (err) {
      return warnOnce(`cannot be read (${errorCode(err)})`);
    }
    const bad = tokenProblem(next);
    if (bad) return warnOnce(bad);
    token = next;
    signature = nextSignature;
    reportedFailure = '';
    logger.info({ connection, tokenFile: path }, 'the upstream token file changed; using the new token');
  };
  const warnOnce = (what: string) => {
    if (reportedFailure === what) return;
    reportedFailure = what;
    logger.warn({ connection, tokenFile: path }, `the upstream token file ${what}; still using the token read before`);
  };

  return {
    current() {
      const t = now();
      if (t - checkedAt >= interval) {
        checkedAt = t;
        refresh();
      }
      return token;
    },
    description: `bearer token from file ${path} (re-read when it changes)`,
  };
}

function fileSignature(s: Stats): string {
  return `${s.mtimeMs}:${s.ino}:${s.size}`;
}

/**
 * tokenProblem says what is wrong with a token, or '' if nothing is. A token goes into an
 * HTTP header, so anything but visible ASCII inside it is refused (whitespace or control
 * characters would split or corrupt the header), never passed on.
 */
export function tokenProblem(token: string): string {
  if (token === '') return 'is empty';
  if (/[^\x21-\x7e]/.test(token)) return 'contains characters a bearer token cannot have (whitespace, control or non-ASCII characters)';
  return '';
}
