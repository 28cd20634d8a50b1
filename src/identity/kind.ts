/**
 * Deciding whether a verified token speaks for an agent (a program) or a human. Policy uses
 * the kind to hold agents to stricter rules; the ledger records it. The guess is only a
 * default: an issuer config that sets `kind` wins, and built-in tokens say what they are.
 */
import type { JWTPayload } from 'jose';
import type { IdentityKind } from './identity.js';

/** Claims that only a person's token carries; a token with none of them is a machine's. */
const humanClaims = ['email', 'preferred_username', 'name', 'given_name', 'family_name', 'upn'];

export interface KindInput {
  /** The issuer config's `kind` (`auto` to guess). */
  configured: 'auto' | IdentityKind;
  claims: JWTPayload;
  /** The subject as the token states it, before any configured prefix. */
  rawSubject: string;
  /** The final subject (with prefix). */
  subject: string;
  clientId?: string;
  /** True only for airlock's own issuer, whose `airlock_kind` claim is trusted. */
  trustKindClaim: boolean;
}

/**
 * decideKind returns the configured kind, else the built-in `airlock_kind` claim, else a
 * guess: `agent` for an `agent:` subject, for a client-credentials token (the subject is the
 * client itself, or Auth0's `gty`, or a Keycloak service account) and for a token carrying no
 * human claims; otherwise `human`.
 */
export function decideKind(input: KindInput): IdentityKind {
  if (input.configured !== 'auto') return input.configured;
  const { claims } = input;
  if (input.trustKindClaim && (claims.airlock_kind === 'agent' || claims.airlock_kind === 'human')) {
    return claims.airlock_kind;
  }
  if (input.rawSubject.startsWith('agent:') || input.subject.startsWith('agent:')) return 'agent';
  if (input.clientId !== undefined && input.rawSubject === input.clientId) return 'agent';
  if (claims.gty === 'client-credentials') return 'agent';
  const username = claims.preferred_username;
  if (typeof username === 'string' && username.startsWith('service-account-')) return 'agent';
  return humanClaims.some((name) => claims[name] !== undefined) ? 'human' : 'agent';
}
