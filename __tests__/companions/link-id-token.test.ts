import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { logout, oidc } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { ISSUER } from '../support/app.js'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
let server: Listening | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

type Req = IncomingMessage & { session: session.Session & Record<string, unknown>; sessionID: string }

/** An app whose `/login` links the session the way docs/providers.md and the migration guide do, and `/guarded` is behind guard. */
async function app(mw: LogoutMiddleware, login: (req: Req) => Promise<unknown>) {
  const a = express()
  a.use(session({ secret: 's', resave: false, saveUninitialized: false }))
  a.use(mw)
  a.get('/login', (req, res) => {
    ;(req as unknown as Req).session.user = 'u'
    login(req as unknown as Req).then(
      () => res.json({ session: (req as unknown as Req).session }),
      (err: unknown) => res.status(500).send(String(err)),
    )
  })
  a.get('/guarded', mw.guard, (_req, res: ServerResponse & express.Response) => res.send('ok'))
  server = await listen(a)
  return server
}

const provider = oidc({
  issuer: 'https://op.example',
  clientId: 'web',
  endSessionEndpoint: 'https://op.example/logout',
})
const options = {
  provider,
  baseURL: 'https://app.example',
  accessToken: { jwks: { keys: [] }, issuer: ISSUER },
}

describe('link() keeps the ID token where the provider reads it', () => {
  it('link(req, { idToken }) puts it at session:idToken, and the logout sends it as id_token_hint', async () => {
    const mw = logout(options)
    const s = await app(mw, (req) => mw.link(req, { idToken: 'the.id.token' }))
    const login = await request(s.url).get('/login')
    expect(login.body.session.idToken).toBe('the.id.token')
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    const out = await request(s.url).post('/logout').set('Cookie', cookie).set('Origin', s.url)
    expect(new URL(out.headers.location as string).searchParams.get('id_token_hint')).toBe('the.id.token')
  })

  it('the explicit form with req keeps the ID token and remembers the link in the session', async () => {
    const mw = logout(options)
    const s = await app(mw, (req) =>
      mw.link({ sid: 'op-sid', sub: 'alice', iss: ISSUER, req, idToken: 'id.tok.en' }),
    )
    const login = await request(s.url).get('/login')
    expect(login.body.session.idToken).toBe('id.tok.en')
    expect(login.body.session.ssoLogout).toMatchObject({ iss: ISSUER, sid: 'op-sid', sub: 'alice' })
    // And in the index: a logout of the sid ends the session.
    expect(await mw.revoke({ sid: 'op-sid', iss: ISSUER })).toBe(1)
  })

  it('a session linked explicitly by id only is refused by guard after a logout of its sid', async () => {
    const sessions = new session.MemoryStore()
    const other = new session.MemoryStore()
    // The session store logout() destroys in is not the one the session lives in (another service's).
    const mw = logout({ ...options, sessionStore: other })
    const a = express()
    a.use(session({ secret: 's', resave: false, saveUninitialized: false, store: sessions }))
    a.use(mw)
    a.get('/login', (req, res) => {
      ;(req as unknown as Req).session.user = 'u'
      mw.link({ sid: 'opaque', iss: ISSUER, sessionId: (req as unknown as Req).sessionID }).then(() =>
        res.send('ok'),
      )
    })
    a.get('/guarded', mw.guard, (_req, res) => res.send('ok'))
    server = await listen(a)
    const login = await request(server.url).get('/login')
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    expect((await request(server.url).get('/guarded').set('Cookie', cookie)).text).toBe('ok')
    await mw.revoke({ sid: 'opaque', iss: ISSUER })
    expect((await request(server.url).get('/guarded').set('Cookie', cookie)).status).toBe(401)
  })

  it.each<[string, (mw: LogoutMiddleware, req: Req) => Promise<unknown>, string]>([
    ['an empty idToken', (mw, req) => mw.link(req, { idToken: '' }), 'options.idToken'],
    [
      'an idToken without req in the explicit form',
      (mw, req) => mw.link({ sid: 's', iss: ISSUER, sessionId: req.sessionID, idToken: 'x' }),
      'input.idToken',
    ],
    [
      'a req that is not a request',
      (mw) => mw.link({ sid: 's', iss: ISSUER, req: 42 as unknown as IncomingMessage }),
      'input.req',
    ],
  ])('refuses %s with a TypeError naming it', async (_name, call, path) => {
    const mw = logout(options)
    let thrown: unknown
    const s = await app(mw, (req) =>
      call(mw, req).catch((err: unknown) => {
        thrown = err
      }),
    )
    await request(s.url).get('/login')
    expect(thrown).toBeInstanceOf(TypeError)
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(path) })
  })

  it('the ID token of a verified login token is not needed to link: a token-less link still logs out', async () => {
    const mw = logout({ ...options, accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER } })
    const t = await mint(key, { iss: ISSUER, sid: 'with-token', sub: 'alice' })
    const s = await app(mw, () => Promise.resolve())
    const login = await request(s.url).get('/login').set('Authorization', `Bearer ${t}`)
    expect(login.status).toBe(200)
    expect(await mw.revoke({ sid: 'with-token' })).toBe(1)
  })
})
