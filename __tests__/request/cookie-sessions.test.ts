import type { IncomingMessage, ServerResponse } from 'node:http'
import cookieSession from 'cookie-session'
import express from 'express'
import request from 'supertest'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware, LogoutOptions } from '../../lib/index.js'
import { ISSUER, SECRET, setCookies } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

const key = useTestKey('ES256')
const open: Listening[] = []
afterEach(async () => Promise.all(open.splice(0).map((s) => s.close())))

type Req = IncomingMessage & { session?: Record<string, unknown> | null }

function options(extra: LogoutOptions = {}): LogoutOptions {
  return {
    accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER, from: ['header', 'session:accessToken'] },
    ...extra,
  }
}

/** An app on cookie-session (or on `session`, any middleware that puts a `req.session`). */
async function start(sessions: express.RequestHandler = cookieSession({ keys: [SECRET] })) {
  const mw: LogoutMiddleware = logout(options())
  const app = express()
  app.use(sessions)
  app.use(mw)
  app.get('/login', (req, res) => {
    ;(req as unknown as Req).session = { user: 'alice', accessToken: String(req.query.token) }
    res.end('in')
  })
  app.get('/link', async (req, res) => {
    res.json({ linked: await mw.link(req, { idToken: 'the-id-token' }) })
  })
  app.get('/api', mw.guard, (req, res) => void res.json((req as unknown as Req).session ?? null))
  app.use((err: { code?: string }, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    res.statusCode = 500
    res.end(`app error: ${err.code ?? String(err)}`)
  })
  const server = await listen(app)
  open.push(server)
  return { mw, url: server.url }
}

function cookieHeader(res: request.Response): string {
  return [...setCookies(res.headers)]
    .filter(([, attrs]) => attrs.get('value') !== '')
    .map(([name, attrs]) => `${name}=${attrs.get('value')}`)
    .join('; ')
}

describe('cookie-session: a session sso-logout reads, links and ends', () => {
  it("reads 'session:FIELD' from it: the token kept at login links the session on the next request", async () => {
    const { mw, url } = await start()
    const token = await mint(key, { iss: ISSUER, sid: 's-1', sub: 'alice' })
    const cookie = cookieHeader(await request(url).get(`/login?token=${token}`))
    const next = await request(url).get('/api').set('Cookie', cookie)
    expect(next.body).toMatchObject({ user: 'alice', ssoLogout: { iss: ISSUER, sid: 's-1', sub: 'alice' } })
    // The link is in the cookie the response set: later requests carry it.
    const linked = cookieHeader(next)
    expect(linked).toMatch(/session=/)

    await mw.revoke({ sid: 's-1' })
    const refused = await request(url).get('/api').set('Cookie', linked)
    expect(refused.status).toBe(401)
    // cookie-session deletes its own two cookies (the signature of the empty value is not empty).
    const cleared = setCookies(refused.headers)
    expect(cleared.get('session')?.get('value')).toBe('')
    for (const name of ['session', 'session.sig']) {
      expect(new Date(cleared.get(name)!.get('expires')!).getTime()).toBe(0)
    }
  })

  it('a bearer-only request is not given a session cookie (an empty cookie session is never written)', async () => {
    const { url } = await start()
    const token = await mint(key, { iss: ISSUER, sid: 's-2', sub: 'alice' })
    const res = await request(url).get('/api').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.headers['set-cookie']).toBeUndefined()
  })

  it('link(req, { idToken }) keeps the ID token in the cookie session', async () => {
    const { url } = await start()
    const token = await mint(key, { iss: ISSUER, sid: 's-3', sub: 'alice' })
    const cookie = cookieHeader(await request(url).get(`/login?token=${token}`))
    const linked = await request(url).get('/link').set('Cookie', cookie)
    expect(linked.status).toBe(200)
    const after = await request(url).get('/api').set('Cookie', cookieHeader(linked))
    expect(after.body).toMatchObject({ idToken: 'the-id-token', ssoLogout: { sid: 's-3' } })
  })

  it('a signature that does not verify is no session: cookie-session drops it, nothing is linked', async () => {
    const { url } = await start()
    const token = await mint(key, { iss: ISSUER, sid: 's-4', sub: 'alice' })
    const cookie = cookieHeader(await request(url).get(`/login?token=${token}`))
    const forged = cookie.replace(/session\.sig=[^;]+/, 'session.sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA')
    const res = await request(url).get('/api').set('Cookie', forged)
    expect(res.body).toEqual({})
  })
})

describe('a req.session from an unknown middleware is not a session', () => {
  it("neither read for 'session:FIELD', nor linked, nor ended: sso-logout does not guess how", async () => {
    const unknown: express.RequestHandler = (req, _res, next) => {
      ;(req as unknown as Req).session = { user: 'someone' }
      next()
    }
    const { url } = await start(unknown)
    const token = await mint(key, { iss: ISSUER, sid: 's-5', sub: 'alice' })
    await request(url).get(`/login?token=${token}`)
    const link = await request(url).get('/link')
    expect(link.status).toBe(500)
    expect(link.text).toMatch(/ERR_INVALID_ARG_VALUE/)
  })
})

describe('link() with a cookie-only session object (express-openid-connect afterCallback)', () => {
  it('remembers the link (and the ID token) in the object, with no session id and nothing in the index', async () => {
    const mw = logout(options())
    const session: Record<string, unknown> = { id_token: 'x' }
    expect(await mw.link({ sid: 'sid-9', sub: 'alice', session, idToken: 'kept' })).toBe(true)
    expect(session).toMatchObject({ idToken: 'kept', ssoLogout: { iss: ISSUER, sid: 'sid-9', sub: 'alice' } })
    expect(await mw.store.take({ iss: ISSUER, sid: 'sid-9', linkedBefore: Date.now() + 1 })).toEqual([])
  })

  it.each([
    ['a string', 'session'],
    ['null', null],
    ['an array', []],
  ])('input.session as %s is a TypeError naming it', async (_what, value) => {
    const mw = logout(options())
    await expect(mw.link({ sid: 'x', session: value as never })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining('"input.session"'),
    })
  })
})

describe('options.session', () => {
  it.each([
    ["'express-openid-connect'", 'express-openid-connect'],
    ['the object form', { library: 'express-openid-connect' }],
    ['a custom session.name', { library: 'express-openid-connect', name: 'authSession' }],
    ['a session.name with a dot and a dash', { library: 'express-openid-connect', name: 'app.session-1' }],
  ])('accepts %s', (_what, value) => {
    expect(() => logout({ session: value as LogoutOptions['session'] })).not.toThrow()
  })

  it.each([
    ['another library', 'cookie-session', '"options.session"'],
    ['a number', 1, '"options.session"'],
    ['an unknown library', { library: 'passport' }, '"options.session.library"'],
    [
      'a name that is no property',
      { library: 'express-openid-connect', name: 'app session' },
      '"options.session.name"',
    ],
    ['an empty name', { library: 'express-openid-connect', name: '' }, '"options.session.name"'],
    ['__proto__', { library: 'express-openid-connect', name: '__proto__' }, '"options.session.name"'],
    ['constructor', { library: 'express-openid-connect', name: 'constructor' }, '"options.session.name"'],
    ['an unknown key', { library: 'express-openid-connect', nmae: 'x' }, 'did you mean "name"'],
  ])('refuses %s with a TypeError naming the option', (_what, value, named) => {
    let error: unknown
    try {
      logout({ session: value as LogoutOptions['session'] })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(named) })
  })
})
