/**
 * Sessions group the requests of one agent run. airlock's unit is the credential: every
 * request made with one token (one `kubectl` exec-plugin token, one OIDC access token)
 * belongs to one session, so an auditor can replay "what did this run do" in order.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../identity/identity.js';

/** sessionIdFor derives a stable session id from the identity's issuer and token id (never the token). */
export function sessionIdFor(identity: Pick<Identity, 'issuer' | 'tokenId'>): string {
  const digest = createHash('sha256').update(identity.issuer).update('\0').update(identity.tokenId).digest('hex');
  return `ses_${digest.slice(0, 24)}`;
}
