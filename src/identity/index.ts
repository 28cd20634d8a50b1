/**
 * Identity: turning a credential into an Identity (who, which groups, which issuer, until
 * when, agent or human). OIDC issuers via discovery and JWKS, and airlock's built-in issuer.
 */
export type { Credential, Identity, IdentityKind } from './identity.js';
export { createAuthenticator, type Authenticator, type AuthenticatorOptions } from './authenticator.js';
export {
  openBuiltinIssuer,
  type BuiltinDiscoveryDocument,
  type BuiltinIssuer,
  type BuiltinIssuerOptions,
  type MintRequest,
} from './builtin-issuer.js';
export { builtinAlgorithm, keyFilePath } from './builtin-key.js';
export { createCaFetch, loadCaFetch, type FetchLike } from './ca-fetch.js';
export { readClaim, readClientId, readGroups, readSubject } from './claims.js';
export { discoveryUrl, fetchDiscovery, type DiscoveredIssuer } from './discovery.js';
export {
  defaultAlgorithms,
  isRefusedAlgorithm,
  resolveIssuerConfig,
  type IssuerConfig,
  type ResolvedIssuerConfig,
} from './issuer-config.js';
export { decideKind, type KindInput } from './kind.js';
export { createTokenVerifier, tokenDigestId, type TokenVerifier, type TokenVerifierOptions } from './oidc-verifier.js';
export { createRemoteKeys, type KeyResolver, type RemoteKeysOptions } from './remote-keys.js';
export { maxTokenLength, readTokenShape, type TokenShape } from './token-shape.js';
export { parseTtl } from './ttl.js';
export {
  createVerificationCache,
  type VerificationCache,
  type VerificationCacheOptions,
} from './verification-cache.js';
