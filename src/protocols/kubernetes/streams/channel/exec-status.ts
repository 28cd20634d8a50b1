/**
 * The error channel (3) of exec and attach: how the command ended. From v4 on it carries a
 * metav1 Status JSON; an exit code travels in `details.causes[reason=ExitCode].message`
 * (`StatusCause.Type` is serialised as `reason`). Before v4 it carries plain text, and nothing
 * at all means success. The rules mirror client-go's errorDecoderV4 and its `io.ReadAll` of the
 * whole channel (k8s.io/client-go/tools/remotecommand/v4.go; reference §3.3).
 * Pure: opens no socket.
 */
import { malformed } from './channel-frame.js';
import type { ChannelVersion } from './subprotocol.js';

/** ExecStatus is how a remote command ended, as the client will report it. */
export type ExecStatus =
  | { outcome: 'success'; exitCode: 0 }
  /** The command ran and exited non-zero. */
  | { outcome: 'exit'; exitCode: number; message: string }
  /** The command did not run or was cut short (container gone, timeout); no exit code. */
  | { outcome: 'failure'; message: string; reason?: string };

/** The most error-channel bytes airlock keeps; a real Status is well under 1 KiB. */
export const MAX_STATUS_BYTES = 64 * 1024;

/**
 * parseExecStatus reads the whole error channel of a stream that has ended. Throws
 * AIRLOCK_K8S_STREAM_MALFORMED (`bad-status`) where client-go reports a protocol error:
 * v4+ text that is not a Status, `NonZeroExitCode` without a valid ExitCode cause, or an
 * unknown `status`.
 */
export function parseExecStatus(bytes: Uint8Array, version: ChannelVersion): ExecStatus {
  if (bytes.length === 0) return { outcome: 'success', exitCode: 0 };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (version < 4) return { outcome: 'failure', message: text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('bad-status', 'the error channel does not hold a Status JSON');
  }
  return statusFrom(value);
}

interface StatusShape {
  status?: unknown;
  reason?: unknown;
  message?: unknown;
  details?: { causes?: unknown };
}

function statusFrom(value: unknown): ExecStatus {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('bad-status', 'the error channel does not hold a Status object');
  }
  const s = value as StatusShape;
  const message = typeof s.message === 'string' ? s.message : '';
  if (s.status === 'Success') return { outcome: 'success', exitCode: 0 };
  if (s.status !== 'Failure') throw malformed('bad-status', 'the Status is neither Success nor Failure');
  if (s.reason !== 'NonZeroExitCode') {
    return typeof s.reason === 'string' && s.reason !== '' ? { outcome: 'failure', message, reason: s.reason } : { outcome: 'failure', message };
  }
  const causes = s.details?.causes;
  if (!Array.isArray(causes)) throw malformed('bad-status', 'a NonZeroExitCode Status has no details.causes');
  for (const cause of causes as unknown[]) {
    if (typeof cause !== 'object' || cause === null || (cause as { reason?: unknown }).reason !== 'ExitCode') continue;
    const code = (cause as { message?: unknown }).message;
    // client-go: strconv.ParseUint(message, 10, 8), so decimal digits only, at most 255.
    if (typeof code !== 'string' || !/^[0-9]+$/.test(code) || Number(code) > 255) {
      throw malformed('bad-status', 'the ExitCode cause is not a number from 0 to 255');
    }
    return { outcome: 'exit', exitCode: Number(code), message };
  }
  throw malformed('bad-status', 'a NonZeroExitCode Status has no ExitCode cause');
}

/**
 * ErrorChannelReader gathers one stream's error channel across messages (a Status may be split,
 * and the kubelet first sends an empty "ready" message). `status` is known as soon as a whole
 * Status has arrived on v4+, never from a fragment; `finish` gives the final answer when the
 * stream ends. Throws AIRLOCK_K8S_STREAM_MALFORMED (`too-large`) past MAX_STATUS_BYTES.
 */
export class ErrorChannelReader {
  readonly #version: ChannelVersion;
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(version: ChannelVersion) {
    this.#version = version;
  }

  /** push adds one error-channel payload (copied). */
  push(payload: Uint8Array): void {
    if (this.#length + payload.length > MAX_STATUS_BYTES) {
      throw malformed('too-large', `the error channel exceeds ${MAX_STATUS_BYTES} bytes`);
    }
    this.#chunks.push(Buffer.from(payload));
    this.#length += payload.length;
  }

  /** status is the outcome once a complete v4+ Status has arrived; undefined before. */
  get status(): ExecStatus | undefined {
    if (this.#version < 4 || this.#length === 0) return undefined;
    try {
      JSON.parse(this.#bytes().toString('utf8'));
    } catch {
      return undefined;
    }
    return parseExecStatus(this.#bytes(), this.#version);
  }

  /** finish reads everything received as the final outcome; see parseExecStatus for errors. */
  finish(): ExecStatus {
    return parseExecStatus(this.#bytes(), this.#version);
  }

  #bytes(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }
}
