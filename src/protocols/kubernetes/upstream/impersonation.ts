/**
 * Whom the cluster sees: the Impersonate-* headers airlock adds to a forwarded request so
 * that the cluster's RBAC decides, and its audit log names, the real caller instead of
 * airlock's service account (reference §4; kube-apiserver's WithImpersonation).
 *
 * - `Impersonate-User`: userPrefix + subject.
 * - `Impersonate-Group`: one header value per group — groupPrefix + each of the caller's
 *   groups, then the connection's fixed `groups` — without duplicates. `system:authenticated`
 *   is never sent: the apiserver adds it to every impersonated user itself, and sending it
 *   would need an extra `impersonate` grant on that group for nothing.
 * - `Impersonate-Uid` (with `uid: true`): a stable id of the principal — the first 32 hex
 *   digits of SHA-256 over `issuer`, a newline, and `subject`. Not the token id: a Kubernetes
 *   uid names a user across time ("if this user is deleted and another one of the same name
 *   added, they have different UIDs"), while a token id changes at every mint. The issuer is
 *   part of it so that `alice` from two IdPs are two uids. The token id travels in an extra.
 * - `Impersonate-Extra-airlock.dev%2Fissuer`, `…%2Ftoken-id`, `…%2Fkind` (with `extra: true`):
 *   the identity's issuer, token id (a jti or a hash prefix, never the token) and kind, so
 *   one cluster audit event can be matched with airlock's ledger entry. Keys are escaped
 *   exactly as client-go's `headerKeyEscape` does (the apiserver lower-cases and
 *   percent-unescapes them).
 *
 * Header values carry the UTF-8 bytes of each name, as client-go sends a Go string, so a user
 * `josé` or a group `équipe-日本` from an IdP reaches the cluster's RBAC and audit log as it was
 * named. Node writes header strings as Latin-1, so each value is returned as the "binary
 * string" of its UTF-8 bytes (`headerValueOf`). A name with a control character (CR, LF, NUL …)
 * cannot be put in a header at all: client-go refuses it too, and so does airlock, with
 * AIRLOCK_INPUT_INVALID naming the field.
 *
 * Identities that came from this cluster's own TokenReview (`via: 'kubernetes'`) keep their
 * names unprefixed: `system:serviceaccount:<ns>:<name>` and its groups are the cluster's own
 * names, and a prefix would make them someone else. Mode `fixed` sends no headers at all.
 *
 * Pure: no I/O. The caller must also strip every client-sent `Impersonate-*` header.
 */
import { createHash } from 'node:crypto';
import { AirlockError } from '../../../errors.js';
import type { KubernetesConnectionConfig } from '../../../config/kubernetes-schema.js';
import type { Identity } from '../../../identity/identity.js';

export type IdentityMapping = KubernetesConnectionConfig['identity'];

/** The extra keys airlock sends with `extra: true`, unescaped (as the apiserver stores them). */
export const extraKeys = { issuer: 'airlock.dev/issuer', tokenId: 'airlock.dev/token-id', kind: 'airlock.dev/kind' } as const;

/** The group the apiserver adds to every authenticated user; never impersonated explicitly. */
const authenticatedGroup = 'system:authenticated';

/**
 * impersonationHeaders returns the headers that make the cluster act as `identity`
 * (lower-case names; an array value means one header line per element). With
 * `options.connection`, a Kubernetes service-account identity reviewed by another
 * connection's cluster is refused with AIRLOCK_INPUT_INVALID: the same service-account name
 * in another cluster is another principal.
 *
 * @example
 * impersonationHeaders(identity, { mode: 'impersonate', userPrefix: 'airlock:', groupPrefix: 'airlock:', groups: ['airlock:agents'], uid: false, extra: false })
 * // → { 'impersonate-user': 'airlock:agent:deploy-bot', 'impersonate-group': ['airlock:ci', 'airlock:agents'] }
 */
const systemPrefix = 'system:';

export function impersonationHeaders(
  identity: Identity,
  mapping: IdentityMapping,
  options: { connection?: string } = {},
): Record<string, string | string[]> {
  if (mapping.mode === 'fixed') return {};
  const own = identity.via === 'kubernetes';
  if (own && options.connection !== undefined && identity.issuer !== `kubernetes:${options.connection}`) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `a service-account identity from ${identity.issuer} cannot be impersonated on connection "${options.connection}"`);
  }
  const userPrefix = own ? '' : mapping.userPrefix;
  const groupPrefix = own ? '' : mapping.groupPrefix;
  const groups: string[] = [];
  // `system:` names belong to the cluster (system:masters is cluster-admin). A caller's token may
  // not claim them: only an identity the cluster itself reviewed keeps its system: groups.
  const callerGroups = identity.groups
    .filter((g) => g !== authenticatedGroup)
    .map((g) => groupPrefix + g)
    .filter((g) => own || !g.startsWith(systemPrefix));
  if (!own && (userPrefix + identity.subject).startsWith(systemPrefix)) {
    throw new AirlockError(
      'AIRLOCK_INPUT_INVALID',
      `airlock will not impersonate "${userPrefix + identity.subject}": system: user names belong to the cluster; set identity.userPrefix on connection "${options.connection ?? '?'}"`,
    );
  }
  for (const group of [...callerGroups, ...mapping.groups]) {
    if (group !== authenticatedGroup && !groups.includes(group)) groups.push(group);
  }
  const headers: Record<string, string | string[]> = { 'impersonate-user': headerValueOf('user', userPrefix + identity.subject) };
  if (groups.length > 0) headers['impersonate-group'] = groups.map((g) => headerValueOf('group', g));
  if (mapping.uid) headers['impersonate-uid'] = principalUid(identity);
  if (mapping.extra) {
    headers[extraHeaderName(extraKeys.issuer)] = headerValueOf('issuer', identity.issuer);
    headers[extraHeaderName(extraKeys.tokenId)] = headerValueOf('token id', identity.tokenId);
    headers[extraHeaderName(extraKeys.kind)] = identity.kind;
  }
  return headers;
}

/** Control characters an HTTP header value cannot carry (horizontal tab excepted, as in net/http). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * headerValueOf returns `value` as the Latin-1 string of its UTF-8 bytes, which Node writes to
 * the wire as exactly those bytes; ASCII comes back unchanged. A control character is refused.
 */
export function headerValueOf(field: string, value: string): string {
  if (CONTROL.test(value)) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `airlock cannot impersonate a ${field} whose name has a control character (${JSON.stringify(value)}): an HTTP header cannot carry it`);
  }
  return /^[ -~]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/** principalUid is the value of Impersonate-Uid: stable per (issuer, subject), see the module comment. */
export function principalUid(identity: Pick<Identity, 'issuer' | 'subject'>): string {
  return createHash('sha256').update(`${identity.issuer}\n${identity.subject}`).digest('hex').slice(0, 32);
}

/** extraHeaderName is `impersonate-extra-` + the escaped key. */
export function extraHeaderName(key: string): string {
  return `impersonate-extra-${headerKeyEscape(key)}`;
}

/**
 * headerKeyEscape percent-encodes every byte (of the UTF-8 key) that is not an HTTP token
 * character, and `%` itself, as `%XX` with upper-case hex — client-go's `headerKeyEscape`
 * (transport/round_trippers.go), so the apiserver's `url.PathUnescape` gives the key back.
 */
export function headerKeyEscape(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    out += byte !== 0x25 && tokenByte[byte] ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** RFC 7230 `tchar` (net/http's isTokenTable, which client-go copies). */
const tokenByte: boolean[] = Array.from({ length: 256 }, (_, b) => b < 0x7f && /[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(String.fromCharCode(b)));
