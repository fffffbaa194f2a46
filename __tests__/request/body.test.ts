import { request as httpRequest } from 'node:http'
import request from 'supertest'
import { BASE_URL, FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

// The body reader (lib/request/body.ts): what the logout route reads from a POST body when no
// parser ran, or when one left the body unread. Where returnTo may come from is the route's
// business (routes/logout.test.ts).

const key = useTestKey('RS256')
afterEach(closeApps)

const ALLOWED = ['/bye', `${BASE_URL}/see-you`]

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
})
