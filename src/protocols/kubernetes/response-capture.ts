/**
 * ResponseCapture keeps what the ledger stores of a response: the first `limit` bytes of the
 * (masked) body, plus the size and SHA-256 of the whole masked body, so a large response is
 * recorded capped but still pinned by its digest.
 */
import { createHash, type Hash } from 'node:crypto';
import type { PayloadInput } from '../../ledger/types.js';

export class ResponseCapture {
  private readonly hash: Hash = createHash('sha256');
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private total = 0;

  /**
   * @param mask rewrites the recorded body (masking what the ledger must not hold); `whole` is
   *   false when the body was cut at `limit`. The size and digest stay those of what passed.
   */
  constructor(
    readonly limit: number,
    private readonly mask?: (body: Buffer, whole: boolean) => Buffer,
  ) {}

  /** add feeds bytes exactly as they are released to the client. */
  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    this.hash.update(chunk);
    if (this.keptBytes < this.limit) {
      const take = chunk.subarray(0, this.limit - this.keptBytes);
      this.kept.push(Buffer.from(take));
      this.keptBytes += take.length;
    }
  }

  get size(): number {
    return this.total;
  }

  /** payload returns the recorded body; a truncated one carries the full size and digest. */
  payload(contentType: string | undefined): PayloadInput | undefined {
    if (this.total === 0) return undefined;
    const truncated = this.total > this.keptBytes;
    const kept = Buffer.concat(this.kept, this.keptBytes);
    const body = this.mask ? this.mask(kept, !truncated) : kept;
    return {
      ...(contentType ? { contentType } : {}),
      body,
      ...(truncated ? { fullSize: this.total, fullSha256: this.hash.digest('hex') } : {}),
    };
  }
}
