/**
 * Every code a {@link LogoutError} can carry. Codes are stable: match on them, not on messages.
 */
export type LogoutErrorCode =
  | 'ERR_CROSS_SITE_REQUEST'
  | 'ERR_RETURN_TO_NOT_ALLOWED'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_BODY_INVALID'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_LOGOUT_TOKEN_INVALID'
  | 'ERR_LOGOUT_TOKEN_REPLAYED'
  | 'ERR_FRONTCHANNEL_INVALID'
  | 'ERR_SESSION_STORE'
  | 'ERR_STORE'
  | 'ERR_PROVIDER_DISCOVERY'
  | 'ERR_PROVIDER_REQUEST'
  | 'ERR_PROVIDER_RESPONSE'
  | 'ERR_PROVIDER_NO_SESSION'
  | 'ERR_ON_LOGOUT_HOOK'

/** Options accepted by the {@link LogoutError} constructor. */
export interface LogoutErrorOptions {
  /** The underlying error (a jose error, a store error, a fetch failure...). */
  cause?: unknown
  /** The HTTP status this failure answers with, when it reaches a response. */
  status?: number
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
  /** HTTP status used when this error answers a request. */
  readonly status: number

  constructor(code: LogoutErrorCode, message: string, options: LogoutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options.status ?? 500
  }
}

/** Wraps anything thrown into a {@link LogoutError} with `code`, keeping the original as `cause`. */
export function asLogoutError(
  code: LogoutErrorCode,
  message: string,
  cause: unknown,
  status?: number,
): LogoutError {
  if (cause instanceof LogoutError) return cause
  const detail = cause instanceof Error ? `: ${cause.message}` : ''
  return new LogoutError(code, `${message}${detail}`, { cause, status })
}
