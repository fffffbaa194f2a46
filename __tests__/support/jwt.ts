import { randomUUID } from 'node:crypto'
import { SignJWT, base64url, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import { listen } from './serve.js'
import type { Listening } from './serve.js'

export type TestAlg = 'RS256' | 'ES256' | 'EdDSA'

/** A signing key generated for this run, and its public JWK (`kid`, `alg`, `use` set) as an IdP publishes it. */
export interface TestKey {
  alg: TestAlg
  kid: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  jwk: JWK
}

async function generateKey(alg: TestAlg, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicKey, jwk }
}

const FIELDS = new Set<PropertyKey>(['alg', 'kid', 'privateKey', 'publicKey', 'jwk'])

/**
 * A signing key for the enclosing `describe` (or file), generated once in a `beforeAll` registered
 * here: key generation is slow, so tests share one instead of making their own. Read it in hooks and
 * tests only; reading it while the suite is being declared throws, since it does not exist yet. Two
 * calls with the same `kid` give an attacker's key that names the victim's `kid`.
 */
export function useTestKey(alg: TestAlg = 'RS256', kid: string = randomUUID()): TestKey {
  let key: TestKey | undefined
  beforeAll(async () => {
    key = await generateKey(alg, kid)
  })
  return new Proxy({} as TestKey, {
    get(_target, property) {
      if (key) return key[property as keyof TestKey]
      if (FIELDS.has(property)) throw new Error(`useTestKey(${alg}): read the key in a hook or a test`)
      // `then`, inspection symbols and the like: the key is not a thenable, and has nothing else.
      return undefined
    },
  })
}

/** What signs a token: a {@link TestKey}, or any key or secret with its algorithm (`HS256` with bytes). */
export interface Signer {
  alg: string
  privateKey: CryptoKey | Uint8Array
  kid?: string
}

/**
 * Signs `claims` as a compact JWS; `header` members are added to (or override) `alg` and `kid`.
 * `iat` defaults to now and `exp` to an hour later; a claim given as `undefined` is left out
 * instead (JSON drops it), which is how a test mints a token without `iat` or `exp`.
 */
export function mint(
  signer: Signer,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: signer.alg,
    ...(signer.kid === undefined ? {} : { kid: signer.kid }),
    ...header,
  })
  if (!('iat' in claims)) jwt.setIssuedAt()
  if (!('exp' in claims)) jwt.setExpirationTime('1h')
  return jwt.sign(signer.privateKey)
}

const WEBCRYPTO: Record<TestAlg, AlgorithmIdentifier | EcdsaParams> = {
  RS256: 'RSASSA-PKCS1-v1_5',
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: 'Ed25519',
}

/**
 * The base64url signature of `input` (`header.payload`) under `key`, made with WebCrypto: for
 * headers jose refuses to sign (an unknown `crit`, `b64: false`), as an attacker's IdP could.
 */
export async function rawSignature(key: TestKey, input: string): Promise<string> {
  const signed = await crypto.subtle.sign(WEBCRYPTO[key.alg], key.privateKey, new TextEncoder().encode(input))
  return base64url.encode(new Uint8Array(signed))
}

/** Now, in the seconds of JWT `iat`/`exp`. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** A local JWKS endpoint (see {@link startJwksServer}). */
export interface JwksServer extends Listening {
  /** The JWKS URL: `http://127.0.0.1:PORT/jwks`. */
  url: string
  /** How many times the key set was fetched. */
  readonly fetches: number
  /** The keys served; replace to rotate them. */
  keys: TestKey[]
}

/** A JWKS endpoint on 127.0.0.1, port 0, serving the public JWKs of `keys` on any path. */
export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { keys }
  const server = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }))
  })
  return {
    ...server,
    url: `${server.url}/jwks`,
    get fetches() {
      return server.hits.length
    },
    get keys() {
      return state.keys
    },
    set keys(next) {
      state.keys = next
    },
  }
}
