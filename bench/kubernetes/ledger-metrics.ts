/**
 * Reading airlock's own account of its ledger from the admin server's Prometheus endpoint:
 * how many appends were made and how long each waited until durable (and, for the streams
 * benchmark, how often a stream waited for its recording). The difference between
 * two scrapes around a scenario says how much of a request's latency is the record that must
 * be durable before the response is released, on average and in the tail.
 */
import { request } from 'undici';

export interface LedgerCounters {
  appends: number;
  waitSeconds: number;
  /** Cumulative histogram buckets: upper bound in seconds (as written, `+Inf` included) → appends at or under it. */
  buckets: Map<string, number>;
}

/** The waits whose share of appends the summary reports: over 1 ms and over 2.5 ms (bucket bounds of the histogram). */
const TAIL_BOUNDS = ['0.001', '0.0025'];

/** parseLedgerMetrics reads `airlock_ledger_append_seconds` from a Prometheus text exposition; undefined when absent. */
export function parseLedgerMetrics(text: string): LedgerCounters | undefined {
  const count = /^airlock_ledger_append_seconds_count (\S+)$/m.exec(text)?.[1];
  const sum = /^airlock_ledger_append_seconds_sum (\S+)$/m.exec(text)?.[1];
  if (count === undefined || sum === undefined) return undefined;
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^airlock_ledger_append_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) buckets.set(m[1] as string, Number(m[2]));
  return { appends: Number(count), waitSeconds: Number(sum), buckets };
}

/** scrapeLedger reads the append histogram from airlock's admin server; undefined if unreachable. */
export async function scrapeLedger(adminUrl: string): Promise<LedgerCounters | undefined> {
  const text = await scrape(adminUrl);
  return text === undefined ? undefined : parseLedgerMetrics(text);
}

/**
 * scrapeRecordingHolds reads `airlock_stream_recording_holds_total`: how many times a stream's
 * relay stopped reading because its recording was too far behind the ledger. Undefined if unreachable.
 */
export async function scrapeRecordingHolds(adminUrl: string): Promise<number | undefined> {
  const value = /^airlock_stream_recording_holds_total (\S+)$/m.exec((await scrape(adminUrl)) ?? '')?.[1];
  return value === undefined ? undefined : Number(value);
}

async function scrape(adminUrl: string): Promise<string | undefined> {
  try {
    const res = await request(new URL('/metrics', adminUrl));
    return await res.body.text();
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
  const tail = TAIL_BOUNDS.flatMap((bound) => {
    const under = (after.buckets.get(bound) ?? Number.NaN) - (before.buckets.get(bound) ?? Number.NaN);
    return Number.isFinite(under) ? [`${(((appends - under) / appends) * 100).toFixed(1)}% over ${Number(bound) * 1000} ms`] : [];
  });
  return (
    `airlock ledger: ${(appends / requests).toFixed(2)} durable appends per request, mean wait ${meanMs.toFixed(2)} ms each ` +
    `(${((meanMs * appends) / requests).toFixed(2)} ms per request)${tail.length > 0 ? `; ${tail.join(', ')}` : ''}`
  );
}
