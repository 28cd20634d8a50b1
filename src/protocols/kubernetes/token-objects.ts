/**
 * Cluster credentials in API objects other than Secrets:
 *
 * - a TokenRequest (`kubectl create token`: POST `serviceaccounts/<name>/token`) is answered
 *   with a new service-account token in `status.token`. Handed to the caller, it would let the
 *   caller reach the cluster without airlock: the caller gets a placeholder instead, unless
 *   policy grants clear Secret values (break-glass, `unmask: [secrets]`);
 * - a TokenReview carries the token under review in `spec.token`, in the request and echoed in
 *   the answer. The caller sent it, so its answer passes unchanged.
 *
 * The ledger never holds either token: its copies of the request (including the object a dry
 * run returned for it) and of the answer carry the placeholder, which is the same HMAC marker
 * Secret values get, so an auditor can still tell two tokens apart.
 */
import type { Placeholder } from '../../masking/index.js';
import type { RequestInfo } from './request-info.js';

/** Where a request's objects carry a token: `status` of a TokenRequest, `spec` of a TokenReview. */
export type TokenSection = 'status' | 'spec';

/** tokenSectionOf says which section of the request's objects holds a token, if any. */
export function tokenSectionOf(info: RequestInfo | undefined): TokenSection | undefined {
  if (!info?.isResourceRequest) return undefined;
  if (info.apiGroup === '' && info.resource === 'serviceaccounts' && info.subresource === 'token') return 'status';
  if (info.apiGroup === 'authentication.k8s.io' && info.resource === 'tokenreviews') return 'spec';
  return undefined;
}

/** maskToken returns a copy of `value` whose `<section>.token` is the placeholder; anything else is returned as it is. */
export function maskToken(value: unknown, section: TokenSection, placeholder: Placeholder): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  const part = object[section];
  if (typeof part !== 'object' || part === null || typeof (part as { token?: unknown }).token !== 'string') return value;
  const token = (part as { token: string }).token;
  if (token === '') return value;
  return { ...object, [section]: { ...(part as object), token: placeholder.marker('token', token) } };
}

/**
 * maskTokenBody masks the token of a whole JSON answer. A body that is not JSON cannot be
 * checked, so it is refused (undefined): the caller fails closed.
 */
export function maskTokenBody(body: Buffer, section: TokenSection, placeholder: Placeholder): Buffer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const masked = maskToken(parsed, section, placeholder);
  return masked === parsed ? body : Buffer.from(JSON.stringify(masked));
}
