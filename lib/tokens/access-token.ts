/** Access-token verification with jose: the key source chosen once, and one subject per credential. */
import { createLocalJWKSet, errors, importJWK, jwtVerify } from 'jose'
// jose is an ES module: this package's CommonJS declarations must say so (TS1541 under node16).
import type {
  CryptoKey,
  JSONWebKeySet,
  JWK,
  JWTPayload,
  JWTVerifyGetKey,
  JWTVerifyOptions,
  KeyObject,
} from 'jose' with {
  'resolution-mode': 'import',
}
import { KeyObject as NodeKeyObject } from 'node:crypto'
import { LogoutError } from '../errors.js'
import type { Provider } from '../providers/contract.js'
import type { Subject } from '../stores/contract.js'
import { createClockLead } from './clock.js'
import { joseFailure, keysUnavailable } from './jose-errors.js'
import { remoteJwks } from './jwks.js'

/** Asymmetric JWS algorithms: the default, so `none` and HS* (RSA-key-as-secret confusion) are refused. */
export const ASYMMETRIC_ALGORITHMS = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
])
export const SECRET_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512'])

/** Resolved `accessToken` options (see `AccessTokenOptions`). */
export interface VerifierConfig {
  jwks?: URL | JSONWebKeySet
  key?: KeyObject | JWK | Uint8Array
  issuer?: string
  audience?: string | string[]
  algorithms: string[]
  sidClaim: string
  expiredGrace: number
  clockTolerance: number
  /** Longest token read, in bytes (UTF-8). */
  maxLength: number
  /** Milliseconds a remote JWKS fetch may take. */
  jwksTimeout: number
  /** Largest remote JWKS answer read, in bytes. */
  jwksMaxBytes: number
}

/** A token whose signature and claims checked out, with the subject it names. */
export interface VerifiedToken extends Subject {
  claims: JWTPayload
  /** `iat` in seconds, when present. */
  iat?: number
  /** Past `exp` but within `expiredGrace`: good enough to find its session, not to authorise. */
  expired: boolean
}

export type Verification =
  { token: VerifiedToken; error?: undefined } | { token?: undefined; error: LogoutError }

/** jose's options, with the one issuer this verifier accepts (or none configured). */
type VerifyOptions = JWTVerifyOptions & { issuer: string | undefined }

type KeySource = JWTVerifyGetKey | KeyObject | CryptoKey | Uint8Array | JWK

/**
 * Builds the access-token verifier once: the key source is chosen up front (a single key, a local
 * JWKS, a JWKS URL, or the provider's JWKS found lazily), and remote key sets are created once per
 * URL so jose caches keys and refetches on an unknown `kid` with its cooldown.
 */
export function createVerifier(config: VerifierConfig, provider: Provider | undefined) {
  let keySource: Promise<KeySource | undefined> | undefined
  // The key source once it is known, so a verification need not wait on the settled promise again.
  let resolved: { keys: KeySource | undefined } | undefined
  const loadKeys = (): Promise<KeySource | undefined> => {
    keySource ??= resolveKeySource(config, provider).then(
      (keys) => {
        resolved = { keys }
        return keys
      },
      (err: unknown) => {
        keySource = undefined
        throw err
      },
    )
    return keySource
  }
  const issuer = config.issuer ?? provider?.issuer
  // The same for every token: built once, not per verification.
  const options: VerifyOptions = {
    issuer,
    audience: config.audience,
    algorithms: config.algorithms,
    clockTolerance: config.clockTolerance,
  }
  const enabled = config.key !== undefined || config.jwks !== undefined || provider !== undefined
  // Learnt from every token this verifier accepts; guard allows for it when it compares `iat`.
  const clock = createClockLead()

  async function verify(jwt: string): Promise<Verification> {
    // A UTF-16 unit is at most 3 bytes of UTF-8: a token that short needs no byte count.
    if (jwt.length * 3 > config.maxLength && Buffer.byteLength(jwt) > config.maxLength) {
      return {
        error: new LogoutError(
          'ERR_TOKEN_TOO_LARGE',
          `The access token is longer than ${config.maxLength} bytes`,
        ),
      }
    }
    let keys = resolved?.keys
    if (resolved === undefined) {
      try {
        keys = await loadKeys()
      } catch (err) {
        return { error: keysUnavailable('The verification keys could not be loaded', err) }
      }
    }
    if (!keys) return { error: new LogoutError('ERR_TOKEN_INVALID', 'No verification key is configured') }
    // The usual token is verified here, in one step; verifyFailed handles the rest.
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(jwt, keys as JWTVerifyGetKey, options))
    } catch (err) {
      return verifyFailed(jwt, keys, config, options, err)
    }
    const token = toVerified(payload, config, issuer, false)
    clock.observe(token.iat)
    return { token }
  }

  // `keys` lets the back-channel receiver verify logout tokens with the same (once-created) key
  // source: the source itself once it is known, so a logout token need not wait for it again.
  const keys = (): KeySource | undefined | Promise<KeySource | undefined> =>
    resolved === undefined ? loadKeys() : resolved.keys
  return { verify, issuer, enabled, sidClaim: config.sidClaim, keys, clock }
}

export type Verifier = ReturnType<typeof createVerifier>

async function resolveKeySource(
  config: VerifierConfig,
  provider: Provider | undefined,
): Promise<KeySource | undefined> {
  if (config.key instanceof Uint8Array || isKeyObject(config.key)) return config.key
  if (config.key) {
    // Imported once when its algorithm is known (its "alg", or the only one allowed). A JWK
    // without "alg" (as exportJWK writes them) under several algorithms goes to jose as it is:
    // jose imports it for the algorithm each token names, within `algorithms`, at a small cost
    // per verification.
    const alg = config.key.alg ?? (config.algorithms.length === 1 ? config.algorithms[0] : undefined)
    return alg === undefined ? config.key : importJWK(config.key, alg)
  }
  const limits = { timeout: config.jwksTimeout, maxBytes: config.jwksMaxBytes }
  if (config.jwks instanceof URL) return remoteJwks(config.jwks, limits)
  if (config.jwks) return createLocalJWKSet(config.jwks)
  const jwksUri = (await provider?.metadata())?.jwksUri
  return jwksUri ? remoteJwks(new URL(jwksUri), limits) : undefined
}

/** A token jose refused: an expired one may still name its session (`accessToken.expiredGrace`). */
async function verifyFailed(
  jwt: string,
  keys: KeySource,
  config: VerifierConfig,
  options: VerifyOptions,
  err: unknown,
): Promise<Verification> {
  if (!(err instanceof errors.JWTExpired)) return { error: failure(err) }
  // jose checks the signature (and iss/aud) before it reports expiry, but re-verify at a moment
  // just before `exp` so every other claim is checked too (see `accessToken.expiredGrace`).
  const exp = err.payload.exp
  if (typeof exp !== 'number' || Date.now() / 1000 - exp > config.expiredGrace) {
    return {
      error: new LogoutError('ERR_TOKEN_EXPIRED', 'The access token expired too long ago', { cause: err }),
    }
  }
  try {
    const { payload } = await jwtVerify(jwt, keys as JWTVerifyGetKey, {
      ...options,
      currentDate: new Date((exp - 1) * 1000),
    })
    return { token: toVerified(payload, config, options.issuer, true) }
  } catch (again) {
    return { error: failure(again) }
  }
}

function toVerified(
  claims: JWTPayload,
  config: VerifierConfig,
  issuer: string | undefined,
  expired: boolean,
): VerifiedToken {
  const { iss, sid, sub } = subjectOfClaims(claims, config.sidClaim, issuer)
  const iat = typeof claims.iat === 'number' ? claims.iat : undefined
  return { iss, sid, sub, claims, iat, expired }
}

/**
 * The subject a verified credential names, and so the key its revocation is recorded and looked up
 * under: the token's `iss`, else the configured issuer, else `''`. The logout route, guard and
 * linking all go through here, so one credential can never map to two revocation keys.
 */
export function subjectOfClaims(claims: JWTPayload, sidClaim: string, issuer: string | undefined): Subject {
  return {
    iss: typeof claims.iss === 'string' ? claims.iss : (issuer ?? ''),
    sid: identifier(claims[sidClaim]),
    sub: identifier(claims.sub),
  }
}

/** Session ids and subjects are opaque strings; anything else (numbers, objects, huge values) is ignored. */
function identifier(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024 ? value : undefined
}

function failure(err: unknown): LogoutError {
  return joseFailure(err, 'ERR_TOKEN_INVALID', 'The access token')
}

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof NodeKeyObject || (typeof CryptoKey !== 'undefined' && value instanceof CryptoKey)
}
