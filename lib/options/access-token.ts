/** The `accessToken` options: where tokens are verified against, with every default. */
import { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK } from 'jose'
import { DEFAULT_JWKS_MAX_BYTES, DEFAULT_JWKS_TIMEOUT } from '../tokens/jwks.js'
import { ASYMMETRIC_ALGORITHMS, SECRET_ALGORITHMS } from '../tokens/access-token.js'
import type { VerifierConfig } from '../tokens/access-token.js'
import * as v from './check.js'

const P = 'options.accessToken'
/** The keys of `options.accessToken`. */
export const ACCESS_TOKEN_KEYS = [
  'from',
  'jwks',
  'key',
  'issuer',
  'audience',
  'algorithms',
  'sidClaim',
  'expiredGrace',
  'clockTolerance',
  'maxLength',
  'jwksTimeout',
  'jwksMaxBytes',
]
/** 16 KiB: far above real access tokens (a few KiB), far below what would make parsing costly. */
export const DEFAULT_MAX_LENGTH = 16 * 1024

/** Validates `accessToken` options and fills their defaults (see `AccessTokenOptions` for each default). */
export function resolveVerifierConfig(o: Record<string, unknown>): VerifierConfig {
  const key = keyOption(o.key)
  if (key !== undefined && o.jwks !== undefined)
    throw v.invalidArg(`${P}.key`, 'omitted when jwks is set (use one of them)')
  return {
    jwks: jwksOption(o.jwks),
    key,
    issuer: v.stringOption(o.issuer, `${P}.issuer`),
    audience: audienceOption(o.audience),
    algorithms: algorithmsOption(o.algorithms, key instanceof Uint8Array),
    sidClaim: v.stringOption(o.sidClaim, `${P}.sidClaim`) ?? 'sid',
    expiredGrace: v.numberOption(o.expiredGrace, `${P}.expiredGrace`, 86400),
    clockTolerance: v.numberOption(o.clockTolerance, `${P}.clockTolerance`, 60),
    maxLength: integerOption(o.maxLength, `${P}.maxLength`, DEFAULT_MAX_LENGTH, 64),
    jwksTimeout: integerOption(o.jwksTimeout, `${P}.jwksTimeout`, DEFAULT_JWKS_TIMEOUT, 1),
    jwksMaxBytes: integerOption(o.jwksMaxBytes, `${P}.jwksMaxBytes`, DEFAULT_JWKS_MAX_BYTES, 1024),
  }
}

function jwksOption(value: unknown): URL | JSONWebKeySet | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return v.httpsUrlOption(value, `${P}.jwks`)
  const keys = (value as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null)) {
    throw v.invalidArg(`${P}.jwks`, 'a JWKS URL or an object { keys: JWK[] }', value)
  }
  if (keys.some((k) => typeof (k as JWK).d === 'string' || (k as JWK).kty === 'oct')) {
    throw v.invalidArg(`${P}.jwks`, 'a set of public keys (no private or symmetric keys)')
  }
  return value as JSONWebKeySet
}

function keyOption(value: unknown): KeyObject | JWK | Uint8Array | undefined {
  if (value === undefined) return undefined
  if (value instanceof Uint8Array) {
    if (value.byteLength < 32)
      throw v.invalidArg(`${P}.key`, 'a secret of at least 32 bytes', value.byteLength)
    return value
  }
  if (value instanceof KeyObject) {
    if (value.type === 'private') throw v.invalidArg(`${P}.key`, 'a public key (a private key was given)')
    return value.type === 'secret' ? new Uint8Array(value.export()) : value
  }
  if (value && typeof value === 'object' && typeof (value as JWK).kty === 'string') {
    if (typeof (value as JWK).d === 'string')
      throw v.invalidArg(`${P}.key`, 'a public JWK (it has a private "d")')
    // A copy: jose freezes the JWK it is handed, and the caller's object is not ours to freeze.
    return { ...(value as JWK) }
  }
  throw v.invalidArg(`${P}.key`, 'a KeyObject, a public JWK, or a Uint8Array secret', value)
}

function audienceOption(value: unknown): string | string[] | undefined {
  if (value === undefined || typeof value === 'string') return v.stringOption(value, `${P}.audience`)
  const list = v.arrayOption(value, `${P}.audience`)!
  list.forEach((a, i) => v.stringOption(a, `${P}.audience[${i}]`))
  return list as string[]
}

function algorithmsOption(value: unknown, secret: boolean): string[] {
  const allowed = secret ? SECRET_ALGORITHMS : ASYMMETRIC_ALGORITHMS
  const list = v.arrayOption(value, `${P}.algorithms`) ?? [...allowed]
  if (list.length === 0) throw v.invalidArg(`${P}.algorithms`, 'a non-empty array')
  list.forEach((alg, i) => {
    if (typeof alg !== 'string' || !allowed.includes(alg)) {
      const kind = secret ? 'an HMAC algorithm (the key is a secret)' : 'an asymmetric JWS algorithm'
      throw v.invalidArg(`${P}.algorithms[${i}]`, `${kind}: ${allowed.join(', ')}`, alg)
    }
  })
  return list as string[]
}

/** Sizes and timeouts are whole numbers: a fractional byte count or millisecond is a typo. */
function integerOption(value: unknown, path: string, fallback: number, min: number): number {
  const n = v.numberOption(value, path, fallback, min)
  if (!Number.isSafeInteger(n)) throw v.invalidArg(path, `an integer >= ${min}`, value)
  return n
}
