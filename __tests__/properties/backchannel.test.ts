import { randomUUID } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import fc from 'fast-check'
import { base64url } from 'jose'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { mint, nowSeconds as now, useTestKey } from '../support/jwt.js'
import { BACKCHANNEL_EVENT, testProvider } from '../support/logout-token.js'
import { propertyParams } from '../support/properties.js'
import { serveApp } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

// A thousand HTTP round trips per property: generous on a loaded 2-core CI machine.
jest.setTimeout(240_000)

const ISSUER = 'https://idp.example.com/'
const CLIENT_ID = 'app'

/** What the generated logout token is, and so whether it may end the linked session. */
type TokenKind =
  | 'valid'
  | 'stale'
  | 'replayed'
  | 'wrong-aud'
  | 'wrong-iss'
  | 'nonce'
  | 'no-events'
  | 'events-not-object'
  | 'no-sid-no-sub'
  | 'sid-not-string'
  | 'attacker-key'
  | 'alg-none'
  | 'garbage'

const KINDS: TokenKind[] = [
  'valid',
  'valid',
  'stale',
  'replayed',
  'wrong-aud',
  'wrong-iss',
  'nonce',
  'no-events',
  'events-not-object',
  'no-sid-no-sub',
  'sid-not-string',
  'attacker-key',
  'alg-none',
  'garbage',
]

/** A generated request to the back-channel route. */
interface Spec {
  kind: TokenKind
  /** How many `logout_token` fields the form carries (exactly one is valid, BCL §2.5). */
  copies: number
  contentType: string | undefined
  /** Extra form fields, which BCL §2.5 says must be ignored. */
  extra: Array<[string, string]>
  garbage: string
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom(...KINDS),
  copies: fc.constantFrom(1, 1, 1, 0, 2),
  contentType: fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    undefined,
  ),
  extra: fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 40 })), {
    maxLength: 3,
  }),
  garbage: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constant('x'.repeat(20_000))),
})

describe('back-channel route: generated bodies never 500, and only a valid fresh token ends a session', () => {
  const key = useTestKey('ES256', 'k-ES256')
  // Signs with the kid of the configured key: only the signature gives it away.
  const attacker = useTestKey('ES256', 'k-ES256')
  let middleware: LogoutMiddleware
  let server: Listening
  let url: string
  let counter = 0
  const sessions = new session.MemoryStore()
  /** A token accepted once already, kept for the replay case. */
  let spent: { jwt: string; sid: string } | undefined

  beforeAll(async () => {
    // The client is registered for ES256 ID tokens, so its logout tokens are pinned to ES256.
    const provider = {
      ...testProvider({ idTokenSigningAlgValues: ['ES256'] }, { issuer: ISSUER, clientId: CLIENT_ID }),
      idTokenSigningAlg: 'ES256',
    }
    middleware = logout({
      provider,
      accessToken: { jwks: { keys: [key.jwk] } },
      backchannel: { path: '/backchannel' },
      sessionStore: sessions,
      logger: { warn: () => undefined, error: () => undefined },
    })
    const app = express()
    app.use(middleware)
    server = await serveApp(app)
    url = server.url
  })

  afterAll(() => server.close())

  async function linkedSession(sid: string): Promise<string> {
    counter += 1
    const sessionId = `local-${counter}`
    const cookie = { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), path: '/' }
    await new Promise<void>((resolve) =>
      sessions.set(sessionId, { cookie } as session.SessionData, () => resolve()),
    )
    await middleware.link({ sid, iss: ISSUER, sessionId })
    return sessionId
  }

  function exists(sessionId: string): Promise<boolean> {
    return new Promise((resolve) => sessions.get(sessionId, (_err, data) => resolve(Boolean(data))))
  }

  async function logoutToken(kind: TokenKind, sid: string, garbage: string): Promise<string> {
    const claims: Record<string, unknown> = {
      iss: ISSUER,
      aud: CLIENT_ID,
      iat: now(),
      exp: now() + 120,
      jti: randomUUID(),
      sid,
      events: { [BACKCHANNEL_EVENT]: {} },
    }
    const header = { typ: 'logout+jwt' }
    if (kind === 'stale') Object.assign(claims, { iat: now() - 3600, exp: now() + 60 })
    if (kind === 'wrong-aud') claims.aud = 'another-client'
    if (kind === 'wrong-iss') claims.iss = 'https://evil.example/'
    if (kind === 'nonce') claims.nonce = 'n'
    if (kind === 'no-events') delete claims.events
    if (kind === 'events-not-object') claims.events = { [BACKCHANNEL_EVENT]: 'yes' }
    if (kind === 'no-sid-no-sub') delete claims.sid
    if (kind === 'sid-not-string') claims.sid = [sid]
    if (kind === 'garbage') return garbage
    if (kind === 'alg-none')
      return `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(claims))}.`
    return mint(kind === 'attacker-key' ? attacker : key, claims, header)
  }

  function body(spec: Spec, token: string): string {
    const form = new URLSearchParams()
    for (let i = 0; i < spec.copies; i++) form.append('logout_token', token)
    for (const [name, value] of spec.extra) if (name !== 'logout_token') form.append(name, value)
    return form.toString()
  }

  it('holds for 1,000 generated requests', async () => {
    const property = fc.asyncProperty(specArb, async (spec) => {
      const sid = `idp-${randomUUID()}`
      const replay = spec.kind === 'replayed' ? spent : undefined
      // Linked before the token is issued: a session linked after a token's iat survives it (sid reuse).
      const target = await linkedSession(replay ? replay.sid : sid)
      const token = replay
        ? replay.jwt
        : await logoutToken(spec.kind === 'replayed' ? 'valid' : spec.kind, sid, spec.garbage)
      const headers: Record<string, string> = spec.contentType ? { 'content-type': spec.contentType } : {}
      const res = await fetch(`${url}/backchannel`, { method: 'POST', headers, body: body(spec, token) })
      const text = await res.text()
      expect(res.status).not.toBeGreaterThanOrEqual(500)
      expect(res.headers.get('cache-control')).toBe('no-store')
      const mustEnd =
        (spec.kind === 'valid' || (spec.kind === 'replayed' && !replay)) &&
        spec.copies === 1 &&
        spec.contentType?.startsWith('application/x-www-form-urlencoded') === true
      expect(await exists(target)).toBe(!mustEnd)
      expect(res.status).toBe(mustEnd ? 200 : res.status === 413 ? 413 : 400)
      if (res.status === 400) expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request' })
      if (mustEnd) spent = { jwt: token, sid }
    })
    await fc.assert(property, propertyParams(1000))
  })
})
