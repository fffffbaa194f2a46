import request from 'supertest'
import { memoryStore } from '../../lib/index.js'
import type { Store } from '../../lib/index.js'
import { FLAVOURS, ISSUER, closeApps, createApp, expectClearedCookie, localOptions } from '../support/app.js'
import { mint, nowSeconds, startJwksServer, useTestKey } from '../support/jwt.js'

const key = useTestKey('RS256')
const stranger = useTestKey('RS256')
afterEach(closeApps)

const token = (sid: string, extra = {}) => mint(key, { iss: ISSUER, sid, sub: 'alice', ...extra })
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })
const quiet = { warn: () => undefined, error: () => undefined }

/** A memoryStore whose revocation list cannot be read. */
function brokenStore(): Store {
  return {
    ...memoryStore(),
    revokedAt: () => Promise.reject(new Error('ECONNREFUSED')),
  }
}

describe.each(FLAVOURS)('%s: guard', (flavour) => {
  it('answers 401 invalid_token to a token of a logged-out sid', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await token('g-1')
    expect((await request(app.url).get('/api').set(bearer(t))).text).toBe('api ok')
    await request(app.url).post('/logout').set(bearer(t))
    const res = await request(app.url).get('/api').set(bearer(t))
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    expect(res.headers['cache-control']).toBe('no-store')
    const json = await request(app.url).get('/api').set(bearer(t)).set('Accept', 'application/json')
    expect(json.status).toBe(401)
    expect(json.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
  })

  it('refuses a token of a logged-out sid that does not say when it was issued', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await mint(key, { iss: ISSUER, sid: 'no-iat', sub: 'alice', iat: undefined })
    expect((await request(app.url).get('/api').set(bearer(t))).text).toBe('api ok')
    await request(app.url).post('/logout').set(bearer(t))
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'no-iat' })).toEqual(expect.any(Number))
    expect((await request(app.url).get('/api').set(bearer(t))).status).toBe(401)
  })

  it('lets through a token issued after the revocation (the IdP reused the sid)', async () => {
    const app = await createApp(flavour, localOptions([key]))
    await request(app.url)
      .post('/logout')
      .set(bearer(await token('reused')))
    const later = await token('reused', { iat: Math.ceil(Date.now() / 1000) + 1 })
    expect((await request(app.url).get('/api').set(bearer(later))).text).toBe('api ok')
  })

  it('refuses a token revoked by sub after revoke({ sub })', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await token('other-sid')
    await app.mw.revoke({ sub: 'alice' })
    expect((await request(app.url).get('/api').set(bearer(t))).status).toBe(401)
  })

  it('destroys a linked session of a revoked sid on its next request', async () => {
    // Two instances share the store; the second one logs the sid out, the first learns it on the
    // session's next request.
    const store = memoryStore()
    const app = await createApp(flavour, localOptions([key], { store }))
    const peer = await createApp(flavour, localOptions([key], { store }))
    const session = await app.login(await token('shared'))
    const bystander = await app.login(await token('bystander'))
    await peer.login()
    await peer.mw.revoke({ sid: 'shared' })
    expect((await app.sessionIds()).sort()).toEqual([session.id, bystander.id].sort())
    const res = await request(app.url).get('/api').set('Cookie', session.cookie)
    expect(res.status).toBe(401)
    expectClearedCookie(res, 'connect.sid', { httpOnly: true })
    expect(await app.sessionIds()).toEqual([bystander.id])
    expect((await request(app.url).get('/api').set('Cookie', bystander.cookie)).text).toBe('api ok')
  })

  it('refuses and destroys a session linked explicitly (no marker in it) once another service logged its sid out', async () => {
    // Two services sharing one store, each with its own session store: A's logout cannot reach
    // B's session store, so B's guard finds the session's tombstone on its next request.
    const store = memoryStore()
    const a = await createApp(flavour, localOptions([key], { store }))
    const b = await createApp(flavour, localOptions([key], { store }))
    const atB = await b.login()
    await b.mw.link({ sid: 'opaque', sub: 'alice', sessionId: atB.id })
    expect((await request(b.url).get('/api').set('Cookie', atB.cookie)).text).toBe('api ok')
    expect(await a.mw.revoke({ sid: 'opaque' })).toBe(0)
    expect(await b.sessionIds()).toEqual([atB.id])
    const res = await request(b.url).get('/api').set('Cookie', atB.cookie)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    expectClearedCookie(res, 'connect.sid', { httpOnly: true })
    expect(await b.sessionIds()).toEqual([])
  })

  it('passes requests with no token, an unverifiable token, or an unlinked session', async () => {
    const app = await createApp(flavour, localOptions([key]))
    await request(app.url)
      .post('/logout')
      .set(bearer(await token('forged')))
    const forged = await mint(stranger, { iss: ISSUER, sid: 'forged' })
    const plain = await app.login()
    for (const headers of [{}, bearer(forged), { Cookie: plain.cookie }]) {
      expect((await request(app.url).get('/api').set(headers)).text).toBe('api ok')
    }
  })

  it('uses claims from guard.claims instead of verifying', async () => {
    const claims = (req: { headers: Record<string, unknown> }) => {
      const raw = req.headers['x-verified-claims']
      return typeof raw === 'string' ? JSON.parse(raw) : undefined
    }
    const app = await createApp(flavour, localOptions([key], { guard: { claims } }))
    await app.mw.revoke({ sid: 'upstream' })
    const iat = nowSeconds() - 10
    const stale = JSON.stringify({ iss: ISSUER, sid: 'upstream', iat })
    const fresh = JSON.stringify({ iss: ISSUER, sid: 'upstream', iat: iat + 20 })
    expect((await request(app.url).get('/api').set('X-Verified-Claims', stale)).status).toBe(401)
    expect((await request(app.url).get('/api').set('X-Verified-Claims', fresh)).text).toBe('api ok')
    // Without claims from upstream, guard verifies the token itself.
    const t = await token('upstream', { iat })
    expect((await request(app.url).get('/api').set(bearer(t))).status).toBe(401)
  })

  it('answers 503 when the revocation list cannot be read, and next() with failOpen', async () => {
    const t = await token('down')
    const closed = await createApp(flavour, localOptions([key], { store: brokenStore(), logger: quiet }))
    const res = await request(closed.url).get('/api').set(bearer(t)).set('Accept', 'application/json')
    expect(res.status).toBe(503)
    expect(res.body.error).toBe('ERR_STORE')
    const open = await createApp(
      flavour,
      localOptions([key], { store: brokenStore(), logger: quiet, guard: { failOpen: true } }),
    )
    expect((await request(open.url).get('/api').set(bearer(t))).text).toBe('api ok')
  })

  it('answers 503 when the verification keys cannot be fetched', async () => {
    const jwks = await startJwksServer([key])
    await jwks.close()
    const app = await createApp(flavour, localOptions([], { accessToken: { jwks: jwks.url }, logger: quiet }))
    const t = await mint(key, { iss: ISSUER, sid: 'nokeys' })
    const res = await request(app.url).get('/api').set(bearer(t)).set('Accept', 'application/json')
    expect(res.status).toBe(503)
    expect(res.body.error).toBe('ERR_JWKS_UNAVAILABLE')
  })
})

describe.each(FLAVOURS)('%s: guard and a token kept in the session', (flavour) => {
  it('ends the session whose kept token belongs to a revoked subject, so the browser is not stuck on 401', async () => {
    const app = await createApp(flavour, localOptions([key]))
    // A token minted in the same second as the revocation is refused (iat has second precision).
    const kept = await mint(key, { iss: ISSUER, sid: 'kept-1', sub: 'carol' })
    const { cookie, id } = await app.login(kept, kept)
    expect(await app.sessionIds()).toContain(id)
    await app.mw.store.revoke({ iss: ISSUER, sub: 'carol' }, Date.now() + 1000, 60)

    const refused = await request(app.url).get('/api').set('Cookie', cookie)
    expect(refused.status).toBe(401)
    expect(await app.sessionIds()).not.toContain(id)
    expect(String(refused.headers['set-cookie'])).toMatch(/Max-Age=0/)
  })

  it('leaves a session alone when the refused token belongs to another subject', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const own = await mint(key, { iss: ISSUER, sid: 'own-1', sub: 'dave' })
    const { id } = await app.login(own)
    await app.mw.store.revoke({ iss: ISSUER, sid: 'other-1' }, Date.now() + 1000, 60)
    const foreign = await mint(key, { iss: ISSUER, sid: 'other-1', sub: 'erin' })
    const refused = await request(app.url).get('/api').set('Authorization', `Bearer ${foreign}`)
    expect(refused.status).toBe(401)
    expect(await app.sessionIds()).toContain(id)
  })
})
