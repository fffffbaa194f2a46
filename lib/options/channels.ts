/** The `backchannel` and `frontchannel` options, resolved once with what each receiver needs. */
import { KeyObject, createPrivateKey } from 'node:crypto'
import type { JsonWebKey } from 'node:crypto'
import type { JWK } from 'jose'
import { ASYMMETRIC_ALGORITHMS } from '../tokens/access-token.js'
import * as v from './check.js'

const P = 'options.backchannel'
const BACKCHANNEL_KEYS = ['path', 'algorithms', 'maxAge', 'clockTolerance', 'decryptionKey', 'bodyLimit']
const FRONTCHANNEL_KEYS = ['path', 'requireSession']

/** What the receivers need from the rest of the configuration. */
export interface ChannelContext {
  /** The logout route's path: a receiver on the same path could never be reached. */
  logoutPath: string
  /** The expected `iss`: the provider's issuer, or `accessToken.issuer`. */
  issuer: string | undefined
  /** The app's client id at the provider: the audience of logout tokens. */
  clientId: string | undefined
  /** Whether any verification key is configured (a provider, `accessToken.jwks` or `.key`). */
  hasKeys: boolean
  /** `accessToken.key` is an HMAC secret, which cannot verify logout tokens (signed like ID tokens). */
  secretKey: boolean
}

/** Resolved `backchannel` options plus what the receiver needs from the rest of the configuration. */
export interface BackchannelConfig {
  path: string
  /** Expected `iss`: the provider's issuer, or `accessToken.issuer`. */
  issuer: string
  /** Expected `aud`: the app's client id at the provider. */
  audience: string
  /** Pinned algorithms; `undefined` means "the provider's `idTokenSigningAlg`, else RS256". */
  algorithms?: string[]
  maxAge: number
  clockTolerance: number
  decryptionKey?: KeyObject | Uint8Array
  bodyLimit: number
  /** Seconds a `jti` is remembered: as long as a token with that `iat` can still be accepted. */
  replayTtl: number
}

/**
 * Validates `options.backchannel` and fills its defaults; `undefined` when it is not set. Throws a
 * `TypeError` naming the option, at construction, like every other option.
 */
export function resolveBackchannel(value: unknown, ctx: ChannelContext): BackchannelConfig | undefined {
  const o = v.objectOption(value, P, BACKCHANNEL_KEYS)
  if (!o) return undefined
  const path = v.pathOption(o.path, `${P}.path`)
  const issuer = ctx.issuer
  if (issuer === undefined)
    throw v.invalidArg(
      P,
      'used with a provider (or accessToken.issuer): logout tokens are checked against it',
    )
  const audience = ctx.clientId
  if (audience === undefined)
    throw v.invalidArg('options.provider', 'a provider with a clientId: logout tokens are addressed to it')
  if (!ctx.hasKeys)
    throw v.invalidArg(P, 'used with verification keys (a provider, accessToken.jwks or accessToken.key)')
  if (ctx.secretKey)
    throw v.invalidArg(
      P,
      'used with public keys: logout tokens are signed like ID tokens, not with an HMAC secret',
    )
  if (path === ctx.logoutPath) throw v.invalidArg(`${P}.path`, `different from options.path ("${path}")`)
  const maxAge = bounded(o.maxAge, 'maxAge', 300, 1, 86400)
  const clockTolerance = bounded(o.clockTolerance, 'clockTolerance', 60, 0, 600)
  return {
    path,
    issuer,
    audience,
    algorithms: algorithmsOption(o.algorithms),
    maxAge,
    clockTolerance,
    decryptionKey: decryptionKeyOption(o.decryptionKey),
    bodyLimit: bounded(o.bodyLimit, 'bodyLimit', 16 * 1024, 1024, 1024 * 1024),
    // `iat` may be up to `clockTolerance` ahead and `maxAge + clockTolerance` behind (Back-Channel Logout 1.0 §2.6 step 7).
    replayTtl: Math.ceil(maxAge + 2 * clockTolerance),
  }
}

/** Resolved `frontchannel` options. */
export interface FrontchannelConfig {
  path: string
  /** The only `iss` accepted. */
  issuer: string
  /** `Content-Security-Policy` value: only the issuer's origin may frame the page. */
  frameAncestors: string
  requireSession: boolean
}

/** Validates `options.frontchannel`; `undefined` when it is not set. */
export function resolveFrontchannel(
  value: unknown,
  ctx: ChannelContext,
  backchannelPath: string | undefined,
): FrontchannelConfig | undefined {
  const F = 'options.frontchannel'
  const o = v.objectOption(value, F, FRONTCHANNEL_KEYS)
  if (!o) return undefined
  const path = v.pathOption(o.path, `${F}.path`)
  const issuer = ctx.issuer
  if (issuer === undefined)
    throw v.invalidArg(F, 'used with a provider (or accessToken.issuer) that names the issuer')
  if (path === ctx.logoutPath || path === backchannelPath)
    throw v.invalidArg(`${F}.path`, 'different from options.path and options.backchannel.path')
  if (!URL.canParse(issuer)) throw v.invalidArg(F, 'used with an issuer that is a URL', issuer)
  return {
    path,
    issuer,
    // Front-Channel Logout 1.0 §2: the OP renders this page in an iframe; nobody else may frame it.
    frameAncestors: `frame-ancestors ${new URL(issuer).origin}`,
    requireSession: v.booleanOption(o.requireSession, `${F}.requireSession`, false),
  }
}

function bounded(value: unknown, name: string, fallback: number, min: number, max: number): number {
  const n = v.numberOption(value, `${P}.${name}`, fallback, min)
  if (n > max) throw v.invalidArg(`${P}.${name}`, `a number between ${min} and ${max}`, value)
  return n
}

/** Logout tokens are signed like ID tokens, with the provider's public keys: asymmetric JWS only. */
function algorithmsOption(value: unknown): string[] | undefined {
  const list = v.arrayOption(value, `${P}.algorithms`)
  if (list === undefined) return undefined
  if (list.length === 0) throw v.invalidArg(`${P}.algorithms`, 'a non-empty array')
  list.forEach((alg, i) => {
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.includes(alg))
      throw v.invalidArg(
        `${P}.algorithms[${i}]`,
        `an asymmetric JWS algorithm: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
        alg,
      )
  })
  return list as string[]
}

/** A private KeyObject, a private (or `oct`) JWK, or a secret of at least 16 bytes. */
function decryptionKeyOption(value: unknown): KeyObject | Uint8Array | undefined {
  const path = `${P}.decryptionKey`
  if (value === undefined) return undefined
  if (value instanceof Uint8Array) return secretOf(value, path)
  if (value instanceof KeyObject) {
    if (value.type === 'public') throw v.invalidArg(path, 'a private or secret key (a public key was given)')
    return value
  }
  const jwk = value as JWK | null
  if (jwk && typeof jwk === 'object' && typeof jwk.kty === 'string') {
    if (jwk.kty === 'oct') return secretOf(new Uint8Array(Buffer.from(jwk.k ?? '', 'base64url')), path)
    try {
      if (typeof jwk.d === 'string')
        return createPrivateKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' })
    } catch (err) {
      throw v.invalidArg(path, `a valid JWK (${err instanceof Error ? err.message : String(err)})`)
    }
    throw v.invalidArg(path, 'a private JWK (it has no "d")')
  }
  throw v.invalidArg(path, 'a private KeyObject, a private JWK, or a Uint8Array secret', value)
}

function secretOf(value: Uint8Array, path: string): Uint8Array {
  // 16 bytes is the smallest AES key (A128KW, dir with A128GCM).
  if (value.byteLength < 16) throw v.invalidArg(path, 'a secret of at least 16 bytes', value.byteLength)
  return value
}
