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
  AIRLOCK_LEDGER_KEY_MISSING: { status: 400, message: 'the data dir has no ledger signing key yet (start airlock once to create it)' },
  AIRLOCK_ISSUER_KEY_INVALID: { status: 500, message: 'the built-in issuer key cannot be used' },
  AIRLOCK_LEDGER_NOT_FOUND: { status: 404, message: 'no ledger was found at the given location' },
  AIRLOCK_LEDGER_CHAIN_IN_USE: { status: 409, message: 'another airlock process is writing this ledger chain' },
  AIRLOCK_LISTEN_FAILED: { status: 500, message: 'a listener could not bind its address' },
  AIRLOCK_MASK_INVALID_JSON: { status: 502, message: 'the upstream response is not valid JSON, so airlock cannot mask it; nothing more of it was passed on' },
  AIRLOCK_MASK_TOO_LARGE: { status: 502, message: 'an object in the upstream response is larger than airlock will mask; nothing more of it was passed on' },
  AIRLOCK_MASK_PLACEHOLDER_WRITE: { status: 400, message: 'this Secret was read through airlock with masked values; write the real values explicitly' },
  AIRLOCK_K8S_PATH_REFUSED: { status: 400, message: 'the request path was refused because Kubernetes could read it differently than airlock; send it in plain, canonical form' },
  AIRLOCK_POLICY_NOT_FOUND: { status: 400, message: 'the policy file cannot be read' },
  AIRLOCK_UPSTREAM_CONFIG: { status: 502, message: 'the upstream of a connection cannot be used as configured' },
  AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED: { status: 401, message: 'the cluster did not accept this service-account token' },
  AIRLOCK_SPDY_FRAME_INVALID: { status: 400, message: 'a SPDY frame is malformed, so airlock cannot read the stream; the SPDY session was ended' },
  AIRLOCK_SPDY_FRAME_TOO_LARGE: { status: 400, message: 'a SPDY frame is larger than airlock accepts; the SPDY session was ended' },
  AIRLOCK_SPDY_HEADERS_INVALID: { status: 400, message: 'a SPDY header block cannot be decompressed or read; the SPDY session was ended' },
  AIRLOCK_SPDY_STREAM_INVALID: { status: 400, message: 'a SPDY frame refers to a stream in a way the protocol forbids; the SPDY session was ended' },
  AIRLOCK_K8S_STREAM_MALFORMED: { status: 400, message: 'a stream message cannot be read as its negotiated protocol defines it, so it was not passed on' },
  AIRLOCK_K8S_STREAM_SUBPROTOCOL: { status: 502, message: 'the WebSocket subprotocol cannot be agreed so that airlock reads the stream as both ends do' },
  AIRLOCK_K8S_TAR_MALFORMED: { status: 400, message: 'a kubectl cp stream is not a tar archive airlock can read, so the transfer was ended rather than passed unread' },
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
