/**
 * One notification, delivered over HTTP POST with retries: what the webhook and Slack notifiers
 * share. An approver who is never told cannot approve, so a receiver that is briefly down or
 * rate-limiting is tried again; one that refuses the message (any other 4xx, a redirect, a
 * certificate it cannot prove) is not, because sending the same bytes again would get the same
 * answer.
 *
 * Retried: network errors, no answer within `timeoutMs`, 408, 429 and 5xx. The wait before
 * retry n is `backoffMs · 2^(n-1)` plus up to 20 % jitter (so receivers that failed together
 * are not hit together again), or the receiver's `Retry-After` when it sends one; either is
 * capped at 30 s.
 *
 * Errors name the URL's origin only: a Slack incoming-webhook URL carries its credential in the
 * path, and generic webhook URLs often carry a token in the query.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { AirlockError } from '../../errors.js';

/** The longest wait between two attempts, whatever the backoff or `Retry-After` say. */
export const maxRetryDelayMs = 30_000;

/** How hard to try; every field has a default. */
export interface RetryOptions {
  /** Per attempt: connect, send and read the answer. Default 5000. */
  timeoutMs?: number;
  /** Attempts in all, the first included. Default 5. */
  attempts?: number;
  /** The wait before the first retry, doubled for each further one. Default 500. */
  backoffMs?: number;
}

/** The clock and randomness of retries; tests swap them to observe the waits without waiting. */
export interface DeliveryDeps {
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), as Math.random. */
  random: () => number;
  /** Milliseconds since the epoch, as Date.now (to read a `Retry-After` date). */
  now: () => number;
}

export const defaultDeliveryDeps: DeliveryDeps = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

/** Where to deliver, checked once when the notifier is created. */
export interface DeliveryTarget {
  /** `webhook`, `slack`: names the channel in errors. */
  channel: string;
  url: URL;
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  /** Set when the target needs its own TLS trust (a private CA). */
  dispatcher?: Dispatcher;
}

/** One prepared attempt: built again for each attempt, so a signature carries a fresh time. */
export interface DeliveryAttempt {
  body: string;
  headers: Record<string, string>;
}

/**
 * NotifyDeliveryError says that a notification was not delivered, to which origin, after how
 * many attempts, and the last answer or error. It never holds the URL's path or query, a
 * header value or a secret.
 */
export class NotifyDeliveryError extends Error {
  override readonly name = 'NotifyDeliveryError';
  constructor(
    message: string,
    readonly origin: string,
    readonly attempts: number,
    /** The last HTTP status, when the receiver answered at all. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * buildDeliveryTarget validates a notifier's URL and retry options at startup and throws
 * AIRLOCK_CONFIG_INVALID naming what is wrong (never the URL's path or query).
 */
export function buildDeliveryTarget(channel: string, rawUrl: unknown, options: RetryOptions & { ca?: string }): DeliveryTarget {
  const url = parseUrl(channel, rawUrl);
  const timeoutMs = positiveInteger(channel, 'timeoutMs', options.timeoutMs ?? 5000, 1);
  const attempts = positiveInteger(channel, 'attempts', options.attempts ?? 5, 1);
  const backoffMs = positiveInteger(channel, 'backoffMs', options.backoffMs ?? 500, 0);
  let dispatcher: Dispatcher | undefined;
  if (options.ca !== undefined) {
    if (typeof options.ca !== 'string' || !options.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier for ${url.origin}: ca holds no PEM certificate`);
    }
    // Only this CA is trusted for the receiver: an in-house endpoint has no business presenting
    // a certificate from a public root instead.
    dispatcher = new Agent({ connect: { ca: options.ca } });
  }
  return { channel, url, timeoutMs, attempts, backoffMs, ...(dispatcher && { dispatcher }) };
}

/**
 * deliver POSTs `prepare()` to the target until a 2xx answer, retrying as the module comment
 * describes. It resolves on the first 2xx and rejects with a NotifyDeliveryError after the
 * last attempt, or at once when the answer is not worth retrying.
 */
export async function deliver(target: DeliveryTarget, prepare: () => DeliveryAttempt, deps: DeliveryDeps = defaultDeliveryDeps): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await post(target, prepare(), deps.now);
    if (outcome.kind === 'delivered') return;
    const last = attempt >= target.attempts;
    if (outcome.kind === 'fatal' || last) {
      const tried = `${attempt} of ${target.attempts} attempt${target.attempts === 1 ? '' : 's'}`;
      const why = outcome.kind === 'fatal' && !last ? `${outcome.description} (not retried)` : outcome.description;
      throw new NotifyDeliveryError(
        `${target.channel} notification to ${target.url.origin} was not delivered after ${tried}: ${why}`,
        target.url.origin,
        attempt,
        outcome.status,
      );
    }
    await deps.sleep(outcome.retryAfterMs ?? backoffDelay(target.backoffMs, attempt, deps.random));
  }
}

/** backoffDelay is the wait before retry `retry` (1 = the first retry): doubled each time, +≤20 % jitter, capped. */
export function backoffDelay(backoffMs: number, retry: number, random: () => number): number {
  const base = backoffMs * 2 ** (retry - 1);
  return Math.min(maxRetryDelayMs, Math.round(base + base * 0.2 * random()));
}

/**
 * parseRetryAfter reads `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3) and
 * returns milliseconds within [0, maxRetryDelayMs], or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(maxRetryDelayMs, Math.max(0, ms));
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; description: string; status?: number; retryAfterMs?: number }
  | { kind: 'fatal'; description: string; status?: number };

async function post(target: DeliveryTarget, attempt: DeliveryAttempt, now: () => number): Promise<Outcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, target.timeoutMs);
  try {
    const res = await request(target.url, {
      method: 'POST',
      headers: attempt.headers,
      body: attempt.body,
      signal: controller.signal,
      ...(target.dispatcher && { dispatcher: target.dispatcher }),
    });
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      // Accepted: whatever happens to the rest of the answer, the message was taken.
      await res.body.dump().catch(() => undefined);
      return { kind: 'delivered' };
    }
    const excerpt = await readExcerpt(res.body).catch(() => '');
    const description = `HTTP ${status}${excerpt ? ` ${JSON.stringify(excerpt)}` : ''}`;
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
      return { kind: 'retry', description, status, ...(retryAfterMs !== undefined && { retryAfterMs }) };
    }
    // Other 4xx, and 3xx: redirects are not followed, so a moved endpoint is reported, not chased.
    return { kind: 'fatal', description, status };
  } catch (err) {
    if (timedOut) return { kind: 'retry', description: `no answer within ${target.timeoutMs} ms` };
    const code = (err as { code?: unknown }).code;
    const description = redactUrl(`${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`, target.url);
    // A certificate that does not verify will not verify on the next attempt either.
    if (typeof code === 'string' && certificateErrors.has(code)) return { kind: 'fatal', description };
    return { kind: 'retry', description };
  } finally {
    clearTimeout(timer);
  }
}

const certificateErrors = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first line-ish of a refusal (`invalid_payload`, `no_service`), printable and short. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= 512) {
      body.destroy();
      break;
    }
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** redactUrl removes the URL's path and query from a message (an error may quote the URL). */
function redactUrl(message: string, url: URL): string {
  let out = message.split(url.href).join(url.origin);
  const rest = `${url.pathname}${url.search}`;
  if (rest.length > 1) out = out.split(rest).join('/…');
  if (url.search.length > 1) out = out.split(url.search).join('?…');
  return out;
}

function parseUrl(channel: string, raw: unknown): URL {
  if (typeof raw !== 'string' || raw === '') {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier: url is required`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The text is not quoted back: it may hold a token.
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier: url is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier: url must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.username || url.password) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier for ${url.origin}: put credentials in headers (e.g. authorization), not in the url`);
  }
  return url;
}

function positiveInteger(channel: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${channel} notifier: ${name} must be an integer ≥ ${min}`);
  }
  return value;
}
