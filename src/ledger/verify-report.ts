/**
 * What `verifyLedger` reports (docs/ledger.md, "What verify reports"): per chain, how much
 * was checked and the first bad entry; overall, every problem found, each with a stable
 * reason code an auditor's tooling can match on.
 */

/**
 * Why verification failed at an entry or checkpoint:
 * - `malformed`: the stored canonical text is not JSON.
 * - `hash-mismatch`: the entry's content (or its hash/prev_hash column) was changed.
 * - `field-mismatch`: an index column (id, time, type, session_id) disagrees with the hashed content.
 * - `seq-gap`: entries are missing (rows deleted).
 * - `out-of-order`: a row holds another position's entry (rows swapped, renumbered).
 * - `inserted`: an entry was squeezed in: the next entry links past it to its predecessor.
 * - `prev-hash-mismatch`: the entry does not link to the one before it.
 * - `payload-mismatch`: an inline body disagrees with its recorded size or digest.
 * - `blob-missing` / `blob-corrupt`: a referenced body is absent or does not hash to its digest.
 * - `checkpoint-signature` / `checkpoint-unknown-key`: a stored checkpoint is forged or signed by a key not trusted.
 * - `checkpoint-mismatch`: a validly signed checkpoint names a hash the chain does not have at that seq.
 * - `witness-signature` / `witness-mismatch` / `witness-malformed`: the same, for a witness copy.
 * - `truncated-tail`: a signed checkpoint (stored or witnessed) covers entries that are gone.
 */
export type VerifyReason =
  | 'malformed'
  | 'hash-mismatch'
  | 'field-mismatch'
  | 'seq-gap'
  | 'out-of-order'
  | 'inserted'
  | 'prev-hash-mismatch'
  | 'payload-mismatch'
  | 'blob-missing'
  | 'blob-corrupt'
  | 'checkpoint-signature'
  | 'checkpoint-unknown-key'
  | 'checkpoint-mismatch'
  | 'witness-signature'
  | 'witness-mismatch'
  | 'witness-malformed'
  | 'truncated-tail';

export interface VerifyProblem {
  chain: string;
  /** The entry (or checkpoint) position; absent for problems not tied to one (a bad witness line). */
  seq?: number;
  id?: string;
  reason: VerifyReason;
  message: string;
}

export interface ChainReport {
  chain: string;
  /** Rows checked. */
  entries: number;
  /** Highest seq stored (0 for none). */
  lastSeq: number;
  /** Stored checkpoints, and how many of them verified. */
  checkpoints: number;
  validCheckpoints: number;
  /** Witnessed checkpoints for this chain. */
  witnessed: number;
  /** Entries after the last valid checkpoint: chained but not yet signed, so their tail is not protected. */
  unsigned: number;
  /** The earliest problem in this chain, by seq: "the first bad entry". */
  firstBad?: { seq: number; id?: string; reason: VerifyReason; message: string };
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainReport[];
  problems: VerifyProblem[];
  /** Problems found beyond `maxProblems` (counted, not listed). */
  omittedProblems: number;
}

/** ProblemLog collects problems up to a cap and keeps each chain's first bad one. */
export class ProblemLog {
  readonly problems: VerifyProblem[] = [];
  omitted = 0;
  private readonly first = new Map<string, VerifyProblem>();

  constructor(private readonly max: number) {}

  add(problem: VerifyProblem): void {
    if (this.problems.length < this.max) this.problems.push(problem);
    else this.omitted++;
    if (problem.seq === undefined) return;
    const current = this.first.get(problem.chain);
    if (!current || (current.seq ?? Infinity) > problem.seq) this.first.set(problem.chain, problem);
  }

  firstBad(chain: string): ChainReport['firstBad'] {
    const p = this.first.get(chain);
    if (!p || p.seq === undefined) return undefined;
    return { seq: p.seq, ...(p.id !== undefined ? { id: p.id } : {}), reason: p.reason, message: p.message };
  }

  get count(): number {
    return this.problems.length + this.omitted;
  }
}
