/** Remote JWKS: one jose key set per URL and limits, bounded in time and size. */
import { createRemoteJWKSet, customFetch } from 'jose'
// jose is an ES module: this package's CommonJS declarations must say so (TS1541 under node16).
import type { FetchImplementation, JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' }
import createDebug from 'debug'
import { LogoutError } from '../errors.js'
import { readCapped } from '../outbound.js'

const debug = createDebug('sso-logout:jwks')

/** Bounds on one remote JWKS: how long a fetch may take and how large its answer may be. */
export interface JwksLimits {
  /** Milliseconds for the whole fetch, body included. */
  timeout: number
  /** Largest response body read, in bytes; one byte more aborts the fetch. */
  maxBytes: number
}

/** 5 s: jose's own default, kept explicit so it is documented in one place. */
export const DEFAULT_JWKS_TIMEOUT = 5000
/** 512 KiB: a JWKS with dozens of RSA-4096 keys is under 50 KiB; ten times that is still no real set. */
export const DEFAULT_JWKS_MAX_BYTES = 512 * 1024

/**
 * A fetch for jose's `customFetch` that refuses to buffer more than `maxBytes` of a JWKS answer.
 * A hostile or compromised peer posing as the IdP could otherwise stream an endless body into memory
 * (jose reads the whole body with `response.json()`). The declared `Content-Length` is checked first;
 * the stream is then counted, because the header may lie or be absent (chunked encoding).
 *
 * @example
 * ```ts
 * createRemoteJWKSet(url, { [customFetch]: cappedFetch(512 * 1024) })
 * ```
 */
export function cappedFetch(maxBytes: number, fetchImpl: typeof fetch = fetch): FetchImplementation {
  return async function fetchJwksCapped(url, options) {
    const response = await fetchImpl(url, options)
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (declared > maxBytes) {
      await response.body?.cancel()
      throw tooLarge(maxBytes)
    }
    const body = await readCapped(response, maxBytes, () => tooLarge(maxBytes))
    return new Response(body, { status: response.status, headers: response.headers })
  }
}

function tooLarge(maxBytes: number): LogoutError {
  debug('JWKS answer over %d bytes refused', maxBytes)
  return new LogoutError('ERR_JWKS_UNAVAILABLE', `The JWKS response is larger than ${maxBytes} bytes`)
}

const remoteSets = new Map<string, JWTVerifyGetKey>()

/**
 * The remote key set for `url`, created once per URL and limits so that jose's cache and its
 * refetch cooldown are shared by every verifier of the process. Every remote JWKS of sso-logout
 * (access tokens, logout tokens) goes through here, so every one is bounded in time and size.
 * Redirects are not followed (jose asks for `redirect: 'manual'` and wants a 200).
 *
 * @example
 * ```ts
 * const keys = remoteJwks(new URL('https://id.example.com/jwks'), { timeout: 5000, maxBytes: 524288 })
 * await jwtVerify(token, keys, { issuer: 'https://id.example.com' })
 * ```
 */
export function remoteJwks(url: URL, limits: JwksLimits): JWTVerifyGetKey {
  const key = `${limits.timeout} ${limits.maxBytes} ${url.href}`
  let set = remoteSets.get(key)
  if (!set) {
    set = createRemoteJWKSet(url, {
      timeoutDuration: limits.timeout,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
      [customFetch]: cappedFetch(limits.maxBytes),
    })
    remoteSets.set(key, set)
  }
  return set
}
