import request from 'supertest'
import {
  FLAVOURS,
  closeApps,
  createApp,
  expectClearedCookie,
  localOptions,
  setCookies,
} from '../support/app.js'
import { useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)

describe.each(FLAVOURS)('%s: cookies', (flavour) => {
  it('clears each configured cookie with the attributes it was set with', async () => {
    const cookies = [
      { name: 'at', path: '/api', domain: 'app.test', secure: true, sameSite: 'none' as const },
      'plain',
      { name: 'lax', path: '/', sameSite: 'lax' as const, httpOnly: true },
      { name: '__Host-id', secure: true, sameSite: 'strict' as const },
      { name: '__host-lower' },
      { name: '__Secure-x', path: '/x', domain: 'app.test' },
    ]
    const app = await createApp(flavour, localOptions([key], { cookies }), { session: false })
    const res = await request(app.url).post('/logout')
    expectClearedCookie(res, 'at', { path: '/api', domain: 'app.test', secure: true, sameSite: 'None' })
    expectClearedCookie(res, 'plain', { httpOnly: false })
    expectClearedCookie(res, 'lax', { sameSite: 'Lax', httpOnly: true })
    // Prefixed cookies are refused by browsers unless the deletion carries the prefix's rules
    // (RFC 6265bis §4.1.3): __Host- needs Secure, Path=/ and no Domain; __Secure- needs Secure.
    expectClearedCookie(res, '__Host-id', { secure: true, sameSite: 'Strict' })
    expectClearedCookie(res, '__host-lower', { secure: true })
    expectClearedCookie(res, '__Secure-x', { path: '/x', domain: 'app.test', secure: true })
    expect(setCookies(res.headers).size).toBe(6)
  })

  it('clears the access-token cookie of accessToken.from and the express-session cookie by default', async () => {
    const app = await createApp(
      flavour,
      localOptions([key], { accessToken: { from: ['header', 'cookie:tok'] } }),
    )
    const { cookie } = await app.login()
    const res = await request(app.url)
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Cookie', cookie)
    expectClearedCookie(res, 'tok')
    expectClearedCookie(res, 'connect.sid', { httpOnly: true })
    expect([...setCookies(res.headers).keys()].sort()).toEqual(['connect.sid', 'tok'])
  })

  it("clears express-session's cookie with its own name, Path, Domain and SameSite", async () => {
    const app = await createApp(flavour, localOptions([key]), {
      prefix: '/app',
      mount: '/app',
      sessionOptions: { name: 'app.sid', cookie: { path: '/app', domain: 'app.test', sameSite: 'strict' } },
    })
    const { cookie, id } = await app.login()
    const res = await request(app.url).post('/app/logout').set('Cookie', cookie)
    expect(res.status).toBe(303)
    expectClearedCookie(res, 'app.sid', {
      path: '/app',
      domain: 'app.test',
      sameSite: 'Strict',
      httpOnly: true,
    })
    expect(setCookies(res.headers).has('connect.sid')).toBe(false)
    expect(await app.sessionIds()).not.toContain(id)
  })

  it('sends Clear-Site-Data only when enabled', async () => {
    const off = await createApp(flavour, localOptions([key]))
    expect((await request(off.url).post('/logout')).headers['clear-site-data']).toBeUndefined()
    const on = await createApp(flavour, localOptions([key], { clearSiteData: true }))
    expect((await request(on.url).post('/logout')).headers['clear-site-data']).toBe(
      '"cache", "cookies", "storage"',
    )
    const some = await createApp(
      flavour,
      localOptions([key], { clearSiteData: ['cookies', 'executionContexts'] }),
    )
    expect(
      (await request(some.url).get('/logout').set('Sec-Fetch-Site', 'same-origin')).headers[
        'clear-site-data'
      ],
    ).toBe('"cookies", "executionContexts"')
    // A refused request changes nothing, so it must not wipe the site's data either.
    const refused = await request(on.url).post('/logout').set('Origin', 'https://evil.example')
    expect(refused.status).toBe(403)
    expect(refused.headers['clear-site-data']).toBeUndefined()
  })

  it.each<[string, (url: string) => request.Test, number]>([
    ['a GET redirect', (url) => request(url).get('/logout').set('Sec-Fetch-Site', 'same-origin'), 302],
    ['a POST redirect', (url) => request(url).post('/logout'), 303],
    ['a JSON answer', (url) => request(url).post('/logout').set('Accept', 'application/json'), 200],
    [
      'a refused returnTo',
      (url) => request(url).get('/logout?returnTo=//evil.example').set('Sec-Fetch-Site', 'same-origin'),
      400,
    ],
    [
      'a cross-site request',
      (url) => request(url).post('/logout').set('Origin', 'https://evil.example'),
      403,
    ],
    ['an invalid body', (url) => request(url).post('/logout').type('json').send('{'), 400],
    [
      'a body too large',
      (url) =>
        request(url)
          .post('/logout')
          .type('form')
          .send(`a=${'x'.repeat(20_000)}`),
      413,
    ],
  ])('sends Cache-Control: no-store on %s', async (_name, send, status) => {
    const app = await createApp(flavour, localOptions([key]))
    const res = await send(app.url)
    expect(res.status).toBe(status)
    expect(res.headers['cache-control']).toBe('no-store')
  })
})
