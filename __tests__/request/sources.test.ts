import request from 'supertest'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

// Where the access token is read from (lib/request/sources.ts): the `accessToken.from` sources in
// order, and the default access_token cookie.

const ec = useTestKey('ES256')
afterEach(closeApps)

describe.each(FLAVOURS)('%s: where the token is found', (flavour) => {
  const from = ['header', 'cookie:at', 'session:accessToken', 'body:access_token']
  const options = () => localOptions([ec], { accessToken: { from } })

  it('takes the first source in accessToken.from order', async () => {
    const app = await createApp(flavour, options())
    const tokens = await Promise.all(['h', 'c', 's', 'b'].map((sid) => mint(ec, { iss: ISSUER, sid })))
    const [header, cookie, inSession, body] = tokens as [string, string, string, string]
    const sessions = await Promise.all([header, cookie, body].map((t) => app.login(t)))
    const holder = await app.login(undefined, inSession)
    const post = (withHeader: boolean, withCookie: boolean, withSession: boolean) => {
      let req = request(app.url).post('/logout')
      if (withHeader) req = req.set('Authorization', `Bearer ${header}`)
      const cookies = [withCookie ? `at=${cookie}` : '', withSession ? holder.cookie : ''].filter(Boolean)
      if (cookies.length) req = req.set('Cookie', cookies.join('; '))
      return req.type('form').send({ access_token: body })
    }
    const revoked = async (sid: string) => (await app.mw.store.revokedAt({ iss: ISSUER, sid })) !== undefined
    await post(true, true, true)
    expect(await Promise.all(['h', 'c', 's', 'b'].map(revoked))).toEqual([true, false, false, false])
    await post(false, true, false)
    expect(await Promise.all(['c', 's', 'b'].map(revoked))).toEqual([true, false, false])
    await post(false, false, false)
    expect(await Promise.all(['s', 'b'].map(revoked))).toEqual([false, true])
    const ids = await app.sessionIds()
    expect(ids).not.toContain(sessions[0]!.id)
    expect(ids).not.toContain(sessions[1]!.id)
    expect(ids).not.toContain(sessions[2]!.id)
  })

  it('reads the token kept in the session', async () => {
    const app = await createApp(flavour, options())
    const token = await mint(ec, { iss: ISSUER, sid: 'kept' })
    const other = await app.login(token)
    const holder = await app.login(undefined, token)
    await request(app.url).post('/logout').set('Cookie', holder.cookie)
    expect(await app.sessionIds()).toEqual([])
    expect(other.id).not.toBe(holder.id)
  })

  it('reads the default access_token cookie when from is not set', async () => {
    const app = await createApp(flavour, localOptions([ec]))
    const token = await mint(ec, { iss: ISSUER, sid: 'cookie-sid' })
    await app.login(token)
    await request(app.url).post('/logout').set('Cookie', `access_token=${token}`)
    expect(await app.sessionIds()).toEqual([])
  })
})
