/**
 * The load client: undici pools with keep-alive connections, one per route. A closed loop
 * keeps C requests in flight for a fixed time and times each one from the call until the
 * last body byte has arrived; a download reads one large response and counts bytes (and
 * clear Secret values) as they arrive, without keeping the body.
 */
import { Pool } from 'undici';

/** One way to reach the upstream: directly, through kubectl proxy, or through airlock. */
export interface Route {
  name: string;
  /** `https://127.0.0.1:PORT` or `http://…` for kubectl proxy. */
  origin: string;
  /** Prefix before the Kubernetes path (`/k8s/<connection>` for airlock). */
  prefix: string;
  /** Sent with every request (the route's own credential). */
  headers: Record<string, string>;
  /** CA to trust for an https origin. */
  ca?: string;
  /** The gateway's process id, when the route has one (its RSS and CPU are reported). */
  pid?: number;
  /** airlock's admin server, whose metrics say how long ledger appends waited. */
  adminUrl?: string;
}

export interface LoopResult {
  requests: number;
  errors: number;
  /** The first failure seen, to print. */
  firstError?: string;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  /** Response body bytes received. */
  bytes: number;
}

/** openPool opens a keep-alive pool of `connections` to the route's origin. */
export function openPool(route: Route, connections: number): Pool {
  return new Pool(route.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
    ...(route.ca ? { connect: { ca: route.ca } } : {}),
  });
}

const accept = 'application/json';

/** fetchOnce GETs `path` and returns the status and the whole body (for checks, not timing). */
export async function fetchOnce(pool: Pool, route: Route, path: string): Promise<{ status: number; body: Buffer }> {
  const res = await pool.request({ method: 'GET', path: route.prefix + path, headers: { ...route.headers, accept } });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.statusCode, body: Buffer.concat(chunks) };
}

/** closedLoop keeps `concurrency` GETs of `path` in flight for `seconds` and times each one. */
export async function closedLoop(pool: Pool, route: Route, path: string, concurrency: number, seconds: number): Promise<LoopResult> {
  const latencies: number[] = [];
  const headers = { ...route.headers, accept };
  const target = route.prefix + path;
  let errors = 0;
  let firstError: string | undefined;
  let bytes = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const res = await pool.request({ method: 'GET', path: target, headers });
          for await (const chunk of res.body) bytes += (chunk as Buffer).length;
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { ...summarize(latencies, elapsed), errors, ...(firstError !== undefined ? { firstError } : {}), bytes };
}

function summarize(latencies: number[], seconds: number): Pick<LoopResult, 'requests' | 'seconds' | 'perSecond' | 'p50ms' | 'p99ms'> {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50ms: at(0.5), p99ms: at(0.99) };
}

export interface DownloadResult {
  status: number;
  bytes: number;
  seconds: number;
  /** Chunks in which `needle` (a clear Secret value) was seen. */
  leakedChunks: number;
}

/** download GETs one large response, counting bytes and chunks that contain `needle`. */
export async function download(pool: Pool, route: Route, path: string, needle: string): Promise<DownloadResult> {
  const started = performance.now();
  const res = await pool.request({ method: 'GET', path: route.prefix + path, headers: { ...route.headers, accept } });
  let bytes = 0;
  let leakedChunks = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    bytes += b.length;
    if (b.indexOf(needle, 0, 'latin1') !== -1) leakedChunks++;
  }
  return { status: res.statusCode, bytes, seconds: (performance.now() - started) / 1000, leakedChunks };
}
