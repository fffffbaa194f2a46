import request from 'supertest'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('RS256')
afterEach(closeApps)

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
