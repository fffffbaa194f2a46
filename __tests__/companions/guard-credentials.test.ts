import request from 'supertest'
import * as jose from 'jose'
import { logout, memoryStore } from '../../lib/index'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, nowSeconds, useTestKey } from '../support/jwt.js'
import type { TestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)
afterEach(() => jest.restoreAllMocks())

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })
const quiet = { warn: () => undefined, error: () => undefined }

function token(k: TestKey, claims: jose.JWTPayload): Promise<string> {
  return mint(k, { iss: ISSUER, sub: 'alice', ...claims })
}

describe.each(FLAVOURS)('%s: guard reads every credential', (flavour) => {
  it('refuses a logged-out cookie token shadowed by a junk Authorization header', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const revoked = await token(key, { sid: 'shadowed' })
    await request(app.url).post('/logout').set(bearer(revoked)).expect(303)
    const res = await request(app.url)
      .get('/api')
      .set('Cookie', `access_token=${revoked}`)
      .set('Authorization', 'Bearer x.y.z')
    expect(res.status).toBe(401)
  })

  it('refuses a logged-out cookie token shadowed by a valid token of another sid in the header', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const revoked = await token(key, { sid: 'old' })
    const other = await token(key, { sid: 'new', sub: 'bob' })
    await request(app.url).post('/logout').set(bearer(revoked)).expect(303)
    const res = await request(app.url).get('/api').set('Cookie', `access_token=${revoked}`).set(bearer(other))
    expect(res.status).toBe(401)
    // The other token alone is not logged out.
    expect((await request(app.url).get('/api').set(bearer(other))).text).toBe('api ok')
  })

  it('refuses a logged-out token kept in the session behind a junk header and cookie', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const revoked = await token(key, { sid: 'in-session' })
    const session = await app.login(undefined, revoked)
    await app.mw.revoke({ sid: 'in-session' })
    const res = await request(app.url)
      .get('/api')
      .set('Cookie', `${session.cookie}; access_token=junk`)
      .set('Authorization', 'Bearer a.b.c')
    expect(res.status).toBe(401)
  })

  it('verifies one token once, however many sources carry it', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await token(key, { sid: 'once' })
    const verify = jest.spyOn(jose, 'jwtVerify')
    const res = await request(app.url).get('/api').set('Cookie', `access_token=${t}`).set(bearer(t))
    expect(res.text).toBe('api ok')
    expect(verify).toHaveBeenCalledTimes(1)
  })
})

describe.each(FLAVOURS)('%s: a session and the token that linked it', (flavour) => {
  it('asks the store once when the session is linked to the token it carries, and once per sid otherwise', async () => {
    const store = memoryStore()
    const app = await createApp(flavour, localOptions([key], { store }))
    const t = await token(key, { sid: 'same' })
    const session = await app.login(t)
    const asked = jest.spyOn(store, 'revokedAt')
    const res = await request(app.url).get('/api').set('Cookie', session.cookie).set(bearer(t))
    expect(res.text).toBe('api ok')
    expect(asked).toHaveBeenCalledTimes(1)
    asked.mockClear()
    // Two tokens of two sids (a cookie and the header): one question each.
    const other = await token(key, { sid: 'other', sub: 'bob' })
    const both = await request(app.url).get('/api').set('Cookie', `access_token=${t}`).set(bearer(other))
    expect(both.text).toBe('api ok')
    expect(asked).toHaveBeenCalledTimes(2)
  })

  it('judges the link and the token by their own dates against the one answer', async () => {
    const store = memoryStore()
    const app = await createApp(flavour, localOptions([key], { store }))
    const now = nowSeconds()
    // Linked by a token issued 100 s ago; the sid revoked 50 s ago; a token of the same sid and
    // sub issued now (the IdP reused the sid), carried by the same session.
    const session = await app.login(await token(key, { sid: 'reused', iat: now - 100 }))
    await store.revoke({ iss: ISSUER, sid: 'reused' }, (now - 50) * 1000, 600)
    const fresh = await token(key, { sid: 'reused', iat: now })
    expect((await request(app.url).get('/api').set(bearer(fresh))).text).toBe('api ok')
    const res = await request(app.url).get('/api').set('Cookie', session.cookie).set(bearer(fresh))
    expect(res.status).toBe(401)
  })
})

describe.each(FLAVOURS)('%s: tokens without iss map to one revocation key', (flavour) => {
  it('refuses an issuer-less token after its logout when no issuer is configured', async () => {
    const options = { baseURL: BASE_URL, accessToken: { jwks: { keys: [key.jwk] } } }
    const app = await createApp(flavour, options)
    const t = await mint(key, { sid: 'no-iss', sub: 'alice' })
    expect((await request(app.url).get('/api').set(bearer(t))).text).toBe('api ok')
    await request(app.url).post('/logout').set(bearer(t)).expect(303)
    expect(await app.mw.store.revokedAt({ iss: '', sid: 'no-iss' })).toEqual(expect.any(Number))
    expect((await request(app.url).get('/api').set(bearer(t))).status).toBe(401)
  })
})

describe.each(FLAVOURS)('%s: the IdP clock ahead of ours', (flavour) => {
  it('refuses a token issued just before the logout by an IdP whose clock is 30 s ahead', async () => {
    const app = await createApp(flavour, localOptions([key]))
    // Tokens signed by this IdP carry an `iat` 30 s in our future: guard learns the lead from them.
    const iat = nowSeconds() + 30
    const seen = await token(key, { sid: 'skew', iat })
    expect((await request(app.url).get('/api').set(bearer(seen))).text).toBe('api ok')
    // Issued before the logout, but dated after it by our clock.
    const justBefore = await token(key, { sid: 'skew', iat, jti: 'another' })
    await request(app.url).post('/logout').set(bearer(seen)).expect(303)
    expect((await request(app.url).get('/api').set(bearer(justBefore))).status).toBe(401)
  })

  it('with guard.clockTolerance 0, allows for no lead', async () => {
    const app = await createApp(flavour, localOptions([key], { guard: { clockTolerance: 0 } }))
    const justBefore = await token(key, { sid: 'skew0', iat: nowSeconds() + 30 })
    expect((await request(app.url).get('/api').set(bearer(justBefore))).text).toBe('api ok')
    await app.mw.store.revoke({ iss: ISSUER, sid: 'skew0' }, Date.now(), 60)
    expect((await request(app.url).get('/api').set(bearer(justBefore))).text).toBe('api ok')
  })

  it('with clocks in step, a token issued after the logout (a reused sid) still passes', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const first = await token(key, { sid: 'reuse' })
    await request(app.url).get('/api').set(bearer(first))
    await request(app.url).post('/logout').set(bearer(first)).expect(303)
    const later = await token(key, { sid: 'reuse', iat: Math.ceil(Date.now() / 1000) + 1 })
    expect((await request(app.url).get('/api').set(bearer(later))).text).toBe('api ok')
  })

  it('refuses guard.clockTolerance outside 0..600 at construction', () => {
    for (const bad of [-1, 601, Number.NaN, '5']) {
      expect(() => logout(localOptions([key], { guard: { clockTolerance: bad as number } }))).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARG_VALUE',
          message: expect.stringContaining('options.guard.clockTolerance'),
        }),
      )
    }
  })
})

describe.each(FLAVOURS)('%s: failOpen never serves a known-revoked credential', (flavour) => {
  it('answers 401 when the store said revoked and destroying the session then failed', async () => {
    const store = memoryStore()
    const app = await createApp(
      flavour,
      localOptions([key], { store, guard: { failOpen: true }, logger: quiet }),
    )
    const t = await token(key, { sid: 'known' })
    const session = await app.login(t)
    await store.revoke({ iss: ISSUER, sid: 'known' }, Date.now(), 60)
    // The session store breaks after the revocation was recorded.
    app.sessionStore.destroy = (_id: string, callback?: (err?: unknown) => void) =>
      callback?.(new Error('session store down'))
    const res = await request(app.url).get('/api').set('Cookie', session.cookie)
    expect(res.status).toBe(401)
  })

  it('still lets requests through with failOpen when the store cannot tell', async () => {
    const store = memoryStore()
    store.revokedAt = () => Promise.reject(new Error('down'))
    const app = await createApp(
      flavour,
      localOptions([key], { store, guard: { failOpen: true }, logger: quiet }),
    )
    const t = await token(key, { sid: 'unknown' })
    expect((await request(app.url).get('/api').set(bearer(t))).text).toBe('api ok')
  })
})
