/**
 * Approvals across replicas. Several airlock processes on one PostgreSQL ledger each write their
 * own chain; each keeps its approval book and follows the other chains' approval entries, so an
 * approval given through any replica releases a request held on another. The store announces
 * every commit (LISTEN/NOTIFY); a slow poll covers a missed notification or a dropped listener.
 */
import type { LedgerReader } from '../ledger/types.js';
import type { Logger } from '../log.js';
import type { Approvals } from './approvals.js';

const APPROVAL_TYPES = ['approval.requested', 'approval.approved', 'approval.denied', 'approval.used', 'approval.expired', 'approval.revoked'];

export interface FollowOptions {
  reader: LedgerReader;
  /** This replica's chain; its own entries are already in its book. */
  chain: string;
  approvals: Approvals;
  logger: Logger;
  /** The poll that backs up notifications (default 1 s). */
  intervalMs?: number;
}

export interface Follower {
  /** catchUp reads what the other chains recorded since the last look (also called on each notification). */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * followApprovals starts from the other chains' current heads (the book was restored up to
 * them) and applies every later approval entry in order.
 */
export async function followApprovals(o: FollowOptions): Promise<Follower> {
  const heads = new Map<string, number>();
  for (const chain of await o.reader.chains()) {
    if (chain === o.chain) continue;
    heads.set(chain, (await o.reader.head(chain))?.seq ?? 0);
  }
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const readOnce = async (): Promise<void> => {
    for (const chain of await o.reader.chains()) {
      if (chain === o.chain) continue;
      const from = (heads.get(chain) ?? 0) + 1;
      const head = (await o.reader.head(chain))?.seq ?? 0;
      if (head < from) continue;
      for await (const entry of o.reader.entries({ chain, fromSeq: from, toSeq: head, types: APPROVAL_TYPES })) o.approvals.apply(entry);
      heads.set(chain, head);
    }
  };
  // One look at a time; a notification during a look asks for one more afterwards.
  const catchUp = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await readOnce();
        } catch (err) {
          o.logger.warn({ err }, 'could not read other replicas\' approvals; retrying');
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unsubscribe = o.reader.subscribe ? await o.reader.subscribe(() => void catchUp()) : undefined;
  const timer = setInterval(() => void catchUp(), o.intervalMs ?? 1000);
  timer.unref();
  return {
    catchUp,
    async close() {
      closed = true;
      clearInterval(timer);
      await unsubscribe?.();
      await running;
    },
  };
}
