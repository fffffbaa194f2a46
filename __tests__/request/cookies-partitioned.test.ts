import request from 'supertest'
import { FLAVOURS, closeApps, createApp, localOptions, setCookies } from '../support/app.js'
import { useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)

describe.each(FLAVOURS)('%s: Partitioned (CHIPS) cookies are deleted as partitioned', (flavour) => {
  it('clears a partitioned express-session cookie with Partitioned and Secure', async () => {
    const app = await createApp(flavour, localOptions([key]), {
      sessionOptions: { cookie: { partitioned: true, secure: 'auto', sameSite: 'none' } },
    })
    const session = await app.login()
    const res = await request(app.url).post('/logout').set('Cookie', session.cookie).expect(303)
    const cleared = setCookies(res.headers).get('connect.sid')
    expect(cleared?.has('partitioned')).toBe(true)
    expect(cleared?.has('secure')).toBe(true)
    expect(cleared?.get('max-age')).toBe('0')
  })

  it('clears a configured partitioned cookie with Partitioned, and an unpartitioned one without', async () => {
    const cookies = [{ name: 'embed', partitioned: true, sameSite: 'none' as const }, 'plain']
    const app = await createApp(flavour, localOptions([key], { cookies }))
    const res = await request(app.url).post('/logout').expect(303)
    const all = setCookies(res.headers)
    expect(all.get('embed')?.has('partitioned')).toBe(true)
    expect(all.get('embed')?.has('secure')).toBe(true)
    expect(all.get('plain')?.has('partitioned')).toBe(false)
  })
})
