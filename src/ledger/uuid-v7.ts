/**
 * Time-ordered UUIDs (version 7, RFC 9562 §5.7) for ledger entry ids. The first 48 bits are
 * the Unix time in milliseconds, so ids sort by creation time, which keeps the `id` index of
 * the ledger append-friendly and lets a reader estimate when an id was minted. Within one
 * millisecond the 12-bit `rand_a` field is a counter (RFC 9562 §6.2, method 1), so ids from
 * one generator are strictly increasing even when many are made in the same millisecond.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8 * 1024;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 generator; `now` is injectable so tests can pin the clock. */
export interface UuidV7Generator {
  (): string;
}

/**
 * createUuidV7 returns a generator of strictly increasing UUIDv7 strings. If the clock goes
 * backwards, or the per-millisecond counter overflows, the generator keeps using (and then
 * advances) the last timestamp instead, so ordering is never broken.
 */
export function createUuidV7(now: () => number = Date.now): UuidV7Generator {
  const pool = Buffer.alloc(POOL_SIZE);
  let poolOffset = POOL_SIZE;
  let lastMs = -1;
  let counter = 0;
  const bytes = new Uint8Array(16);

  const random = (n: number): Buffer => {
    if (poolOffset + n > POOL_SIZE) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const out = pool.subarray(poolOffset, poolOffset + n);
    poolOffset += n;
    return out;
  };

  return function uuidV7(): string {
    let ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      // Start the counter in the lower half so that many increments fit in one millisecond.
      counter = random(2).readUInt16BE(0) & 0x7ff;
    } else {
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        lastMs = ms = lastMs + 1;
        counter = 0;
      }
    }
    // 48-bit big-endian milliseconds; split because bitwise operators work on 32 bits.
    const high = Math.floor(ms / 0x10000);
    const low = ms % 0x10000;
    bytes[0] = (high >>> 24) & 0xff;
    bytes[1] = (high >>> 16) & 0xff;
    bytes[2] = (high >>> 8) & 0xff;
    bytes[3] = high & 0xff;
    bytes[4] = (low >>> 8) & 0xff;
    bytes[5] = low & 0xff;
    bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
    bytes[7] = counter & 0xff;
    const rand = random(8);
    bytes.set(rand, 8);
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[bytes[i] ?? 0];
    }
    return s;
  };
}

/** uuidV7Time returns the millisecond timestamp carried by a UUIDv7 string. */
export function uuidV7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** uuidV7 is the process-wide generator used for entry ids. */
export const uuidV7: UuidV7Generator = createUuidV7();
