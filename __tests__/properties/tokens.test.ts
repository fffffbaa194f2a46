import { maxHeaderSize } from 'node:http'
import express from 'express'
import session from 'express-session'
import fc from 'fast-check'
import { base64url } from 'jose'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { mint, nowSeconds as now, rawSignature, startJwksServer, useTestKey } from '../support/jwt.js'
import type { JwksServer } from '../support/jwt.js'
import { propertyParams } from '../support/properties.js'
import { listen, serveApp } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

// A thousand HTTP round trips per property: generous on a loaded 2-core CI machine.
jest.setTimeout(240_000)

const ISSUER = 'https://idp.example.com/'

/**
 * What a request carries, and whether it must end the linked session. Only a token signed by the
 * configured key, with the right issuer, a string `sid` and an `exp` within the grace period may.
 */
interface Case {
  jwt: string
  mustDestroy: boolean
  via: 'header' | 'cookie' | 'body'
}

const key = useTestKey('ES256', 'k-ES256')
/** The attacker's own key, published under the configured key's kid. */
const attacker = useTestKey('ES256', 'k-ES256')
let jwks: JwksServer
/** Stands at every `jku` / `x5u` / `x5c`-ish URL the generated headers name: it must never be called. */
let trap: Listening

const json = (value: unknown): string => base64url.encode(JSON.stringify(value))

/** Header members an attacker controls: algorithms, key pointers, critical extensions, junk. */
function headerArb(): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      alg: fc.constantFrom(
        'none',
        'None',
        'HS256',
        'RS256',
        'ES256',
        'ES384',
        'EdDSA',
        'PS256',
        '',
        'es256',
        7,
        null,
      ),
      kid: fc.oneof(
        fc.constant(key.jwk.kid),
        fc.string({ maxLength: 20 }),
        fc.constant('../../etc/passwd'),
        fc.integer(),
      ),
      jku: fc.constantFrom(`${trap.url}/jku.json`, `${jwks.url}?evil=1`, 'https://evil.example/jwks'),
      x5u: fc.constantFrom(`${trap.url}/x5u.pem`, 'https://evil.example/cert.pem'),
      jwk: fc.constant(attacker.jwk),
      crit: fc.oneof(
        fc.constant(['b64']),
        fc.constant(['exp']),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
        fc.constant('b64'),
      ),
      b64: fc.constantFrom(false, true, 'false'),
      typ: fc.constantFrom('JWT', 'logout+jwt', 'at+jwt', ''),
      nested: fc.jsonValue({ maxDepth: 3 }),
      // Node refuses request heads over 16 KiB itself (431, see the property); the body carries
      // the largest tokens.
      huge: fc.constant('h'.repeat(6000)),
    },
    { requiredKeys: [] },
  )
}

/** Claims an attacker controls: issuer, session ids of every type, times, nesting, huge strings. */
function claimsArb(sid: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      iss: fc.constantFrom(ISSUER, 'https://evil.example/', ISSUER.slice(0, -1), 42),
      sid: fc.oneof(
        fc.constant(sid),
        fc.constant([sid]),
        fc.constant({ sid }),
        fc.integer(),
        fc.constant(null),
        fc.constant('x'.repeat(5000)),
      ),
      sub: fc.oneof(fc.constant('user'), fc.integer(), fc.constant({})),
      exp: fc.oneof(
        fc.constant(now() + 600),
        fc.constant(now() - 10 * 86400),
        fc.constant('tomorrow'),
        fc.double(),
      ),
      iat: fc.oneof(fc.constant(now()), fc.constant(now() + 86400), fc.constant('now')),
      nbf: fc.constantFrom(now() + 3600, now() - 60),
      nested: fc.jsonValue({ maxDepth: 4 }),
    },
    { requiredKeys: [] },
  )
}

/** Marks where the linked session's `sid` goes; the real one is known only when the run starts. */
const SID = '$SID'

/** A generated request: built into a JWT once the run's `sid` is known. */
type Spec =
  | {
      kind: 'forged'
      header: Record<string, unknown>
      claims: Record<string, unknown>
      signature: string
      via: Case['via']
    }
  | { kind: 'refused'; claims: Record<string, unknown>; extra: Record<string, unknown>; via: Case['via'] }
  | { kind: 'valid'; extra: Record<string, unknown>; exp: number; via: Case['via'] }

const viaArb = fc.constantFrom<Case['via']>('header', 'cookie', 'body')

function specArb(): fc.Arbitrary<Spec> {
  const forged = fc.record({
    kind: fc.constant('forged' as const),
    header: headerArb(),
    claims: claimsArb(SID),
    signature: fc.constantFrom('empty', 'random', 'hmac-with-public-key', 'attacker-key'),
    via: viaArb,
  })
  // Correctly signed by the configured key, but wrong in one way that must stop it.
  const refused = fc.record({
    kind: fc.constant('refused' as const),
    claims: fc.constantFrom(
      { iss: 'https://evil.example/', sid: SID },
      { iss: ISSUER, sid: SID, exp: now() - 2 * 86400 },
      { iss: ISSUER, sid: SID, nbf: now() + 3600 },
      { iss: ISSUER, sid: 12345 },
      { iss: ISSUER, sid: [SID] },
      { iss: ISSUER, sid: { value: SID } },
      { iss: ISSUER, sid: '' },
    ),
    extra: fc.constantFrom({}, { crit: ['b64'], b64: false }, { crit: ['unknown'], unknown: 1 }),
    via: viaArb,
  })
  // Correct in every way that matters; junk header members (jku, x5u) must simply be ignored.
  const valid = fc.record({
    kind: fc.constant('valid' as const),
    extra: fc.constantFrom(
      {},
      { jku: `${trap.url}/jku.json` },
      { x5u: `${trap.url}/x5u.pem` },
      { typ: 'at+jwt' },
    ),
    exp: fc.constantFrom(now() + 600, now() - 3600),
    via: viaArb,
  })
  return fc.oneof(
    { arbitrary: forged, weight: 3 },
    { arbitrary: refused, weight: 1 },
    { arbitrary: valid, weight: 1 },
  )
}

function withSid<T>(value: T, sid: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(JSON.stringify(SID), JSON.stringify(sid))) as T
}

/** Ways to produce the third segment without holding the configured private key. */
async function forgeSignature(kind: string, input: string): Promise<string> {
  if (kind === 'empty') return ''
  if (kind === 'random') return base64url.encode(crypto.getRandomValues(new Uint8Array(64)))
  if (kind === 'hmac-with-public-key') {
    // Algorithm confusion: the published public key used as an HMAC secret.
    const secret = new TextEncoder().encode(JSON.stringify(key.jwk))
    const hmacKey = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ])
    return base64url.encode(
      new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, new TextEncoder().encode(input))),
    )
  }
  // Signed, but by the attacker's own key (advertised through jwk/jku/kid in the header).
  return rawSignature(attacker, input)
}

async function build(spec: Spec, sid: string): Promise<Case> {
  if (spec.kind === 'valid') {
    const claims = { iss: ISSUER, sid, sub: 'user', iat: now() - 7200, exp: spec.exp }
    return { jwt: await mint(key, claims, spec.extra), mustDestroy: true, via: spec.via }
  }
  const claims = withSid(spec.claims, sid)
  if (spec.kind === 'forged') {
    const input = `${json(spec.header)}.${json(claims)}`
    return {
      jwt: `${input}.${await forgeSignature(spec.signature, input)}`,
      mustDestroy: false,
      via: spec.via,
    }
  }
  if (spec.extra.crit !== undefined) {
    // jose refuses to sign b64:false or unknown critical members; sign by hand, as an attacker's IdP could.
    const header = json({ alg: 'ES256', kid: key.jwk.kid, ...spec.extra })
    const payload = spec.extra.b64 === false ? JSON.stringify(claims) : json(claims)
    return {
      jwt: `${header}.${payload}.${await rawSignature(key, `${header}.${payload}`)}`,
      mustDestroy: false,
      via: spec.via,
    }
  }
  return { jwt: await mint(key, { iat: now(), ...claims }, spec.extra), mustDestroy: false, via: spec.via }
}

describe('access tokens over HTTP: only a correctly signed token selects sessions; no other fetch; never a 500', () => {
  const sessions = new session.MemoryStore()
  let middleware: LogoutMiddleware
  let server: Listening
  let url: string
  let counter = 0

  beforeAll(async () => {
    jwks = await startJwksServer([key])
    trap = await listen((_req, res) => res.end('{}'))
    middleware = logout({
      baseURL: 'https://app.example.com',
      accessToken: {
        jwks: jwks.url,
        issuer: ISSUER,
        from: ['header', 'cookie:access_token', 'body:access_token'],
      },
      sessionStore: sessions,
      logger: { warn: () => undefined, error: () => undefined },
    })
    const app = express()
    app.use(middleware)
    server = await serveApp(app)
    url = server.url
  })

  afterAll(async () => {
    await Promise.all([server.close(), jwks.close(), trap.close()])
  })

  /** A stored express-session session linked to a fresh IdP `sid`. */
  async function linkedSession(): Promise<{ sid: string; sessionId: string }> {
    counter += 1
    const sid = `idp-sid-${counter}`
    const sessionId = `local-${counter}`
    const cookie = {
      originalMaxAge: 3_600_000,
      expires: new Date(Date.now() + 3_600_000),
      httpOnly: true,
      path: '/',
    }
    await new Promise<void>((resolve) =>
      sessions.set(sessionId, { cookie } as session.SessionData, () => resolve()),
    )
    await middleware.link({ sid, iss: ISSUER, sessionId })
    return { sid, sessionId }
  }

  function exists(sessionId: string): Promise<boolean> {
    return new Promise((resolve) => sessions.get(sessionId, (_err, data) => resolve(Boolean(data))))
  }

  /** The logout route's body limit (options/config.ts), and the size of the form that carries `jwt`. */
  const LOGOUT_BODY_LIMIT = 16 * 1024
  const formBytes = (jwt: string): number =>
    Buffer.byteLength(new URLSearchParams({ access_token: jwt }).toString())
  /**
   * Node answers a request head over `http.maxHeaderSize` (16 KiB) with 431 itself, before any
   * middleware runs. The head fetch sends besides the token's header stays under 1 KiB, so a token
   * header below this many bytes always reaches the app, and one above 16 KiB never does.
   */
  const ROOM_IN_HEAD = maxHeaderSize - 1024
  const headerBytes = (c: Case): number =>
    c.via === 'header'
      ? Buffer.byteLength(`Bearer ${c.jwt}`)
      : c.via === 'cookie'
        ? Buffer.byteLength(`access_token=${encodeURIComponent(c.jwt)}`)
        : 0

  async function send(c: Case): Promise<globalThis.Response> {
    const headers: Record<string, string> = { accept: 'application/json' }
    let body: string | undefined
    if (c.via === 'header') headers.authorization = `Bearer ${c.jwt}`
    else if (c.via === 'cookie') headers.cookie = `access_token=${encodeURIComponent(c.jwt)}`
    else {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams({ access_token: c.jwt }).toString()
    }
    const res = await fetch(`${url}/logout`, { method: 'POST', headers, body, redirect: 'manual' })
    await res.arrayBuffer()
    return res
  }

  it('holds for 1,000 generated tokens (forged, correctly signed but wrong, and valid)', async () => {
    const property = fc.asyncProperty(specArb(), async (spec) => {
      const { sid, sessionId } = await linkedSession()
      const c = await build(spec, sid)
      const res = await send(c)
      const inHead = headerBytes(c)
      if (inHead > maxHeaderSize) expect(res.status).toBe(431)
      if (res.status === 431) {
        // Refused by Node for its size, never seen by the middleware: nothing ended.
        expect(inHead).toBeGreaterThan(ROOM_IN_HEAD)
        expect(await exists(sessionId)).toBe(true)
        return
      }
      expect(res.headers.get('cache-control')).toBe('no-store')
      if (c.via === 'body' && formBytes(c.jwt) > LOGOUT_BODY_LIMIT) {
        // Larger than the logout route reads (16 KiB): refused as a whole, nothing ended.
        expect(res.status).toBe(413)
        expect(await exists(sessionId)).toBe(true)
      } else {
        expect(res.status).toBe(200)
        expect(await exists(sessionId)).toBe(!c.mustDestroy)
      }
      expect(trap.hits).toEqual([])
      expect(jwks.hits.every((hit) => hit === 'GET /jwks')).toBe(true)
    })
    await fc.assert(property, propertyParams(1000))
    // jose fetched the configured JWKS once, plus at most one refetch per 30 s cooldown for unknown kids.
    expect(jwks.hits.length).toBeGreaterThanOrEqual(1)
    expect(jwks.hits.length).toBeLessThanOrEqual(5)
  })
})
