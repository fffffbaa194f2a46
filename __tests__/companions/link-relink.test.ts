import request from 'supertest'
import * as jose from 'jose'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)
afterEach(() => jest.restoreAllMocks())

describe.each(FLAVOURS)('%s: automatic links follow the token the session carries', (flavour) => {
  it('re-links a session that now carries a token of another sid (re-login without a new session)', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const first = await mint(key, { iss: ISSUER, sid: 'old-sid', sub: 'alice' })
    const second = await mint(key, { iss: ISSUER, sid: 'new-sid', sub: 'bob' })
    const session = await app.login(first)
    // The same session now comes with the new user's token.
    await request(app.url)
      .get('/anything')
      .set('Cookie', session.cookie)
      .set('Authorization', `Bearer ${second}`)
    // A logout of the old sid must not end the new user's session...
    expect(await app.mw.revoke({ sid: 'old-sid' })).toBe(0)
    expect(await app.sessionIds()).toEqual([session.id])
    // ...and a logout of the new sid ends it.
    expect(await app.mw.revoke({ sid: 'new-sid' })).toBe(1)
    expect(await app.sessionIds()).toEqual([])
  })

  it('verifies a linked session token once, not on every request', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await mint(key, { iss: ISSUER, sid: 'steady', sub: 'alice' })
    const session = await app.login(t)
    const verify = jest.spyOn(jose, 'jwtVerify')
    for (let i = 0; i < 3; i++) {
      await request(app.url)
        .get('/anything')
        .set('Cookie', session.cookie)
        .set('Authorization', `Bearer ${t}`)
    }
    expect(verify).not.toHaveBeenCalled()
  })

  it('a refreshed token of the same sid is verified once and keeps the link', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await mint(key, { iss: ISSUER, sid: 'refresh', sub: 'alice' })
    const refreshed = await mint(key, { iss: ISSUER, sid: 'refresh', sub: 'alice', jti: 'r2' })
    const session = await app.login(t)
    const verify = jest.spyOn(jose, 'jwtVerify')
    for (let i = 0; i < 3; i++) {
      await request(app.url)
        .get('/anything')
        .set('Cookie', session.cookie)
        .set('Authorization', `Bearer ${refreshed}`)
    }
    expect(verify).toHaveBeenCalledTimes(1)
    expect(await app.mw.revoke({ sid: 'refresh' })).toBe(1)
  })

  it('a bearer-only request whose session is never saved is not verified for linking', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const t = await mint(key, { iss: ISSUER, sid: 'bearer-only', sub: 'alice' })
    const verify = jest.spyOn(jose, 'jwtVerify')
    await request(app.url).get('/anything').set('Authorization', `Bearer ${t}`)
    expect(verify).not.toHaveBeenCalled()
    expect(await app.sessionIds()).toEqual([])
  })
})
