/**
 * A small LRU of recent successful verifications, so an agent sending hundreds of requests
 * with one token pays for one signature check. Keys are SHA-256 digests: the cache never
 * holds a token. An entry is served only while the token is still unexpired by the strict
 * `exp` (no clock-skew allowance) and for at most `maxAgeMs`, so a cached answer can never
 * outlive the token, and a key the IdP withdraws stops working within `maxAgeMs`.
 * Failures are never cached: a refused token is re-examined each time.
 */
import type { Identity } from './identity.js';

export interface VerificationCacheOptions {
  /** Most entries kept; the least recently used is dropped first (default 4096). */
  maxEntries?: number;
  /** Longest an entry is trusted, whatever the token's expiry (default 60 s). */
  maxAgeMs?: number;
}

interface Entry {
  identity: Identity;
  /** Epoch ms after which the entry must not be served. */
  validUntil: number;
}

export interface VerificationCache {
  /** get returns a copy of the cached identity, or undefined when absent or no longer valid. */
  get(digest: string, nowMs: number): Identity | undefined;
  /** set remembers a verified identity under the token's digest. */
  set(digest: string, identity: Identity, nowMs: number): void;
  readonly size: number;
}

/** createVerificationCache returns an empty cache; it never throws. */
export function createVerificationCache(options: VerificationCacheOptions = {}): VerificationCache {
  const maxEntries = Math.max(1, options.maxEntries ?? 4096);
  const maxAgeMs = Math.max(0, options.maxAgeMs ?? 60_000);
  const entries = new Map<string, Entry>();
  return {
    get(digest, nowMs) {
      const entry = entries.get(digest);
      if (entry === undefined) return undefined;
      entries.delete(digest);
      if (nowMs >= entry.validUntil) return undefined;
      entries.set(digest, entry); // re-insert: Map order is the recency order
      return copy(entry.identity);
    },
    set(digest, identity, nowMs) {
      const validUntil = Math.min(identity.expiresAt * 1000, nowMs + maxAgeMs);
      if (validUntil <= nowMs) return;
      entries.delete(digest);
      entries.set(digest, { identity: copy(identity), validUntil });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}

function copy(identity: Identity): Identity {
  return { ...identity, groups: [...identity.groups] };
}
