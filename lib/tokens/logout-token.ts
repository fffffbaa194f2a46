/** Logout-token validation, Back-Channel Logout 1.0 §2.6 step by step. */
import { compactDecrypt, jwtVerify } from 'jose'
import type { JWTHeaderParameters, JWTPayload, JWTVerifyGetKey } from 'jose'
import { LogoutError } from '../errors.js'
import type { BackchannelConfig } from '../options/channels.js'
import type { Config } from '../options/config.js'
import type { Subject } from '../stores/contract.js'
import { ASYMMETRIC_ALGORITHMS } from './access-token.js'
import { joseFailure, keysUnavailable } from './jose-errors.js'

/** The Back-Channel Logout event member of `events` (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** What a valid logout token says: who to log out, and since when. */
export interface LogoutClaims extends Subject {
  jti: string
  /** Seconds since the epoch. */
  iat: number
}

const SEGMENT = /^[A-Za-z0-9_-]*$/

/**
 * Builds the logout-token validator of Back-Channel Logout 1.0 §2.6. A cheap structural check comes first, then
 * the decryption (step 1), the signature with the pinned algorithm (step 2), the `typ` of the
 * header jose decoded for it, and the claims (steps 3-6). The replay check (step 7) is left to the caller so that only a valid token consumes its
 * `jti`. Rejects with a `LogoutError`: `400` for an invalid token, `503` when keys or provider
 * metadata cannot be loaded (the token may be valid; the provider should retry).
 */
export function createLogoutTokenVerifier(config: Config, bc: BackchannelConfig) {
  const algorithms = pinnedAlgorithms(config, bc)
  return async function verifyLogoutToken(token: string): Promise<LogoutClaims> {
    const unwrapped = unwrap(token, bc)
    const jws = typeof unwrapped === 'string' ? unwrapped : await unwrapped
    const loaded = loadKeys(config)
    const keys = loaded instanceof Promise ? await loaded : loaded
    let payload: JWTPayload
    let header: JWTHeaderParameters
    try {
      ;({ payload, protectedHeader: header } = await jwtVerify(jws, keys, {
        issuer: bc.issuer,
        audience: bc.audience,
        algorithms,
        maxTokenAge: bc.maxAge,
        clockTolerance: bc.clockTolerance,
        requiredClaims: ['iat', 'jti', 'events'],
      }))
    } catch (err) {
      throw joseFailure(err, 'ERR_LOGOUT_TOKEN_INVALID', 'The logout token')
    }
    checkTyp(header.typ)
    return checkClaims(payload)
  }
}

/**
 * Back-Channel Logout 1.0 §2.6 step 2: the algorithm is validated as for an ID token, which OpenID
 * Connect Core 1.0 §3.1.3.7 ties to the client's registered `id_token_signed_response_alg` (RS256
 * when none was registered): `backchannel.algorithms`, else the provider's `idTokenSigningAlg`,
 * else RS256. Never the OP's advertised list: a token signed with any other of its keys and
 * algorithms is refused.
 */
function pinnedAlgorithms(config: Config, bc: BackchannelConfig): string[] {
  if (bc.algorithms) return bc.algorithms
  const registered = config.provider?.idTokenSigningAlg
  return [registered !== undefined && ASYMMETRIC_ALGORITHMS.includes(registered) ? registered : 'RS256']
}

/** The verifier's keys: synchronously once they are known, else when they have loaded. */
function loadKeys(config: Config): JWTVerifyGetKey | Promise<JWTVerifyGetKey> {
  let keys: ReturnType<Config['verifier']['keys']>
  try {
    keys = config.verifier.keys()
  } catch (err) {
    throw keysUnavailable('The verification keys could not be loaded', err)
  }
  if (!(keys instanceof Promise)) return present(keys)
  return keys.then(present, (err: unknown) => {
    throw keysUnavailable('The verification keys could not be loaded', err)
  })
}

function present(keys: Awaited<ReturnType<Config['verifier']['keys']>>): JWTVerifyGetKey {
  // An HMAC `accessToken.key` is refused with the backchannel option at construction.
  if (keys === undefined) throw keysUnavailable('The provider publishes no verification keys (jwks_uri)')
  return keys as JWTVerifyGetKey
}

/**
 * Back-Channel Logout 1.0 §2.6 step 1: decrypt a JWE (5 segments) when a key is configured; a JWS
 * has 3 segments, and is answered synchronously (there is nothing to wait for).
 */
function unwrap(token: string, bc: BackchannelConfig): string | Promise<string> {
  const segments = token.split('.')
  if (!segments.every((s) => SEGMENT.test(s)) || (segments.length !== 3 && segments.length !== 5))
    throw invalid('The logout token is not a compact JWS or JWE')
  if (segments.length === 3) {
    // With encryption negotiated, an unencrypted token SHOULD be rejected (§2.6 step 1).
    if (bc.decryptionKey) throw invalid('The logout token must be encrypted')
    return token
  }
  if (!bc.decryptionKey) throw invalid('Encrypted logout tokens are not accepted (no decryption key)')
  return decrypt(token, bc.decryptionKey)
}

async function decrypt(token: string, key: NonNullable<BackchannelConfig['decryptionKey']>): Promise<string> {
  let plaintext: Uint8Array
  try {
    ;({ plaintext } = await compactDecrypt(token, key))
  } catch (err) {
    throw invalid('The logout token could not be decrypted', err)
  }
  const nested = new TextDecoder().decode(plaintext)
  if (nested.split('.').length !== 3) throw invalid('The encrypted logout token does not contain a JWS')
  return nested
}

/** `typ` is optional (Back-Channel Logout 1.0 §4.1: requiring it breaks deployments), but when present it must be right. */
function checkTyp(typ: unknown): void {
  if (typ === undefined) return
  const normalised = typeof typ === 'string' ? typ.toLowerCase() : ''
  const full = normalised.includes('/') ? normalised : `application/${normalised}`
  if (full !== 'application/logout+jwt') throw invalid('The logout token "typ" is not logout+jwt')
}

/** Back-Channel Logout 1.0 §2.6 steps 4-6 and the claim types this receiver relies on. */
function checkClaims(payload: JWTPayload): LogoutClaims {
  const events = payload.events as Record<string, unknown> | undefined
  if (!isObject(events)) throw invalid('The "events" claim must be a JSON object')
  if (!isObject(events[BACKCHANNEL_EVENT]))
    throw invalid(`The "events" claim must contain the ${BACKCHANNEL_EVENT} member as an object`)
  if (payload.nonce !== undefined) throw invalid('The logout token must not contain a "nonce"')
  if (payload.sid === undefined && payload.sub === undefined)
    throw invalid('The logout token must contain "sub", "sid" or both')
  return {
    iss: payload.iss!,
    sid: identifier(payload.sid, 'sid'),
    sub: identifier(payload.sub, 'sub'),
    jti: identifier(payload.jti, 'jti')!,
    iat: payload.iat!,
  }
}

function identifier(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024)
    throw invalid(`The "${name}" claim must be a non-empty string`)
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function invalid(message: string, cause?: unknown): LogoutError {
  return new LogoutError('ERR_LOGOUT_TOKEN_INVALID', message, { cause })
}
