/**
 * Reading airlock's own account of its ledger from the admin server's Prometheus endpoint:
 * how many appends were made and how long each waited until durable. The difference between
 * two scrapes around a scenario says how much of a request's latency is the record that must
 * be durable before the response is released.
 */
import { request } from 'undici';

export interface LedgerCounters {
  appends: number;
  waitSeconds: number;
}

/** scrapeLedger reads `airlock_ledger_append_seconds` (count and sum); undefined if unreachable. */
export async function scrapeLedger(adminUrl: string): Promise<LedgerCounters | undefined> {
  try {
    const res = await request(new URL('/metrics', adminUrl));
    const text = await res.body.text();
    const count = /^airlock_ledger_append_seconds_count (\S+)$/m.exec(text)?.[1];
    const sum = /^airlock_ledger_append_seconds_sum (\S+)$/m.exec(text)?.[1];
    if (count === undefined || sum === undefined) return undefined;
    return { appends: Number(count), waitSeconds: Number(sum) };
  } catch {
    return undefined;
  }
}

/** describeLedger sums up the appends between two scrapes for `requests` requests. */
export function describeLedger(before: LedgerCounters | undefined, after: LedgerCounters | undefined, requests: number): string | undefined {
  if (!before || !after || requests === 0) return undefined;
  const appends = after.appends - before.appends;
  if (appends <= 0) return undefined;
  const meanMs = ((after.waitSeconds - before.waitSeconds) / appends) * 1000;
  return `airlock ledger: ${(appends / requests).toFixed(2)} durable appends per request, mean wait ${meanMs.toFixed(2)} ms each (${((meanMs * appends) / requests).toFixed(2)} ms per request)`;
}
