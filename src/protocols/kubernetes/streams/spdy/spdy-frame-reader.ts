/**
 * SpdyFrameReader keeps one direction's partial input between reads, so a caller can push socket
 * chunks as they come and get whole frames back; nothing is ever emitted from a fragment.
 * Opens no socket. One reader per connection and direction.
 */
import { decodeFrames, type DecodedFrame, type DecodeLimits } from './spdy-frames.js';

export class SpdyFrameReader {
  private pending: Uint8Array = new Uint8Array(0);
  private failed: unknown = undefined;

  constructor(private readonly limits: DecodeLimits = {}) {}

  /**
   * push appends a chunk and returns every frame it completes. After a malformed frame it throws
   * the AirlockError and keeps throwing it: the stream past a bad frame cannot be trusted.
   */
  push(chunk: Uint8Array): DecodedFrame[] {
    if (this.failed !== undefined) throw this.failed;
    const input = this.pending.byteLength === 0 ? chunk : concat(this.pending, chunk);
    try {
      const { frames, consumed } = decodeFrames(input, this.limits);
      // Copy the fragment we keep (Buffer#slice would not): the caller may reuse its buffer.
      this.pending = new Uint8Array(input.subarray(consumed));
      return frames;
    } catch (err) {
      this.failed = err;
      throw err;
    }
  }

  /** pendingBytes is the size of the fragment waiting for the rest of its frame. */
  get pendingBytes(): number {
    return this.pending.byteLength;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
