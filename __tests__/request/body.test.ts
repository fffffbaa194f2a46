import { request as httpRequest } from 'node:http'
import request from 'supertest'
import type { Flavour, TestApp } from '../support/app.js'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('RS256')
afterEach(closeApps)

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

/** POSTs a JSON body in `count` chunks without Content-Length, as a streaming client would. */
function postChunked(url: string, pad: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.write('{"returnTo":"/bye","pad":"')
    for (let i = 0; i < count; i++) req.write(pad)
    req.end('"}')
  })
}

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
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'http')
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
    const json = await request(app.url)
      .get('/logout')
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

describe.each(FLAVOURS.filter((f) => f !== 'connect'))('%s with express.json() alone', (flavour) => {
  // Express 4's json parser sets req.body = {} on every request, even a form it did not read.
  it('still reads a urlencoded body the parser left unread', async () => {
    const from = ['header', 'body:access_token']
    const app = await createApp(
      flavour,
      localOptions([key], { returnTo: { allowed: ALLOWED }, accessToken: { from } }),
      {
        parsers: 'json',
      },
    )
    const token = await mint(key, { iss: ISSUER, sid: 'form-sid' })
    const linked = await app.login(token)
    const res = await request(app.url)
      .post('/logout')
      .type('form')
      .send(
        form([
          ['returnTo', '/bye'],
          ['access_token', token],
        ]),
      )
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(`${BASE_URL}/bye`)
    expect(await app.sessionIds()).not.toContain(linked.id)
    const json = await request(app.url).post('/logout').type('json').send({ returnTo: '/bye' })
    expect(json.headers.location).toBe(`${BASE_URL}/bye`)
  })
})

describe.each(FLAVOURS)('%s without a body parser: the body reader', (flavour) => {
  it('answers 413 to a body over the limit, read or declared', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const big = form([
      ['returnTo', '/bye'],
      ['pad', 'x'.repeat(20_000)],
    ])
    const res = await request(app.url).post('/logout').type('form').send(big)
    expect(res.status).toBe(413)
    expect(await postChunked(app.url, 'x'.repeat(1024), 20)).toBe(413)
    expect(await postChunked(app.url, 'x'.repeat(1024), 10)).toBe(303)
  })

  it.each(['{"returnTo": "/bye"', '[1,2]', '"/bye"', 'null'])(
    'answers 400 to the JSON body %s',
    async (body) => {
      const app = await createApp(flavour, localOptions([key]))
      const res = await request(app.url)
        .post('/logout')
        .set('Content-Type', 'application/json')
        .set('Accept', 'application/json')
        .send(body)
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('ERR_BODY_INVALID')
    },
  )

  it('ignores a body of another type and logs out to the default', async () => {
    const app = await createApp(flavour, localOptions([key]))
    const res = await request(app.url)
      .post('/logout')
      .set('Content-Type', 'text/plain')
      .send('returnTo=//evil.example')
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(`${BASE_URL}/`)
  })

  it('redirects to a bare path when no baseURL is set', async () => {
    const app = await createApp(flavour, { returnTo: { allowed: ['/bye'] } })
    const res = await request(app.url).get('/logout?returnTo=/bye').set('Host', 'evil.example')
    expect(res.headers.location).toBe('/bye')
  })
})
