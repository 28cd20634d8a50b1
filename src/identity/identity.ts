/**
 * Identity is who a request comes from, as established by a verifier (OIDC issuer,
 * built-in issuer, Kubernetes service account). It is what policy sees as `identity`
 * and what the ledger records; it never carries the credential itself.
 */
export type IdentityKind = 'agent' | 'human';

export interface Identity {
  /** Stable subject, e.g. `agent:deploy-bot` or an IdP's `sub`. */
  subject: string;
  /** Group names from the configured groups claim (always an array, possibly empty). */
  groups: string[];
  /** The issuer (`iss`) that vouched for the subject. */
  issuer: string;
  /** The token's `jti` when present; otherwise a SHA-256 prefix of the token (never the token). */
  tokenId: string;
  /** Expiry of the credential, seconds since the epoch. */
  expiresAt: number;
  kind: IdentityKind;
  /** Authorized party / OAuth client (`azp` or `client_id`) when the token carries one. */
  clientId?: string;
  /** Which verifier produced this identity: an issuer name from config, `builtin`, or `kubernetes`. */
  via: string;
}

/** A protocol-neutral credential as presented by a client. */
export interface Credential {
  type: 'bearer';
  token: string;
}
