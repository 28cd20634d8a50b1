/**
 * The error catalog: every error airlock reports to a user has a stable code, an HTTP-ish
 * status and a message template. docs/errors.md gives each code a "how to solve" row.
 * Match errors on `code`, never on the message.
 */
export const errorCatalog = {
  AIRLOCK_CONFIG_INVALID: { status: 400, message: 'configuration is invalid' },
  AIRLOCK_CONFIG_NOT_FOUND: { status: 400, message: 'configuration file not found' },
  AIRLOCK_CONFIG_ENV_MISSING: { status: 400, message: 'configuration references an unset environment variable' },
  AIRLOCK_POLICY_INVALID: { status: 400, message: 'policy is invalid' },
  AIRLOCK_POLICY_EVAL: { status: 500, message: 'policy evaluation failed' },
  AIRLOCK_AUTH_MISSING: { status: 401, message: 'no credential was presented' },
  AIRLOCK_AUTH_MALFORMED: { status: 401, message: 'the token is malformed' },
  AIRLOCK_AUTH_UNKNOWN_ISSUER: { status: 401, message: 'the token was issued by an issuer airlock does not trust' },
  AIRLOCK_AUTH_BAD_SIGNATURE: { status: 401, message: 'the token signature does not verify' },
  AIRLOCK_AUTH_EXPIRED: { status: 401, message: 'the token has expired' },
  AIRLOCK_AUTH_NOT_YET_VALID: { status: 401, message: 'the token is not valid yet' },
  AIRLOCK_AUTH_WRONG_AUDIENCE: { status: 401, message: 'the token is not meant for airlock (audience)' },
  AIRLOCK_AUTH_ALG_REFUSED: { status: 401, message: 'the token uses a signing algorithm airlock refuses' },
  AIRLOCK_AUTH_UNKNOWN_KEY: { status: 401, message: 'the token is signed by a key the issuer does not publish' },
  AIRLOCK_AUTH_CLAIMS: { status: 401, message: 'the token lacks a required claim' },
  AIRLOCK_AUTH_ISSUER_UNAVAILABLE: { status: 503, message: 'the token issuer could not be reached' },
  AIRLOCK_LEDGER_UNAVAILABLE: { status: 503, message: 'the ledger cannot record; requests are refused until it can' },
  AIRLOCK_LEDGER_CORRUPT: { status: 500, message: 'the ledger failed verification' },
  AIRLOCK_INPUT_INVALID: { status: 400, message: 'the input is invalid' },
  AIRLOCK_INTERNAL: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

/** AirlockError is a broken thing with a stable code; refusals are Decisions, not errors. */
export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    const base = errorCatalog[code];
    super(detail ? `${base.message}: ${detail}` : base.message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'AirlockError';
    this.code = code;
    this.status = base.status;
    this.details = options?.details;
  }
}

/** isAirlockError narrows an unknown thrown value, optionally to one code. */
export function isAirlockError(err: unknown, code?: ErrorCode): err is AirlockError {
  return err instanceof AirlockError && (code === undefined || err.code === code);
}
