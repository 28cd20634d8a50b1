/**
 * Witnesses keep copies of checkpoints outside the store, so that whoever can edit the store
 * still cannot quietly cut its tail: a witnessed checkpoint whose entry is gone shows the
 * truncation. Two sinks: a file (one JSON checkpoint per line, appended and fsynced) and an
 * HTTP endpoint (POST of the checkpoint as JSON, retried with backoff). A witness failure is
 * logged and reported in health, never fatal: the entries themselves are already durable.
 */
import { open, readFile } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { isCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './types.js';

export type WitnessSpec = { file: string } | { url: string; headers?: Record<string, string> };

export interface Witnesses {
  /** publish hands a checkpoint to every witness; it resolves when each has succeeded or given up. */
  publish(cp: Checkpoint): Promise<void>;
  /** errors lists the last failure of each witness whose latest delivery failed. */
  errors(): string[];
}

const HTTP_ATTEMPTS = 4;
const HTTP_TIMEOUT_MS = 5000;

/** createWitnesses builds the sinks; `retryDelayMs` is the first backoff step (doubled per retry). */
export function createWitnesses(specs: WitnessSpec[], logger: Logger, retryDelayMs = 250): Witnesses {
  const failures = new Map<number, string>();
  // Each witness receives checkpoints one at a time, in the order they were signed: a witness
  // keeping an append-only log never sees seq 12 before seq 10.
  const queues = specs.map(() => Promise.resolve());
  const deliver = (spec: WitnessSpec, cp: Checkpoint, i: number): Promise<void> => {
    const send = () => ('file' in spec ? appendLine(spec.file, cp) : postCheckpoint(spec, cp, retryDelayMs));
    const next = (queues[i] ?? Promise.resolve()).then(send);
    queues[i] = next.catch(() => undefined);
    return next;
  };
  return {
    async publish(cp) {
      await Promise.all(
        specs.map(async (spec, i) => {
          try {
            await deliver(spec, cp, i);
            failures.delete(i);
          } catch (err) {
            // Name the witness by kind and target, never by its headers (they may hold a token).
            const target = 'file' in spec ? `file ${spec.file}` : `url ${redactUrl(spec.url)}`;
            const message = `witness ${target}: ${err instanceof Error ? err.message : String(err)}`;
            failures.set(i, message);
            logger.warn({ chain: cp.chain, seq: cp.seq, witness: target }, message);
          }
        }),
      );
    },
    errors: () => [...failures.entries()].sort(([a], [b]) => a - b).map(([, message]) => message),
  };
}

async function appendLine(path: string, cp: Checkpoint): Promise<void> {
  const handle = await open(path, 'a', 0o644);
  try {
    await handle.write(`${JSON.stringify(cp)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function postCheckpoint(spec: { url: string; headers?: Record<string, string> }, cp: Checkpoint, delayMs: number): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < HTTP_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, delayMs * 2 ** (attempt - 1)));
    try {
      const res = await fetch(spec.url, {
        method: 'POST',
        headers: { ...spec.headers, 'content-type': 'application/json' },
        body: JSON.stringify(cp),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.ok) return;
      lastError = new Error(`HTTP ${res.status}`);
      // A 4xx other than 408/429 will not get better by retrying.
      if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/**
 * readWitnessFile parses a witness file for verification. Lines that are not checkpoints are
 * returned as `bad` (line numbers, 1-based) rather than skipped silently.
 */
export async function readWitnessFile(path: string): Promise<{ checkpoints: Checkpoint[]; bad: number[] }> {
  const text = await readFile(path, 'utf8');
  const checkpoints: Checkpoint[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (isCheckpoint(value)) checkpoints.push(value);
      else bad.push(i + 1);
    } catch {
      bad.push(i + 1);
    }
  });
  return { checkpoints, bad };
}
