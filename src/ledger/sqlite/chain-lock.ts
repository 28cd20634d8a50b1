/**
 * One writer per chain. Two processes appending to the same chain of one SQLite ledger would
 * both seal seq N+1 on the head they last saw; whichever commits second fails its
 * UNIQUE(chain, seq), and from then on both ledgers keep refusing requests (a stray second
 * `airlock start` on a running gateway's data directory takes the gateway down). The chain
 * lock makes the second writer fail at open instead, with a message that says what to do.
 *
 * The lock is an exclusive SQLite lock on a small file beside the ledger
 * (`<ledger>-chain-<chain>.lock`), taken with `BEGIN EXCLUSIVE` and held by an open
 * connection for the writer's life. The operating system drops it when the process ends,
 * however it ends, so a crash never leaves a stale lock. SQLite also arbitrates between
 * connections of one process, so a second writer in the same process is refused too.
 *
 * Who holds it is written next to it (`.owner`: pid, host, since) for the refusal message;
 * that file is a courtesy, never trusted for the decision.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { AirlockError } from '../../errors.js';

/** A held chain lock; release is idempotent. */
export interface ChainLock {
  release(): void;
}

/** chainLockPath is the lock file of `chain` for the SQLite ledger at `ledgerPath`. */
export function chainLockPath(ledgerPath: string, chain: string): string {
  return `${ledgerPath}-chain-${chain}.lock`;
}

/**
 * lockChain takes the chain's lock or throws AIRLOCK_LEDGER_CHAIN_IN_USE, naming the holder
 * when it is known. Other failures (an unwritable directory) throw as they are.
 */
export function lockChain(ledgerPath: string, chain: string): ChainLock {
  const path = chainLockPath(ledgerPath, chain);
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 0');
    // Nothing is ever written to the lock file: no journal file beside it either.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    throw new AirlockError(
      'AIRLOCK_LEDGER_CHAIN_IN_USE',
      `another airlock process${holder(path)} is writing chain "${chain}" of ${ledgerPath}; ` +
        'stop it first, or give this process its own chain (ledger.chain) or its own data directory',
    );
  }
  try {
    writeFileSync(`${path}.owner`, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`, { mode: 0o600 });
  } catch {
    // Only the message of a refused writer reads it.
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close(); // closing ends the transaction and drops the lock
    },
  };
}

/** holder describes the recorded owner of a lock, or nothing when it cannot be read. */
function holder(path: string): string {
  try {
    const owner = JSON.parse(readFileSync(`${path}.owner`, 'utf8')) as { pid?: unknown; host?: unknown; since?: unknown };
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return '';
    return ` (pid ${owner.pid} on ${owner.host}${typeof owner.since === 'string' ? `, since ${owner.since}` : ''})`;
  } catch {
    return '';
  }
}
