import request from 'supertest'
import type { Test } from 'supertest'
import type { TestApp } from '../support/app.js'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('EdDSA')
afterEach(closeApps)

interface Fixture {
  app: TestApp
  token: string
  current: { cookie: string; id: string }
  other: { cookie: string; id: string }
}

/** Two sessions linked to one sid; requests carry the first one's cookie and the token. */
async function fixture(flavour: (typeof FLAVOURS)[number]): Promise<Fixture> {
  const app = await createApp(flavour, localOptions([key]))
  const token = await mint(key, { iss: ISSUER, sid: 'csrf-sid', sub: 'u1' })
  return { app, token, current: await app.login(token), other: await app.login(token) }
}

function send(f: Fixture, method: 'get' | 'post', headers: Record<string, string>): Test {
  const agent = request(f.app.url)
  const req = method === 'get' ? agent.get('/logout') : agent.post('/logout')
  return req.set('Cookie', f.current.cookie).set('Authorization', `Bearer ${f.token}`).set(headers)
}

describe.each(FLAVOURS)('%s: CSRF gate', (flavour) => {
  it.each<[string, 'get' | 'post', Record<string, string>]>([
    ['a POST from another site', 'post', { Origin: 'https://evil.example' }],
    ['a POST from a sibling subdomain', 'post', { Origin: 'https://evil.app.test' }],
    ['a POST from another port of the base host', 'post', { Origin: 'https://app.test:8443' }],
    ['a POST from an opaque origin', 'post', { Origin: 'null' }],
    ['a GET marked cross-site', 'get', { 'Sec-Fetch-Site': 'cross-site' }],
    // A sibling subdomain, or a browser without Fetch Metadata loading an <img>: the GET shows no
    // sign it came from the app's pages, and a POST marked same-site names no origin.
    ['a POST marked same-site without Origin', 'post', { 'Sec-Fetch-Site': 'same-site' }],
    ['a GET marked same-site', 'get', { 'Sec-Fetch-Site': 'same-site' }],
    ['a GET without fetch metadata', 'get', {}],
    ['a POST marked cross-site', 'post', { 'Sec-Fetch-Site': 'cross-site' }],
    [
      'a POST marked cross-site with the app origin',
      'post',
      { 'Sec-Fetch-Site': 'cross-site', Origin: BASE_URL },
    ],
  ])('refuses %s with 403 and destroys nothing', async (_name, method, headers) => {
    const f = await fixture(flavour)
    const before = (await f.app.sessionIds()).sort()
    const res = await send(f, method, headers)
    expect(res.status).toBe(403)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['set-cookie']).toBeUndefined()
    expect(res.headers.location).toBeUndefined()
    expect((await f.app.sessionIds()).sort()).toEqual(before)
    expect(before).toEqual([f.current.id, f.other.id].sort())
    expect(await f.app.mw.store.revokedAt({ iss: ISSUER, sid: 'csrf-sid' })).toBeUndefined()
    // The session and the token still work.
    const api = await request(f.app.url)
      .get('/api')
      .set('Cookie', f.current.cookie)
      .set('Authorization', `Bearer ${f.token}`)
    expect(api.text).toBe('api ok')
  })

  it('answers the 403 as JSON with its code when JSON is preferred', async () => {
    const f = await fixture(flavour)
    const res = await send(f, 'post', { Origin: 'https://evil.example', Accept: 'application/json' })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ error: 'ERR_CROSS_SITE_REQUEST', error_description: expect.any(String) })
  })

  it.each<[string, 'get' | 'post', (f: Fixture) => Record<string, string>]>([
    ['a POST from the origin it was sent to', 'post', (f) => ({ Origin: f.app.url })],
    ['a POST from the baseURL origin', 'post', () => ({ Origin: BASE_URL })],
    ['a POST without Origin (non-browser client)', 'post', () => ({})],
    ['a POST marked same-origin', 'post', (f) => ({ 'Sec-Fetch-Site': 'same-origin', Origin: f.app.url })],
    [
      'a POST marked same-site from the baseURL origin',
      'post',
      () => ({ 'Sec-Fetch-Site': 'same-site', Origin: BASE_URL }),
    ],
    ['a GET marked same-origin', 'get', () => ({ 'Sec-Fetch-Site': 'same-origin' })],
    ['a GET marked none (typed in the address bar)', 'get', () => ({ 'Sec-Fetch-Site': 'none' })],
    [
      'a GET without fetch metadata from a page of the app (Referer)',
      'get',
      () => ({ Referer: `${BASE_URL}/notes` }),
    ],
  ])('lets through %s and logs out', async (_name, method, headers) => {
    const f = await fixture(flavour)
    const res = await send(f, method, headers(f))
    expect(res.status).toBe(method === 'get' ? 302 : 303)
    expect(await f.app.sessionIds()).toEqual([])
    expect(await f.app.mw.store.revokedAt({ iss: ISSUER, sid: 'csrf-sid' })).toEqual(expect.any(Number))
  })
})
