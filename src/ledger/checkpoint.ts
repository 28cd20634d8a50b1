/**
 * Signed checkpoints: "chain C had SEQ entries, the last one hashing to H, at TIME", signed
 * with the ledger's Ed25519 key over `checkpointMessage` (canonical.ts). A checkpoint pins
 * everything before it: rewriting any earlier entry changes the hash at SEQ, and without the
 * private key no new checkpoint can vouch for the rewrite.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { checkpointMessage } from './canonical.js';
import type { LedgerSigningKey } from './signing-key.js';
import type { Checkpoint } from './types.js';

/** signCheckpoint signs the head of a chain. */
export function signCheckpoint(
  head: { chain: string; seq: number; hash: string },
  key: LedgerSigningKey,
  time: Date,
): Checkpoint {
  const unsigned = { chain: head.chain, seq: head.seq, hash: head.hash, time: time.toISOString(), keyId: key.keyId };
  const signature = sign(null, checkpointMessage(unsigned), key.privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** Why a checkpoint does not verify, or undefined when it does. */
export type CheckpointFault = 'unknown-key' | 'bad-signature';

/**
 * checkCheckpointSignature verifies a checkpoint against the trusted keys (by key id). A
 * malformed signature is a bad signature, never an exception.
 */
export function checkCheckpointSignature(cp: Checkpoint, keys: Map<string, KeyObject>): CheckpointFault | undefined {
  const key = keys.get(cp.keyId);
  if (!key) return 'unknown-key';
  try {
    const ok = verify(null, checkpointMessage(cp), key, Buffer.from(cp.signature, 'base64url'));
    return ok ? undefined : 'bad-signature';
  } catch {
    return 'bad-signature';
  }
}

/** isCheckpoint narrows parsed JSON (a witness line) to a Checkpoint. */
export function isCheckpoint(value: unknown): value is Checkpoint {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.chain === 'string' &&
    typeof v.seq === 'number' &&
    Number.isSafeInteger(v.seq) &&
    typeof v.hash === 'string' &&
    typeof v.time === 'string' &&
    typeof v.keyId === 'string' &&
    typeof v.signature === 'string'
  );
}
