/** The one error class of sso-logout, its codes, and the one table from code to HTTP status. */

/**
 * Every code a {@link LogoutError} can carry, with the HTTP status it answers with. Codes are
 * stable: match on them, not on messages. This table is the only place a status is chosen, so one
 * code always means one status (the back-channel receiver words its answers in Back-Channel Logout
 * 1.0 §2.8 terms, but derives them from these statuses).
 */
export const ERROR_STATUS = Object.freeze({
  /** `403`: a cross-site request to the logout route. */
  ERR_CROSS_SITE_REQUEST: 403,
  /** `400`: `returnTo` is not on the allow-list. */
  ERR_RETURN_TO_NOT_ALLOWED: 400,
  /** `413`: a request body over the route's limit. */
  ERR_BODY_TOO_LARGE: 413,
  /** `400`: a body that cannot be read or parsed. */
  ERR_BODY_INVALID: 400,
  /** `405`: a method the back-channel or front-channel route does not take. */
  ERR_METHOD_NOT_ALLOWED: 405,
  /** `400`: an access token that failed verification (it then selects nothing). */
  ERR_TOKEN_INVALID: 400,
  /** `400`: an access token expired for longer than `accessToken.expiredGrace`. */
  ERR_TOKEN_EXPIRED: 400,
  /** `400`: an access token longer than `accessToken.maxLength`. */
  ERR_TOKEN_TOO_LARGE: 400,
  /** `503`: the verification keys (or the metadata naming them) could not be loaded. */
  ERR_JWKS_UNAVAILABLE: 503,
  /** `400`: a logout token that fails Back-Channel Logout 1.0 §2.6. */
  ERR_LOGOUT_TOKEN_INVALID: 400,
  /** `400`: a logout token whose `jti` was already received (§2.6 step 7). */
  ERR_LOGOUT_TOKEN_REPLAYED: 400,
  /** `400`: a front-channel request with malformed `iss`/`sid`. */
  ERR_FRONTCHANNEL_INVALID: 400,
  /** `500`: the express-session store could not destroy a session. */
  ERR_SESSION_STORE: 500,
  /** `503`: the sso-logout store (index, revocations, replay cache) could not be reached. */
  ERR_STORE: 503,
  /** `502`: OpenID Provider discovery failed. */
  ERR_PROVIDER_DISCOVERY: 502,
  /** `502`: a call to the identity provider could not be made or timed out. */
  ERR_PROVIDER_REQUEST: 502,
  /** `502`: the identity provider answered something unusable. */
  ERR_PROVIDER_RESPONSE: 502,
})

/** Every code a {@link LogoutError} can carry. */
export type LogoutErrorCode = keyof typeof ERROR_STATUS

/** Options accepted by the {@link LogoutError} constructor. */
export interface LogoutErrorOptions {
  /** The underlying error (a jose error, a store error, a fetch failure...). */
  cause?: unknown
  /**
   * The HTTP status, for adapters outside this package that need another one. sso-logout itself
   * never passes it: its statuses come from {@link ERROR_STATUS}. Defaults to the code's status.
   */
  status?: number | undefined
}

/**
 * The one error class of sso-logout. `code` says what failed; `cause` keeps the original error.
 *
 * @example
 * ```ts
 * if (err instanceof LogoutError && err.code === 'ERR_SESSION_STORE') retryLater()
 * ```
 */
export class LogoutError extends Error {
  readonly code: LogoutErrorCode
  /** HTTP status used when this error answers a request: `ERROR_STATUS[code]` unless overridden. */
  readonly status: number

  constructor(code: LogoutErrorCode, message: string, options: LogoutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options.status ?? ERROR_STATUS[code] ?? 500
  }
}

/** Wraps anything thrown into a {@link LogoutError} with `code`, keeping the original as `cause`. */
export function asLogoutError(code: LogoutErrorCode, message: string, cause: unknown): LogoutError {
  if (cause instanceof LogoutError) return cause
  const detail = cause instanceof Error ? `: ${cause.message}` : ''
  return new LogoutError(code, `${message}${detail}`, { cause })
}
