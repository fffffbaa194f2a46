import { KeyObject } from 'node:crypto'
import session from 'express-session'
import { CompactEncrypt, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWK } from 'jose'
import request from 'supertest'
import type { Response } from 'supertest'
import { LogoutError, memoryStore } from '../../lib/index.js'
import type { LogoutEvent, LogoutOptions, Provider, Store } from '../../lib/index.js'
import { ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import type { Flavour, TestApp } from '../support/app.js'
import {
  BACKCHANNEL_EVENT,
  CLIENT_ID,
  encrypt,
  linkedSession,
  postLogoutToken,
  signLogoutToken,
  testProvider,
  unsecuredToken,
} from '../support/logout-token.js'
import { nowSeconds as now, startJwksServer, useTestKey } from '../support/jwt.js'
import { listen, refusedHost } from '../support/serve.js'

const rs = useTestKey('RS256', 'rs-1')
const es = useTestKey('ES256', 'es-1')
// Another key published under the same kid: only the signature tells the two apart.
const stranger = useTestKey('RS256', 'rs-1')
afterEach(closeApps)

interface Harness {
  app: TestApp
  events: LogoutEvent[]
  warnings: string[]
}

async function harness(extra: LogoutOptions = {}, flavour: Flavour = 'express5'): Promise<Harness> {
  const events: LogoutEvent[] = []
  const warnings: string[] = []
  const options = localOptions([rs, es], {
    provider: testProvider(),
    backchannel: { path: '/backchannel' },
    onLogout: (event) => void events.push(event),
    logger: { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
    ...extra,
  })
  return { app: await createApp(flavour, options), events, warnings }
}

function expectNoStore(res: Response): void {
  expect(res.headers['cache-control']).toBe('no-store')
}

function expectInvalidRequest(res: Response, token?: string): void {
  expect(res.status).toBe(400)
  expectNoStore(res)
  expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) })
  // Descriptions never echo the token (it could be logged by the provider).
  for (const part of token?.split('.') ?? []) if (part.length >= 16) expect(res.text).not.toContain(part)
}

type Case = [string, (app: TestApp) => Promise<Response>]

const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  signLogoutToken(rs, claims, header)

const hostileTokens: Array<[string, RegExp, () => Promise<string>]> = [
  ['alg none', /ALG_NOT_ALLOWED/, () => Promise.resolve(unsecuredToken())],
  ['a real ES256 signature while RS256 is pinned', /ALG_NOT_ALLOWED/, () => signLogoutToken(es)],
  ['wrong aud', /"aud"/, () => sign({ aud: 'another-client' })],
  ['aud array without the client', /"aud"/, () => sign({ aud: ['x', 'y'] })],
  ['wrong iss', /"iss"/, () => sign({ iss: 'https://evil.test/' })],
  ['no events', /"events"/, () => sign({ events: undefined })],
  [
    'events with another member only',
    /backchannel-logout member/,
    () => sign({ events: { 'urn:other': {} } }),
  ],
  ['events an array', /"events" claim must be a JSON object/, () => sign({ events: [BACKCHANNEL_EVENT] })],
  [
    'back-channel member a string',
    /backchannel-logout member/,
    () => sign({ events: { [BACKCHANNEL_EVENT]: 'yes' } }),
  ],
  [
    'back-channel member null',
    /backchannel-logout member/,
    () => sign({ events: { [BACKCHANNEL_EVENT]: null } }),
  ],
  [
    'back-channel member an array',
    /backchannel-logout member/,
    () => sign({ events: { [BACKCHANNEL_EVENT]: [] } }),
  ],
  ['nonce present', /"nonce"/, () => sign({ nonce: 'n-1' })],
  ['neither sub nor sid', /"sub", "sid"/, () => sign({ sub: undefined, sid: undefined })],
  ['sid a number', /"sid"/, () => sign({ sid: 42 })],
  ['sub an object', /"sub"/, () => sign({ sub: { id: 'user-1' } })],
  ['sid empty', /"sid"/, () => sign({ sid: '' })],
  ['no iat', /"iat"/, () => sign({ iat: undefined })],
  ['iat in the future', /"iat".*past/, () => sign({ iat: now() + 3600, exp: now() + 3700 })],
  ['iat far in the past', /"iat".*too far/, () => sign({ iat: now() - 3600 })],
  ['expired exp', /"exp"/, () => sign({ iat: now() - 200, exp: now() - 100 })],
  ['no jti', /"jti"/, () => sign({ jti: undefined })],
  ['jti a number', /"jti"/, () => sign({ jti: 7 })],
  ['typ JWT', /"typ"/, () => sign({}, { typ: 'JWT' })],
  ['typ at+jwt', /"typ"/, () => sign({}, { typ: 'application/at+jwt' })],
  ['bad signature (another key, same kid)', /SIGNATURE_VERIFICATION_FAILED/, () => signLogoutToken(stranger)],
  ['unknown kid', /NO_MATCHING_KEY/, () => sign({}, { kid: 'nobody' })],
  ['not a JWT', /compact JWS or JWE/, () => Promise.resolve('not-a-jwt')],
  ['four segments', /compact JWS or JWE/, async () => `${await sign({})}.x`],
  ['a JWE with no decryption key configured', /no decryption key/, () => Promise.resolve('a.b.c.d.e')],
]

const hostileRequests: Case[] = [
  [
    'JSON body',
    async (app) =>
      request(app.server)
        .post('/backchannel')
        .send({ logout_token: await sign({}) }),
  ],
  ['empty body', (app) => Promise.resolve(request(app.server).post('/backchannel'))],
  ['empty form', (app) => Promise.resolve(request(app.server).post('/backchannel').type('form').send(''))],
  [
    'two logout_token fields',
    async (app) =>
      request(app.server)
        .post('/backchannel')
        .type('form')
        .send(`logout_token=${await sign({})}&logout_token=${await sign({})}`),
  ],
  [
    'text/plain body',
    async (app) =>
      request(app.server)
        .post('/backchannel')
        .set('content-type', 'text/plain')
        .send(`logout_token=${await sign({})}`),
  ],
  [
    'token in the query string only',
    async (app) => request(app.server).post(`/backchannel?logout_token=${await sign({})}`),
  ],
]

describe('back-channel receiver: hostile logout tokens', () => {
  it.each(hostileTokens)('%s: 400 invalid_request, nothing destroyed', async (_name, reason, make) => {
    const { app, events } = await harness()
    const victim = await linkedSession(app, { sid: 'sid-X', sub: 'user-1' })
    const token = await make()
    const res = await postLogoutToken(app, token)
    expectInvalidRequest(res, token)
    expect(res.body.error_description).toMatch(reason)
    expect(await app.sessionIds()).toContain(victim.id)
    expect(events).toEqual([])
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-X' })).toBeUndefined()
  })

  it.each(hostileRequests)('%s: 400 invalid_request, nothing destroyed', async (_name, send) => {
    const { app, events } = await harness()
    const victim = await linkedSession(app, { sid: 'sid-X', sub: 'user-1' })
    expectInvalidRequest(await send(app))
    expect(await app.sessionIds()).toContain(victim.id)
    expect(events).toEqual([])
  })

  it.each(['GET', 'PUT', 'DELETE'] as const)(
    '%s: 405 with Allow: POST, nothing destroyed',
    async (method) => {
      const { app } = await harness()
      const victim = await linkedSession(app, { sid: 'sid-X' })
      const agent = request(app.server)
      const res = await agent[method.toLowerCase() as 'get' | 'put' | 'delete']('/backchannel').set(
        'accept',
        'application/json',
      )
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expectNoStore(res)
      expect(res.body).toEqual({ error: 'ERR_METHOD_NOT_ALLOWED', error_description: expect.any(String) })
      expect(await app.sessionIds()).toContain(victim.id)
    },
  )

  it('a body over the limit: 413 invalid_request, nothing destroyed', async () => {
    const { app } = await harness({ backchannel: { path: '/backchannel', bodyLimit: 2048 } })
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const token = await sign({ padding: 'x'.repeat(4096) })
    const res = await postLogoutToken(app, token)
    expect(res.status).toBe(413)
    expectNoStore(res)
    expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('2048') })
    expect(await app.sessionIds()).toContain(victim.id)
  })

  it('a replayed jti: the first is accepted, the second refused (400)', async () => {
    const { app, events } = await harness()
    const token = await sign({ sid: 'sid-R' })
    expect((await postLogoutToken(app, token)).status).toBe(200)
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const again = await postLogoutToken(app, token)
    expectInvalidRequest(again, token)
    expect(again.body.error_description).toMatch(/already/)
    expect(events).toHaveLength(1)
    expect(await app.sessionIds()).toContain(victim.id)
  })

  it('an invalid token does not consume its jti: the valid token with that jti is accepted after', async () => {
    const { app } = await harness()
    const jti = 'shared-jti'
    expectInvalidRequest(await postLogoutToken(app, await sign({ jti, aud: 'someone-else' })))
    expect((await postLogoutToken(app, await sign({ jti }))).status).toBe(200)
  })
})

describe('back-channel receiver: accepted tokens', () => {
  const accepted: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['an extra unknown claim', { favourite_colour: 'teal' }, {}],
    ['aud an array containing the client', { aud: ['other', CLIENT_ID] }, {}],
    ['no typ', {}, { typ: undefined }],
    ['typ application/logout+jwt in capitals', {}, { typ: 'Application/Logout+JWT' }],
    ['no exp (pre-errata providers)', { exp: undefined }, {}],
    ['iat 30 s ahead (clock skew)', { iat: now() + 30 }, {}],
    ['a non-empty back-channel member', { events: { [BACKCHANNEL_EVENT]: { note: 1 } } }, {}],
  ]

  it.each(accepted)('%s: 200, no-store, the sid sessions destroyed', async (_name, claims, header) => {
    const { app, events } = await harness()
    const victim = await linkedSession(app, { sid: 'sid-X', sub: 'user-1' })
    const bystander = await linkedSession(app, { sid: 'sid-Y', sub: 'user-1' })
    const token = await sign({ iat: now(), ...claims }, header)
    const res = await postLogoutToken(app, token)
    expect(res.status).toBe(200)
    expectNoStore(res)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(victim.id)
    expect(ids).toContain(bystander.id)
    expect(events).toEqual([
      expect.objectContaining({ reason: 'backchannel', iss: ISSUER, sid: 'sid-X', sub: 'user-1' }),
    ])
    expect(events[0]!.sessionsDestroyed).toBe(1)
    expect(typeof events[0]!.jti).toBe('string')
  })

  it('already logged out (no linked session) is success, and the sid is revoked for guard', async () => {
    const { app, events } = await harness()
    const res = await postLogoutToken(app, await sign({ sid: 'sid-gone' }))
    expect(res.status).toBe(200)
    expect(events[0]).toMatchObject({ sessionsDestroyed: 0, errors: [] })
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-gone' })).toEqual(expect.any(Number))
  })

  it('other form fields are ignored', async () => {
    const { app } = await harness()
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const res = await request(app.server)
      .post('/backchannel')
      .type('form')
      .send(`state=1&logout_token=${await sign({})}&extra=2`)
    expect(res.status).toBe(200)
    expect(await app.sessionIds()).not.toContain(victim.id)
  })

  it("pins the client's ID-token algorithm: ES256 accepted when the client is registered for ES256", async () => {
    const provider = {
      ...testProvider({ idTokenSigningAlgValues: ['HS256', 'ES256'] }),
      idTokenSigningAlg: 'ES256',
    }
    const { app } = await harness({ provider })
    const victim = await linkedSession(app, { sid: 'sid-X' })
    expectInvalidRequest(await postLogoutToken(app, await sign({})))
    expect((await postLogoutToken(app, await signLogoutToken(es))).status).toBe(200)
    expect(await app.sessionIds()).not.toContain(victim.id)
  })

  it('backchannel.algorithms overrides discovery', async () => {
    const { app } = await harness({
      provider: testProvider({ idTokenSigningAlgValues: ['RS256'] }),
      backchannel: { path: '/backchannel', algorithms: ['ES256'] },
    })
    expectInvalidRequest(await postLogoutToken(app, await sign({})))
    expect((await postLogoutToken(app, await signLogoutToken(es))).status).toBe(200)
  })

  it('falls back to RS256 when discovery lists no algorithms', async () => {
    const { app } = await harness({ provider: testProvider({ idTokenSigningAlgValues: undefined }) })
    expectInvalidRequest(await postLogoutToken(app, await signLogoutToken(es)))
    expect((await postLogoutToken(app, await sign({}))).status).toBe(200)
  })
})

describe('back-channel receiver: which sessions end', () => {
  it('fan-out: two sessions of sid X end; sid Y and sid X at another issuer survive', async () => {
    const { app, events } = await harness()
    const x1 = await linkedSession(app, { sid: 'X', sub: 'u' })
    const x2 = await linkedSession(app, { sid: 'X', sub: 'u' })
    const y = await linkedSession(app, { sid: 'Y', sub: 'u' })
    const elsewhere = await linkedSession(app, { sid: 'X', sub: 'u', iss: 'https://other-idp.test/' })
    expect((await postLogoutToken(app, await sign({ sid: 'X', sub: 'u' }))).status).toBe(200)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(x1.id)
    expect(ids).not.toContain(x2.id)
    expect(ids).toEqual(expect.arrayContaining([y.id, elsewhere.id]))
    expect(events[0]!.sessionsDestroyed).toBe(2)
    expect(await app.mw.store.revokedAt({ iss: 'https://other-idp.test/', sid: 'X' })).toBeUndefined()
  })

  it('sid reuse: a session linked after the token iat survives', async () => {
    const { app } = await harness()
    const before = await app.login()
    await app.mw.store.link({ iss: ISSUER, sid: 'X', sessionId: before.id, at: Date.now() - 60_000 }, 3600)
    const after = await linkedSession(app, { sid: 'X' })
    const res = await postLogoutToken(app, await sign({ sid: 'X', iat: now() - 30 }))
    expect(res.status).toBe(200)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(before.id)
    expect(ids).toContain(after.id)
  })

  it('sub alone: every session of that user at this issuer ends', async () => {
    const { app, events } = await harness()
    const a = await linkedSession(app, { sid: 'S1', sub: 'alice' })
    const b = await linkedSession(app, { sid: 'S2', sub: 'alice' })
    const bob = await linkedSession(app, { sid: 'S3', sub: 'bob' })
    const otherIdp = await linkedSession(app, { sid: 'S4', sub: 'alice', iss: 'https://other-idp.test/' })
    expect((await postLogoutToken(app, await sign({ sid: undefined, sub: 'alice' }))).status).toBe(200)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(a.id)
    expect(ids).not.toContain(b.id)
    expect(ids).toEqual(expect.arrayContaining([bob.id, otherIdp.id]))
    expect(events[0]).toMatchObject({ sub: 'alice', sid: undefined, sessionsDestroyed: 2 })
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sub: 'alice' })).toEqual(expect.any(Number))
  })

  it('sid with sub: only the sid ends, not the other sessions of the user', async () => {
    const { app } = await harness()
    const a = await linkedSession(app, { sid: 'S1', sub: 'alice' })
    const b = await linkedSession(app, { sid: 'S2', sub: 'alice' })
    expect((await postLogoutToken(app, await sign({ sid: 'S1', sub: 'alice' }))).status).toBe(200)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(a.id)
    expect(ids).toContain(b.id)
  })

  it('without a session store the sid is still revoked, and the event says why nothing was destroyed', async () => {
    const events: LogoutEvent[] = []
    const app = await createApp(
      'connect',
      localOptions([rs], {
        provider: testProvider(),
        backchannel: { path: '/backchannel' },
        onLogout: (event) => void events.push(event),
      }),
      { session: false },
    )
    await app.mw.link({ sid: 'sid-X', sessionId: 'some-session' })
    expect((await postLogoutToken(app, await sign({}))).status).toBe(200)
    expect(events[0]!.notes[0]).toMatch(/sessionStore/)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-X' })).toEqual(expect.any(Number))
  })
})

describe('back-channel receiver: body parsers and frameworks', () => {
  it('works after express.urlencoded() and express.json() parsed the body', async () => {
    const app = await createApp(
      'express5',
      localOptions([rs], { provider: testProvider(), backchannel: { path: '/backchannel' } }),
      { parsers: true },
    )
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const json = await request(app.server)
      .post('/backchannel')
      .send({ logout_token: await sign({}) })
    expectInvalidRequest(json)
    expect((await postLogoutToken(app, await sign({}))).status).toBe(200)
    expect(await app.sessionIds()).not.toContain(victim.id)
  })

  it.each(['express5', 'express4', 'connect'] as Flavour[])('%s: accepts, refuses, 405', async (flavour) => {
    const { app } = await harness({}, flavour)
    const victim = await linkedSession(app, { sid: 'sid-X' })
    expectInvalidRequest(await postLogoutToken(app, await signLogoutToken(stranger)))
    expect(await app.sessionIds()).toContain(victim.id)
    const ok = await postLogoutToken(app, await sign({}))
    expect(ok.status).toBe(200)
    expectNoStore(ok)
    expect(await app.sessionIds()).not.toContain(victim.id)
    const get = await request(app.server).get('/backchannel')
    expect([get.status, get.headers.allow]).toEqual([405, 'POST'])
  })
})

describe('back-channel receiver: encrypted logout tokens (BCL §2.6 step 1)', () => {
  let encryption: { publicKey: CryptoKey; privateKey: CryptoKey; privateJwk: JWK }
  let otherPublic: CryptoKey

  beforeAll(async () => {
    const pair = await generateKeyPair('RSA-OAEP-256', { extractable: true })
    encryption = { ...pair, privateJwk: await exportJWK(pair.privateKey) }
    otherPublic = (await generateKeyPair('RSA-OAEP-256')).publicKey
  })

  const withKey = (decryptionKey: unknown) =>
    harness({ backchannel: { path: '/backchannel', decryptionKey } as LogoutOptions['backchannel'] })

  it.each([
    ['a private KeyObject', () => KeyObject.from(encryption.privateKey)],
    ['a private JWK', () => encryption.privateJwk],
  ])('decrypted with %s, then verified: 200 and the sid sessions end', async (_name, key) => {
    const { app, events } = await withKey(key())
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const res = await postLogoutToken(app, await encrypt(await sign({}), encryption.publicKey))
    expect(res.status).toBe(200)
    expect(await app.sessionIds()).not.toContain(victim.id)
    expect(events[0]).toMatchObject({ sid: 'sid-X', sessionsDestroyed: 1 })
  })

  it.each<[string, RegExp, () => Promise<string>]>([
    ['encrypted to another key', /decrypted/, async () => encrypt(await sign({}), otherPublic)],
    ['not encrypted although a key is configured', /must be encrypted/, () => sign({})],
    [
      'a badly signed token inside',
      /SIGNATURE_VERIFICATION_FAILED/,
      async () => encrypt(await signLogoutToken(stranger), encryption.publicKey),
    ],
    ['a wrong audience inside', /"aud"/, async () => encrypt(await sign({ aud: 'x' }), encryption.publicKey)],
    [
      'no JWS inside',
      /does not contain a JWS/,
      () =>
        new CompactEncrypt(new TextEncoder().encode('{"sid":"sid-X"}'))
          .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
          .encrypt(encryption.publicKey),
    ],
  ])('%s: 400, nothing destroyed', async (_name, reason, make) => {
    const { app } = await withKey(KeyObject.from(encryption.privateKey))
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const res = await postLogoutToken(app, await make())
    expectInvalidRequest(res)
    expect(res.body.error_description).toMatch(reason)
    expect(await app.sessionIds()).toContain(victim.id)
  })

  it('an encrypted token without a configured key: 400', async () => {
    const { app } = await harness()
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const res = await postLogoutToken(app, await encrypt(await sign({}), encryption.publicKey))
    expectInvalidRequest(res)
    expect(res.body.error_description).toMatch(/no decryption key/)
    expect(await app.sessionIds()).toContain(victim.id)
  })
})

/** A store whose listed methods reject, as a Redis store does when the server is gone. */
function failingStore(methods: Array<keyof Store>): Store {
  const inner = memoryStore()
  const failing = Object.fromEntries(
    methods.map((m) => [m, () => Promise.reject(new Error(`store down (${m})`))]),
  ) as Partial<Store>
  return { ...inner, ...failing }
}

/** An express-session MemoryStore whose destroy fails. */
class BrokenDestroyStore extends session.MemoryStore {
  override destroy(_sid: string, callback?: (err?: unknown) => void): void {
    callback?.(new Error('session store down'))
  }
}

describe('back-channel receiver: outages answer so the provider retries', () => {
  it.each<[string, Array<keyof Store>, string]>([
    ['claimJti rejects (store down before anything happened)', ['claimJti'], 'ERR_STORE'],
    ['revoke and take reject after the jti was claimed', ['revoke', 'take'], 'ERR_STORE'],
  ])('%s: 500 application_error, no-store, reported', async (_name, methods, code) => {
    const { app, events, warnings } = await harness({ store: failingStore(methods) })
    const res = await postLogoutToken(app, await sign({}))
    expect(res.status).toBe(500)
    expectNoStore(res)
    expect(res.body).toEqual({ error: 'application_error', error_description: expect.any(String) })
    expect(events).toHaveLength(1)
    expect(events[0]!.errors.map((e) => e.code)).toContain(code)
    expect(warnings.join('\n')).toMatch(new RegExp(`backchannel logout: ${code}`))
  })

  it('the session store cannot destroy: 500, ERR_SESSION_STORE reported, the sid still revoked', async () => {
    const events: LogoutEvent[] = []
    const sessionStore = new BrokenDestroyStore()
    const app = await createApp(
      'express5',
      localOptions([rs], {
        provider: testProvider(),
        backchannel: { path: '/backchannel' },
        onLogout: (event) => void events.push(event),
        logger: { warn: () => undefined, error: () => undefined },
      }),
      { sessionStore },
    )
    await linkedSession(app, { sid: 'sid-X' })
    const res = await postLogoutToken(app, await sign({}))
    expect(res.status).toBe(500)
    expect(res.body.error).toBe('application_error')
    expect(events[0]!.errors.map((e) => e.code)).toEqual(['ERR_SESSION_STORE'])
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-X' })).toEqual(expect.any(Number))
  })

  it("gives the jti back after a failed logout, so the provider's retry of the same token succeeds", async () => {
    class FlakyDestroyStore extends session.MemoryStore {
      broken = true
      override destroy(sid: string, callback?: (err?: unknown) => void): void {
        if (this.broken) callback?.(new Error('session store down'))
        else super.destroy(sid, callback)
      }
    }
    const sessionStore = new FlakyDestroyStore()
    const app = await createApp(
      'express5',
      localOptions([rs], {
        provider: testProvider(),
        backchannel: { path: '/backchannel' },
        logger: { warn: () => undefined, error: () => undefined },
      }),
      { sessionStore },
    )
    await linkedSession(app, { sid: 'sid-X' })
    const token = await sign({})
    expect((await postLogoutToken(app, token)).status).toBe(500)
    sessionStore.broken = false
    expect((await postLogoutToken(app, token)).status).toBe(200)
    const replay = await postLogoutToken(app, token)
    expect(replay.status).toBe(400)
    expect(replay.body.error_description).toMatch(/already received/)
  })

  async function remoteHarness(provider: Provider) {
    const warnings: string[] = []
    const app = await createApp('express5', {
      provider,
      backchannel: { path: '/backchannel' },
      logger: { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
    })
    return { app, warnings }
  }

  async function expectUnavailable(app: TestApp, warnings: string[]): Promise<void> {
    const victim = await linkedSession(app, { sid: 'sid-X' })
    const res = await postLogoutToken(app, await sign({ jti: 'outage-jti' }))
    expect(res.status).toBe(503)
    expectNoStore(res)
    expect(res.headers['retry-after']).toBe('30')
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) })
    expect(warnings.join('\n')).toMatch(/ERR_JWKS_UNAVAILABLE/)
    expect(await app.sessionIds()).toContain(victim.id)
    // The jti was not consumed, so the provider's retry can still be accepted.
    expect(await app.mw.store.claimJti(ISSUER, 'outage-jti', 10)).toBe(true)
  }

  it('the JWKS URL points at a closed port: 503', async () => {
    const { app, warnings } = await remoteHarness(
      testProvider({ jwksUri: `http://${await refusedHost()}/jwks` }),
    )
    await expectUnavailable(app, warnings)
  })

  it('the JWKS endpoint answers 500: 503', async () => {
    const jwks = await listen((_req, res) => {
      res.statusCode = 500
      res.end('oops')
    })
    try {
      const { app, warnings } = await remoteHarness(testProvider({ jwksUri: `${jwks.url}/jwks` }))
      await expectUnavailable(app, warnings)
    } finally {
      await jwks.close()
    }
  })

  it('discovery fails (metadata() throws): 503', async () => {
    const provider: Provider = {
      ...testProvider(),
      metadata: () => {
        throw new LogoutError('ERR_PROVIDER_DISCOVERY', 'discovery failed', { status: 503 })
      },
    }
    const { app, warnings } = await remoteHarness(provider)
    await expectUnavailable(app, warnings)
  })

  it('the keys come back: the token refused with 503 is accepted on retry', async () => {
    const jwks = await startJwksServer([rs])
    const flaky = { up: false }
    const provider: Provider = {
      ...testProvider(),
      metadata: () => {
        if (!flaky.up) throw new Error('discovery unreachable')
        return { jwksUri: jwks.url, idTokenSigningAlgValues: ['RS256'] }
      },
    }
    try {
      const { app } = await remoteHarness(provider)
      const victim = await linkedSession(app, { sid: 'sid-X' })
      const token = await sign({})
      expect((await postLogoutToken(app, token)).status).toBe(503)
      flaky.up = true
      expect((await postLogoutToken(app, token)).status).toBe(200)
      expect(await app.sessionIds()).not.toContain(victim.id)
    } finally {
      await jwks.close()
    }
  })
})
