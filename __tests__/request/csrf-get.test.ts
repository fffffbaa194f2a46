import http from 'node:http'
import request from 'supertest'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import type { TestApp } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)

async function loggedIn(app: TestApp, sid: string): Promise<{ cookie: string; token: string }> {
  const token = await mint(key, { iss: ISSUER, sid, sub: 'u1' })
  return { cookie: (await app.login(token)).cookie, token }
}

function getLogout(app: TestApp, who: { cookie: string; token: string }, headers: Record<string, string>) {
  return request(app.url)
    .get('/logout?returnTo=/bye')
    .set('Cookie', who.cookie)
    .set('Authorization', `Bearer ${who.token}`)
    .set(headers)
}

describe.each(FLAVOURS)('%s: a GET logout needs proof it came from this site', (flavour) => {
  it.each<[string, Record<string, string>]>([
    ['no Fetch Metadata and no Referer (an old browser, any <img>)', {}],
    ['a Referer from another site', { Referer: 'https://evil.example/page' }],
    ['a sibling subdomain (Sec-Fetch-Site: same-site)', { 'Sec-Fetch-Site': 'same-site' }],
    [
      'a sibling subdomain with its own Referer',
      { 'Sec-Fetch-Site': 'same-site', Referer: 'https://evil.app.test/' },
    ],
    ['an opaque Referer', { Referer: 'about:blank' }],
  ])('refuses %s with 403 and destroys nothing', async (_name, headers) => {
    const app = await createApp(flavour, localOptions([key]))
    const who = await loggedIn(app, 'get-csrf')
    const before = await app.sessionIds()
    const res = await getLogout(app, who, headers)
    expect(res.status).toBe(403)
    expect(res.headers.location).toBeUndefined()
    expect(res.headers['set-cookie']).toBeUndefined()
    expect(await app.sessionIds()).toEqual(before)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'get-csrf' })).toBeUndefined()
  })

  it.each<[string, (app: TestApp) => Record<string, string>]>([
    ['Sec-Fetch-Site: same-origin', () => ({ 'Sec-Fetch-Site': 'same-origin' })],
    ['Sec-Fetch-Site: none (typed in the address bar)', () => ({ 'Sec-Fetch-Site': 'none' })],
    ['a Referer of the baseURL origin', () => ({ Referer: `${BASE_URL}/notes` })],
    ['a Referer of the origin it was sent to', (app) => ({ Referer: `${app.url}/notes` })],
    [
      'same-site with a Referer of the baseURL origin',
      () => ({ 'Sec-Fetch-Site': 'same-site', Referer: `${BASE_URL}/` }),
    ],
  ])('logs out with %s', async (_name, headers) => {
    const app = await createApp(flavour, localOptions([key]))
    const who = await loggedIn(app, 'get-ok')
    const res = await getLogout(app, who, headers(app))
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
    expect(await app.sessionIds()).toEqual([])
  })

  it('shows a browser a page that confirms with a POST, which then logs out', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const who = await loggedIn(app, 'confirm')
    const page = await getLogout(app, who, { Accept: 'text/html,application/xhtml+xml' })
    expect(page.status).toBe(403)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.text).toContain('<form method="post" action="/logout?returnTo=/bye">')
    expect(await app.sessionIds()).toHaveLength(1)
    // The button posts from the app's own page, so the browser sends the app's Origin.
    const confirmed = await request(app.url)
      .post('/logout?returnTo=/bye')
      .set('Origin', app.url)
      .set('Cookie', who.cookie)
      .set('Authorization', `Bearer ${who.token}`)
    expect(confirmed.status).toBe(303)
    expect(await app.sessionIds()).toEqual([])
  })

  it('escapes the URL it echoes into the confirmation form', async () => {
    const app = await createApp(flavour, localOptions([key]))
    // Sent raw (a URL parser would percent-encode the quote): the attribute must not break.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(app.url)
      const path = `/logout?x='onmouseover=alert(1)&y="<b>`
      const req = http.request({ hostname, port, path, headers: { accept: 'text/html' } })
      req.on('response', (r) => {
        let body = ''
        r.on('data', (c: Buffer) => (body += c.toString()))
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
    expect(res.status).toBe(403)
    expect(res.body).toContain('action="/logout?x=&#39;onmouseover=alert(1)&#38;y=&#34;&#60;b&#62;"')
    expect(res.body).not.toContain("'onmouseover")
  })

  it('answers JSON clients 403 ERR_CROSS_SITE_REQUEST', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const res = await request(app.url).get('/logout').set('Accept', 'application/json')
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ error: 'ERR_CROSS_SITE_REQUEST', error_description: expect.any(String) })
  })

  it('allowUnverifiedGet: true lets an unproven GET log out (the documented risk)', async () => {
    const app = await createApp(flavour, localOptions([key], { allowUnverifiedGet: true }))
    const who = await loggedIn(app, 'lenient')
    expect((await getLogout(app, who, {})).status).toBe(302)
    expect(await app.sessionIds()).toEqual([])
    // Cross-site is refused still.
    const other = await loggedIn(app, 'lenient-2')
    expect((await getLogout(app, other, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403)
  })

  it('POST marked same-site without Origin is refused; with a trusted Origin it logs out', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const who = await loggedIn(app, 'post-same-site')
    const post = (headers: Record<string, string>) =>
      request(app.url).post('/logout').set('Cookie', who.cookie).set(headers)
    expect((await post({ 'Sec-Fetch-Site': 'same-site' })).status).toBe(403)
    expect((await post({ 'Sec-Fetch-Site': 'same-site', Origin: BASE_URL })).status).toBe(303)
  })
})
