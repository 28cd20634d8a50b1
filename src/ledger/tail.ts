/**
 * Following the ledger as it grows (`airlock audit tail`). PostgreSQL pushes a notification
 * on every commit (LISTEN/NOTIFY); SQLite cannot, so the tail polls with a short interval.
 * Either way each wake-up reads everything new with the same keyset-paged query verify uses,
 * so a burst of appends is read in pages, never lost between polls, and never read twice.
 */
import type { EntryType, LedgerEntry, LedgerReader } from './types.js';

export interface TailOptions {
  /** Follow only this chain (default: every chain, including ones that appear later). */
  chain?: string;
  /** Start at this seq (in each followed chain); default: only entries appended from now on. */
  fromSeq?: number;
  /** Only these entry types. */
  types?: EntryType[];
  /** Stops the tail: the iteration then ends normally. */
  signal: AbortSignal;
  /** Poll interval when the store cannot push (ms, default 250); with push, a safety re-check every 5 s. */
  intervalMs?: number;
}

/**
 * tailLedger yields entries in (chain, seq) order as they are committed, until `signal`
 * aborts. It throws only when the store cannot be read.
 *
 * @example
 * const stop = new AbortController();
 * for await (const entry of tailLedger(reader, { signal: stop.signal })) console.log(formatEntryLine(entry));
 */
export async function* tailLedger(reader: LedgerReader, options: TailOptions): AsyncGenerator<LedgerEntry> {
  const { signal } = options;
  const interval = options.intervalMs ?? (reader.subscribe ? 5000 : 250);
  const positions = new Map<string, number>();
  const startChains = options.chain !== undefined ? [options.chain] : await reader.chains();
  for (const chain of startChains) {
    positions.set(chain, options.fromSeq !== undefined ? options.fromSeq - 1 : ((await reader.head(chain))?.seq ?? 0));
  }
  let pending = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    pending = true;
    wake?.();
  };
  const unsubscribe = reader.subscribe ? await reader.subscribe(notify) : undefined;
  try {
    while (!signal.aborted) {
      const chains = options.chain !== undefined ? [options.chain] : await reader.chains();
      for (const chain of chains) {
        // A chain that appears while tailing is new in full: start it at its first entry.
        const after = positions.get(chain) ?? (options.fromSeq !== undefined ? options.fromSeq - 1 : 0);
        let last = after;
        for await (const entry of reader.entries({ chain, fromSeq: after + 1, ...(options.types ? { types: options.types } : {}) })) {
          if (signal.aborted) return;
          yield entry;
          last = entry.seq;
        }
        positions.set(chain, last);
      }
      if (pending) {
        pending = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, interval);
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      pending = false;
    }
  } finally {
    await unsubscribe?.();
  }
}

/**
 * formatEntryLine renders one entry as a line for people: time, chain#seq, type, subject,
 * verb, resource, namespace/name, decision. Control characters from recorded fields are
 * escaped, so a hostile resource name cannot rewrite the operator's terminal.
 */
export function formatEntryLine(entry: LedgerEntry): string {
  const parts: string[] = [entry.time, `${entry.chain}#${entry.seq}`, entry.type, entry.identity?.subject ?? '-'];
  const a = entry.action;
  if (a) {
    parts.push(a.verb);
    const resource = [a.resource, a.subresource].filter((x) => x !== undefined && x !== '').join('/');
    if (resource) parts.push(resource);
    const where = [a.namespace ?? a.database, a.name].filter((x) => x !== undefined && x !== '').join('/');
    if (where) parts.push(where);
    if (a.statement && !a.resource) parts.push(JSON.stringify(a.statement.length > 80 ? `${a.statement.slice(0, 77)}...` : a.statement));
  }
  if (entry.decision) {
    const rules = entry.decision.rules.length ? ` [${entry.decision.rules.join(', ')}]` : '';
    parts.push(`-> ${entry.decision.effect}${rules}`);
  }
  const data = entry.data ?? {};
  if (typeof data.status === 'number') parts.push(`status=${data.status}`);
  if (typeof data.event === 'string') parts.push(data.event);
  if (entry.approvalId) parts.push(`approval=${entry.approvalId}`);
  if (entry.unrecorded) parts.push('(UNRECORDED)');
  return parts.map(escapeControls).join(' ');
}

function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
