/** The one map from jose's errors to sso-logout's: the token's own fault, or keys we could not load. */
import { errors } from 'jose'
import createDebug from 'debug'
import { LogoutError } from '../errors.js'
import type { LogoutErrorCode } from '../errors.js'

const debug = createDebug('sso-logout:token')

/**
 * jose codes that say nothing about the token: the key set timed out, was malformed, or could not
 * be fetched. A token refused for these may well be valid, so the caller must be told to retry.
 */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'])

/**
 * Classifies a failure of `jwtVerify` for a token of `kind`: the token's fault becomes `invalid`
 * (with the jose code in the message), anything else `ERR_JWKS_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * catch (err) { return { error: joseFailure(err, 'ERR_TOKEN_INVALID', 'The access token') } }
 * ```
 */
export function joseFailure(err: unknown, invalid: LogoutErrorCode, what: string): LogoutError {
  if (err instanceof errors.JOSEError && !KEY_SET_FAILURES.has(err.code)) {
    debug('%s refused: %s', what, err.code)
    return new LogoutError(invalid, `${what} is invalid (${err.code}: ${err.message})`, { cause: err })
  }
  return keysUnavailable('The verification keys could not be loaded', err)
}

/** `ERR_JWKS_UNAVAILABLE`: the keys, or the metadata naming them, could not be had (`503`). */
export function keysUnavailable(message: string, cause?: unknown): LogoutError {
  if (cause instanceof LogoutError && cause.code === 'ERR_JWKS_UNAVAILABLE') return cause
  debug('%s: %O', message, cause)
  return new LogoutError('ERR_JWKS_UNAVAILABLE', message, { cause })
}
