/**
 * Kubernetes `Status` objects and the HTTP responses that carry them: how airlock refuses,
 * holds or fails a Kubernetes request in the client's own terms. kubectl prints
 * `Error from server (<reason>): <message>`, and client-go retries a 429 (or a 5xx with
 * `Retry-After`) by itself, up to 10 times (reference `kubernetes-api.md` §8).
 *
 * Reasons and codes follow apimachinery's `metav1.StatusReason` values. Messages are shown to
 * the caller and recorded: never put a token or a secret value in one.
 *
 * Pure: builds values; writes nothing.
 */

/** StatusReason values airlock uses (apimachinery `metav1.StatusReason`). */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

/** StatusCause is one `details.causes[]` entry (`type` is serialised as `reason`, as in Go). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** StatusDetails is `metav1.StatusDetails`: which object the failure is about. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** KubernetesStatus is the wire shape of a failed `Status`, keys in the apiserver's order. */
export interface KubernetesStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** StatusResponse is a ready-to-send HTTP response: status code, headers and the JSON body. */
export interface StatusResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  status: KubernetesStatus;
}

/** statusFailure builds the `Status` object; `details` is omitted when not given. */
export function statusFailure(input: { code: number; reason: StatusReason; message: string; details?: StatusDetails }): KubernetesStatus {
  // Keys are written in the apiserver's order (`details` before `code`).
  const head = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: input.message, reason: input.reason } as const;
  if (input.details === undefined) return { ...head, code: input.code };
  return { ...head, details: input.details, code: input.code };
}

/** wholeSeconds turns a delay into the integer seconds `Retry-After` needs: at least 1, at most int32. */
function wholeSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 1) return 1;
  return Math.min(Math.ceil(seconds), 2_147_483_647);
}

/**
 * statusResponse wraps a `Status` in an HTTP response: JSON with a trailing newline, no
 * caching, no sniffing, and `Retry-After` whenever `details.retryAfterSeconds` is set (as the
 * apiserver's `ErrorNegotiated` does).
 */
export function statusResponse(status: KubernetesStatus): StatusResponse {
  const body = `${JSON.stringify(status)}\n`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-cache, private',
    'x-content-type-options': 'nosniff',
  };
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter !== undefined && retryAfter > 0) headers['retry-after'] = String(retryAfter);
  return { statusCode: status.code, headers, body, status };
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusResponse {
  return statusResponse(statusFailure(details === undefined ? { code, reason, message } : { code, reason, message, details }));
}

/** badRequest (400 BadRequest): the request is malformed or ambiguous; airlock will not forward it. */
export const badRequest = (message: string, details?: StatusDetails): StatusResponse => failure(400, 'BadRequest', message, details);

/** unauthorized (401 Unauthorized): no valid credential; the message says how to get one. */
export const unauthorized = (message: string): StatusResponse => failure(401, 'Unauthorized', message);

/**
 * forbidden (403 Forbidden): policy refused. `details` names the object (name, group, kind).
 *
 * @example
 * forbidden('airlock: rule "no-secrets" denies get secrets/db in prod', { name: 'db', kind: 'secrets' })
 */
export const forbidden = (message: string, details?: StatusDetails): StatusResponse => failure(403, 'Forbidden', message, details);

/** notFound (404 NotFound): e.g. an unknown connection name. */
export const notFound = (message: string, details?: StatusDetails): StatusResponse => failure(404, 'NotFound', message, details);

/** notAcceptable (406 NotAcceptable): the client accepts no format airlock can inspect. */
export const notAcceptable = (message: string): StatusResponse => failure(406, 'NotAcceptable', message);

/** unsupportedMediaType (415 UnsupportedMediaType): a request body airlock cannot read. */
export const unsupportedMediaType = (message: string): StatusResponse => failure(415, 'UnsupportedMediaType', message);

/**
 * tooManyRequests (429 TooManyRequests) with `Retry-After`: rate limited, or held for approval
 * (client-go then polls by itself). The delay is rounded up to whole seconds, at least 1.
 */
export const tooManyRequests = (message: string, retryAfterSeconds: number): StatusResponse =>
  failure(429, 'TooManyRequests', message, { retryAfterSeconds: wholeSeconds(retryAfterSeconds) });

/** internalError (500 InternalError): airlock itself broke; the message carries no internals. */
export const internalError = (message: string): StatusResponse => failure(500, 'InternalError', message);

/** badGateway (502 InternalError): the upstream answered with something airlock cannot pass on. */
export const badGateway = (message: string): StatusResponse => failure(502, 'InternalError', message);

/** serviceUnavailable (503 ServiceUnavailable), with `Retry-After` when a delay is given. */
export const serviceUnavailable = (message: string, retryAfterSeconds?: number): StatusResponse =>
  failure(
    503,
    'ServiceUnavailable',
    message,
    retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: wholeSeconds(retryAfterSeconds) },
  );

/** gatewayTimeout (504 Timeout): the upstream did not answer in time. */
export const gatewayTimeout = (message: string): StatusResponse => failure(504, 'Timeout', message);
