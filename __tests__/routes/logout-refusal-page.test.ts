import { createHash } from 'node:crypto'
import request from 'supertest'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

// A browser that follows a logout link with a refused `returnTo` gets the documented 400 as a small
// page that names the refused value, escaped; API clients keep the JSON and text bodies.
const key = useTestKey('ES256')
afterEach(closeApps)

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
/** The markup the page is made of; an injected element would add a tag to this set. */
const PAGE_TAGS = ['!doctype', 'html', 'meta', 'title', 'style', 'main', 'h1', 'p', 'code', 'a'].sort()

const HOSTILE: string[] = [
  'https://evil.example/',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '</code></p><a href="https://evil.example/">Continue</a>',
  'javascript:alert(document.cookie)',
  '/bye&amp;<b>x</b>',
  '<!--',
  '<style>body{display:none}</style>',
  'https://evil.example/\u202egnp.exe',
  '/bye\r\n<h1>Set-Cookie: a=b</h1>',
  `<svg onload=alert(1)>${'x'.repeat(200)}`,
]

function tagsOf(html: string): string[] {
  return [...new Set([...html.matchAll(/<\/?([!a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase()))].sort()
}

function unescape(text: string): string {
  return text.replace(/&#(\d+);/g, (_all, code: string) => String.fromCharCode(Number(code)))
}

async function signedInApp(flavour: (typeof FLAVOURS)[number]) {
  const app = await createApp(flavour, localOptions([key]))
  const current = await app.login(await mint(key, { iss: ISSUER, sid: 'page-sid', sub: 'u1' }))
  return { app, current }
}

describe.each(FLAVOURS)('%s: a refused returnTo, asked by a browser', (flavour) => {
  it.each(HOSTILE)('answers 400 with a calm page naming %j, escaped', async (value) => {
    const { app, current } = await signedInApp(flavour)
    const res = await request(app.url)
      .post('/logout')
      .type('form')
      .send(new URLSearchParams({ returnTo: value }).toString())
      .set('Cookie', current.cookie)
      .set('Accept', BROWSER_ACCEPT)
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[\w+/]+=*'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/,
    )
    expect(tagsOf(res.text)).toEqual(PAGE_TAGS)
    expect(res.text).toContain('<h1>You were not logged out</h1>')
    expect(res.text).toContain(`<a href="${BASE_URL}/">Back to the site</a>`)
    // The refusal as the API words it, value quoted and cut at 100 characters.
    const code = /<code>([^<]*)<\/code>/.exec(res.text)?.[1]
    const quoted = JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    expect(unescape(code!)).toBe(`returnTo ${quoted} is not allowed`)
    // Nothing was done: the session is still there.
    expect(await app.sessionIds()).toEqual([current.id])
    expect(res.headers['set-cookie']).toBeUndefined()
  })

  it('answers a refused GET from the app’s own page with the page too', async () => {
    const { app } = await signedInApp(flavour)
    const res = await request(app.url)
      .get(`/logout?returnTo=${encodeURIComponent('<b>x</b>')}`)
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Accept', BROWSER_ACCEPT)
    expect(res.status).toBe(400)
    expect(res.text).toContain('<code>returnTo &#34;&#60;b&#62;x&#60;/b&#62;&#34; is not allowed</code>')
  })

  it('names the refused shape when returnTo is repeated', async () => {
    const { app } = await signedInApp(flavour)
    const res = await request(app.url)
      .post('/logout?returnTo=/bye&returnTo=%2F%2Fevil.example')
      .set('Accept', 'text/html')
    expect(res.status).toBe(400)
    expect(res.text).toContain('<code>returnTo of type object is not allowed</code>')
  })
})

describe.each(FLAVOURS)('%s: a refused returnTo, asked by an API client', (flavour) => {
  it.each<[string, string | undefined]>([
    ['no Accept', undefined],
    ['Accept: */*', '*/*'],
    ['Accept: text/plain', 'text/plain'],
    ['Accept: text/html;q=0', 'text/html;q=0, text/plain'],
  ])('keeps the plain text body with %s', async (_name, accept) => {
    const { app } = await signedInApp(flavour)
    const req = request(app.url).post('/logout?returnTo=%3Cb%3E')
    const res = await (accept === undefined ? req : req.set('Accept', accept))
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(res.headers['content-security-policy']).toBeUndefined()
    expect(res.text).toBe('returnTo "<b>" is not allowed\n')
  })

  it.each([
    'application/json',
    'application/json, text/html;q=0.5',
    'text/html;q=0.8, application/problem+json',
  ])('keeps the JSON body with Accept: %s', async (accept) => {
    const { app } = await signedInApp(flavour)
    const res = await request(app.url).post('/logout?returnTo=%3Cb%3E').set('Accept', accept)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'ERR_RETURN_TO_NOT_ALLOWED',
      error_description: 'returnTo "<b>" is not allowed',
    })
  })

  it('keeps the text body of other refusals, even for a browser', async () => {
    const { app } = await signedInApp(flavour)
    const res = await request(app.url)
      .post('/logout')
      .set('Origin', 'https://evil.example')
      .set('Accept', BROWSER_ACCEPT)
    expect(res.status).toBe(403)
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8')
  })
})

describe('the page without a baseURL', () => {
  it('allows its own style by hash, and nothing else', async () => {
    const app = await createApp('express5', { returnTo: { allowed: ['/bye'] } })
    const res = await request(app.url).post('/logout?returnTo=/nope').set('Accept', 'text/html')
    const style = /<style>([^<]*)<\/style>/.exec(res.text)![1]!
    const hash = createHash('sha256').update(style).digest('base64')
    expect(res.headers['content-security-policy']).toContain(`style-src 'sha256-${hash}';`)
  })

  it('links back to /', async () => {
    const app = await createApp('express5', { returnTo: { allowed: ['/bye'] } })
    const res = await request(app.url).post('/logout?returnTo=/nope').set('Accept', 'text/html')
    expect(res.status).toBe(400)
    expect(res.text).toContain('<a href="/">Back to the site</a>')
  })
})
