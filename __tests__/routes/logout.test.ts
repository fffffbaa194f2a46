import { ServerResponse } from 'node:http'
import session from 'express-session'
import request from 'supertest'
import { LogoutError } from '../../lib/index.js'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import type { Flavour, TestApp } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

/** An express-session store whose `destroy` fails for the ids in `failing` (or for all when empty). */
class FailingStore extends session.MemoryStore {
  failing = new Set<string>()
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    if (this.failing.size === 0 || this.failing.has(sid)) {
      callback?.(new Error('session store is read-only'))
      return
    }
    super.destroy(sid, callback)
  }
}

const key = useTestKey('ES256')
afterEach(closeApps)

describe.each(FLAVOURS)('%s: route matching', (flavour) => {
  it('answers GET and POST on /logout and hands other methods on the path to the app', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const get = await request(app.url).get('/logout').set('Sec-Fetch-Site', 'same-origin')
    expect(get.status).toBe(302)
    expect(get.headers.location).toBe(`${BASE_URL}/`)
    expect((await request(app.url).post('/logout')).status).toBe(303)
    for (const method of ['put', 'delete', 'patch'] as const) {
      const res = await request(app.url)[method]('/logout')
      expect(res.status).toBe(200)
      expect(res.text).toBe(`app:${method.toUpperCase()} /logout`)
    }
  })

  it.each(['/logout/extra', '/logoutx', '/other', '/Logout', '/auth/logout'])(
    'hands %s to the app untouched',
    async (path) => {
      const app = await createApp(flavour, localOptions([key]))
      const res = await request(app.url).post(path)
      expect(res.status).toBe(200)
      expect(res.text).toBe(`app:POST ${path}`)
      expect(res.headers['set-cookie']).toBeUndefined()
      expect(res.headers['cache-control']).toBeUndefined()
    },
  )

  it('honours a custom path and methods', async () => {
    const app = await createApp(flavour, localOptions([key], { path: '/signout', methods: ['POST'] }))
    expect((await request(app.url).post('/signout')).status).toBe(303)
    expect((await request(app.url).get('/signout')).text).toBe('app:GET /signout')
    expect((await request(app.url).post('/logout')).text).toBe('app:POST /logout')
  })

  it('works mounted under /auth', async () => {
    const app = await createApp(flavour, localOptions([key]), { mount: '/auth' })
    const res = await request(app.url).get('/auth/logout?returnTo=/bye').set('Sec-Fetch-Site', 'same-origin')
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
    expect((await request(app.url).get('/logout').set('Sec-Fetch-Site', 'same-origin')).text).toBe(
      'app:GET /logout',
    )
    expect((await request(app.url).post('/auth/logout/x')).text).toBe('app:POST /auth/logout/x')
  })

  it('needs no Express helpers on the response', async () => {
    // Connect's res is a bare ServerResponse: if the middleware called res.redirect or
    // res.clearCookie, the Connect row of this matrix would throw.
    expect('redirect' in ServerResponse.prototype).toBe(false)
    expect('clearCookie' in ServerResponse.prototype).toBe(false)
    const app = await createApp(flavour, localOptions([key]))
    const { cookie } = await app.login()
    const res = await request(app.url)
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Cookie', cookie)
    expect(res.status).toBe(302)
    expect(res.headers['set-cookie']).toEqual(
      expect.arrayContaining([expect.stringMatching(/^connect\.sid=;/)]),
    )
  })
})

describe.each(FLAVOURS)('%s: responses', (flavour) => {
  it('redirects GET with 302 and POST with 303 to returnTo, never cached', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const get = await request(app.url).get('/logout?returnTo=/bye').set('Sec-Fetch-Site', 'same-origin')
    const post = await request(app.url).post('/logout?returnTo=/bye')
    expect([get.status, post.status]).toEqual([302, 303])
    for (const res of [get, post]) {
      expect(res.headers.location).toBe(`${BASE_URL}/bye`)
      expect(res.headers['cache-control']).toBe('no-store')
    }
  })

  it.each([
    ['application/json', 200],
    ['application/json, text/html;q=0.9', 200],
    ['text/html, application/json;q=0.9', 302],
    ['*/*', 302],
  ])('with Accept %s answers %d', async (accept, status) => {
    const app = await createApp(flavour, localOptions([key]))
    const res = await request(app.url)
      .get('/logout?returnTo=/bye')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Accept', accept)
    expect(res.status).toBe(status)
    expect(res.headers['cache-control']).toBe('no-store')
    if (status === 200) expect(res.body).toEqual({ loggedOut: true, redirectTo: `${BASE_URL}/bye` })
    else expect(res.headers.location).toBe(`${BASE_URL}/bye`)
  })

  it('logs out with no token and no session, twice', async () => {
    const app = await createApp(flavour, localOptions([key]), { session: false })
    for (let i = 0; i < 2; i++) {
      const res = await request(app.url).post('/logout').set('Accept', 'application/json')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ loggedOut: true, redirectTo: `${BASE_URL}/` })
    }
  })

  it('logs out with an ended session cookie (logging out twice is not an error)', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const { cookie } = await app.login()
    expect((await request(app.url).post('/logout').set('Cookie', cookie)).status).toBe(303)
    expect((await request(app.url).post('/logout').set('Cookie', cookie)).status).toBe(303)
  })

  it('passes a failing destroy of the current session to next(err) as ERR_SESSION_STORE', async () => {
    const store = new FailingStore()
    const app = await createApp(flavour, localOptions([key]), { sessionStore: store })
    const { cookie } = await app.login()
    const res = await request(app.url).post('/logout').set('Cookie', cookie)
    expect(res.status).toBe(500)
    expect(res.text).toBe('app error: ERR_SESSION_STORE')
    expect(app.errors).toHaveLength(1)
    const error = app.errors[0] as LogoutError
    expect(error).toBeInstanceOf(LogoutError)
    expect(error.code).toBe('ERR_SESSION_STORE')
    expect((error.cause as Error).message).toBe('session store is read-only')
  })

  it('passes a failing destroy of a linked session to next(err) as ERR_SESSION_STORE', async () => {
    const store = new FailingStore()
    const app = await createApp(flavour, localOptions([key]), { sessionStore: store })
    const token = await mint(key, { iss: ISSUER, sid: 'store-down', sub: 'u1' })
    const other = await app.login(token)
    store.failing.add(other.id)
    const res = await request(app.url).post('/logout').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(500)
    expect((app.errors[0] as LogoutError).code).toBe('ERR_SESSION_STORE')
    expect(await app.sessionIds()).toEqual([other.id])
  })
})

// returnTo as the route reads it: the query first, then the body (urlencoded or JSON, parsed by the
// app or not); a refused value is answered before anything is destroyed.
const ALLOWED = ['/bye', `${BASE_URL}/see-you`]

/** Each flavour without a body parser, and the Express ones with express.urlencoded + express.json too. */
const ROWS: Array<[Flavour, string, boolean]> = FLAVOURS.flatMap((flavour) =>
  flavour === 'connect'
    ? [[flavour, 'no body parser', false] as [Flavour, string, boolean]]
    : [
        [flavour, 'no body parser', false] as [Flavour, string, boolean],
        [flavour, 'body parsers', true] as [Flavour, string, boolean],
      ],
)

const form = (fields: Array<[string, string]>) => new URLSearchParams(fields).toString()

/** Values a caller must never be sent to (API.md behaviour 2, issue 2 point 6). */
const HOSTILE: string[] = [
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  'https:evil.example',
  'https:/evil.example',
  `${BASE_URL}@evil.example`,
  `https://user@app.test/bye`,
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/bye\r\nSet-Cookie: a=b',
  '/bye\n',
  '%2F%2Fevil.example',
  '/%2F/evil.example',
  'ht\ttps://app.test/bye',
  'https ://app.test/bye',
  ' /bye',
  'HTTPS://app.test/see-you',
  'https://APP.test/see-you/../admin',
  '/see-you/../admin',
  'https://\u0430pp.test/see-you',
  'https://\uff41pp.test/see-you',
  'https://evil.example/bye',
  '/bye/../../evil',
  '/.//evil.example',
  'bye',
  '',
]

async function linkedApp(flavour: Flavour, parsers: boolean) {
  const app = await createApp(flavour, localOptions([key], { returnTo: { allowed: ALLOWED } }), { parsers })
  const token = await mint(key, { iss: ISSUER, sid: 'rt-sid', sub: 'u1' })
  const current = await app.login(token)
  const other = await app.login(token)
  return { app, token, current, ids: [current.id, other.id].sort() }
}

async function expectUntouched(app: TestApp, ids: string[]): Promise<void> {
  expect((await app.sessionIds()).sort()).toEqual(ids)
  expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'rt-sid' })).toBeUndefined()
}

describe.each(ROWS)('%s, %s: returnTo', (flavour, _label, parsers) => {
  it.each<[string, (r: request.Test) => request.Test, string]>([
    ['the query string', (r) => r, '?returnTo=%2Fbye'],
    ['a urlencoded body', (r) => r.type('form').send(form([['returnTo', '/bye']])), ''],
    ['a JSON body', (r) => r.type('json').send(JSON.stringify({ returnTo: '/bye' })), ''],
    [
      'a JSON body with charset',
      (r) => r.set('Content-Type', 'application/json; charset=utf-8').send('{"returnTo":"/bye"}'),
      '',
    ],
  ])('reads it from %s', async (_name, withBody, query) => {
    const app = await createApp(flavour, localOptions([key], { returnTo: { allowed: ALLOWED } }), { parsers })
    const res = await withBody(request(app.url).post(`/logout${query}`))
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
  })

  it('accepts an allowed absolute URL, normalised', async () => {
    const app = await createApp(flavour, localOptions([key], { returnTo: { allowed: ALLOWED } }), { parsers })
    const res = await request(app.url)
      .post('/logout')
      .type('form')
      .send(form([['returnTo', 'https://app.test:443/see-you']]))
    expect(res.headers.location).toBe(`${BASE_URL}/see-you`)
  })

  it('resolves a relative returnTo against baseURL, never the Host header', async () => {
    const app = await createApp(flavour, localOptions([key], { returnTo: { allowed: ALLOWED } }), { parsers })
    const res = await request(app.url)
      .get('/logout?returnTo=/bye')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'http')
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
    const json = await request(app.url)
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Host', 'evil.example')
      .set('Accept', 'application/json')
    expect(json.body).toEqual({ loggedOut: true, redirectTo: `${BASE_URL}/` })
  })

  it.each<[string, string, string | undefined]>([
    ['the query string', 'returnTo=%2Fbye&returnTo=%2Fbye', undefined],
    [
      'a urlencoded body',
      '',
      form([
        ['returnTo', '/bye'],
        ['returnTo', '/bye'],
      ]),
    ],
    ['a JSON body', '', JSON.stringify({ returnTo: ['/bye', '/bye'] })],
  ])('refuses a repeated returnTo in %s with 400', async (_name, query, body) => {
    const { app, current, ids } = await linkedApp(flavour, parsers)
    const req = request(app.url).post(`/logout?${query}`).set('Cookie', current.cookie)
    const type = body?.startsWith('{') ? 'json' : 'form'
    const res = await (body === undefined ? req : req.type(type).send(body))
    expect(res.status).toBe(400)
    await expectUntouched(app, ids)
  })

  it.each(HOSTILE)('refuses %j in the query with 400 and destroys nothing', async (value) => {
    const { app, token, current, ids } = await linkedApp(flavour, parsers)
    const res = await request(app.url)
      .post(`/logout?returnTo=${encodeURIComponent(value)}`)
      .set('Cookie', current.cookie)
      .set('Authorization', `Bearer ${token}`)
      .set('Accept', 'application/json')
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('ERR_RETURN_TO_NOT_ALLOWED')
    expect(res.headers.location).toBeUndefined()
    expect(res.headers['set-cookie']).toBeUndefined()
    await expectUntouched(app, ids)
  })

  it.each(HOSTILE)('refuses %j in a urlencoded body with 400 and destroys nothing', async (value) => {
    const { app, token, current, ids } = await linkedApp(flavour, parsers)
    const res = await request(app.url)
      .post('/logout')
      .set('Cookie', current.cookie)
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send(form([['returnTo', value]]))
    expect(res.status).toBe(400)
    expect(res.text).toContain('returnTo')
    await expectUntouched(app, ids)
  })
})

describe.each(FLAVOURS)('%s: returnTo without a baseURL', (flavour) => {
  it('redirects to a bare path when no baseURL is set', async () => {
    const app = await createApp(flavour, { returnTo: { allowed: ['/bye'] } })
    const res = await request(app.url)
      .get('/logout?returnTo=/bye')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Host', 'evil.example')
    expect(res.headers.location).toBe('/bye')
  })
})
