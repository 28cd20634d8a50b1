/**
 * withAuthentication turns the credential the adapter found into an Identity. No credential,
 * or one that does not verify, is refused with 401 and the verifier's plain reason (never
 * the token). The session id is derived here, from the verified identity.
 */
import { isAirlockError } from '../errors.js';
import type { Identity } from '../identity/identity.js';
import { refusal, type Exchange, type Refusal } from './exchange.js';
import { sessionIdFor } from './session.js';
import type { Stage } from './stage.js';

/** Authenticate verifies a bearer credential in the context of an exchange (its connection may add verifiers). */
export type Authenticate = (credential: string, x: Exchange) => Promise<Identity>;

export interface AuthenticationDeps {
  authenticate: Authenticate;
  /** Counts refusals by reason code (metrics). */
  onFailure?: (code: string) => void;
}

export function withAuthentication<X extends Exchange>(next: Stage<X>, deps: AuthenticationDeps): Stage<X> {
  return async function authentication(x: X): Promise<Refusal | void> {
    if (!x.credential) {
      deps.onFailure?.('AIRLOCK_AUTH_MISSING');
      return refusal(401, 'unauthenticated', 'no bearer token was presented; use a kubeconfig written by `airlock kubeconfig` or a token from your identity provider');
    }
    try {
      x.identity = await deps.authenticate(x.credential, x);
    } catch (err) {
      const code = isAirlockError(err) ? err.code : 'AIRLOCK_INTERNAL';
      deps.onFailure?.(code);
      if (isAirlockError(err) && err.status === 503) {
        return refusal(503, 'upstream-unavailable', `${err.message} [${err.code}]`, { retryAfterSeconds: 5 });
      }
      const message = isAirlockError(err) ? `${err.message} [${err.code}]` : 'the credential could not be verified';
      return refusal(401, 'unauthenticated', message);
    }
    x.sessionId = sessionIdFor(x.identity);
    return next(x);
  };
}
