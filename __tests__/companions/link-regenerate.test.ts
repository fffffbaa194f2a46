import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware, LogoutOptions, Store } from '../../lib/index.js'
import { ISSUER, SECRET, sessionIds } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

const key = useTestKey('ES256')
const open: Listening[] = []
afterEach(async () => Promise.all(open.splice(0).map((s) => s.close())))

type Req = IncomingMessage & { session: session.Session & Record<string, unknown>; sessionID: string }

/**
 * An app whose login links first and regenerates after, as passport 0.6+ does inside `req.login`:
 * `GET /login?form=explicit|request` links (explicitly, or from the bearer token), then regenerates.
 */
async function start(options: LogoutOptions = {}, sessionStore: session.Store = new session.MemoryStore()) {
  const mw: LogoutMiddleware = logout({
    accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER },
    ...options,
  })
  const app = express()
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store: sessionStore }))
  app.use(mw)
  app.get('/login', async (req, res, next) => {
    const r = req as unknown as Req
    const started = r.sessionID
    try {
      if (req.query.form === 'request') await mw.link(r, { idToken: 'id-token-of-the-login' })
      else await mw.link({ sid: 'sid-1', sub: 'alice', req: r, idToken: 'id-token-of-the-login' })
    } catch (err) {
      return next(err)
    }
    r.session.regenerate((err) => {
      if (err) return next(err)
      r.session.user = 'alice'
      res.json({ started, current: r.sessionID })
    })
  })
  app.get('/api', mw.guard, (req, res) => {
    const s = (req as unknown as Req).session
    res.json({ user: s.user ?? null, idToken: s.idToken ?? null, link: s.ssoLogout ?? null })
  })
  app.use((err: { code?: string }, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    res.statusCode = 500
    res.end(`app error: ${err.code ?? String(err)}`)
  })
  const server = await listen(app)
  open.push(server)
  return { mw, server, sessionStore }
}

describe('a link made before the session is regenerated (passport 0.6+ req.login) moves to the new session', () => {
  it.each(['explicit', 'request'])(
    'link(%s), then regenerate: the new id is linked, the old one is not',
    async (form) => {
      const { mw, server, sessionStore } = await start()
      const token = await mint(key, { iss: ISSUER, sid: 'sid-1', sub: 'alice' })
      const login = await request(server.url)
        .get(`/login?form=${form}`)
        .set(form === 'request' ? { Authorization: `Bearer ${token}` } : {})
      expect(login.status).toBe(200)
      const { started, current } = login.body as { started: string; current: string }
      expect(current).not.toBe(started)
      const cookie = login.headers['set-cookie']![0]!.split(';')[0]!

      // The link and the ID token are in the logged-in session.
      const api = await request(server.url).get('/api').set('Cookie', cookie)
      expect(api.body).toMatchObject({
        user: 'alice',
        idToken: 'id-token-of-the-login',
        link: { sid: 'sid-1' },
      })
      // The wrapper is not part of what is stored.
      const stored = await new Promise((resolve) => sessionStore.get(current, (_e, s) => resolve(s)))
      expect(Object.keys(stored as object)).not.toContain('regenerate')

      // The index names the new id only: a logout of the sid destroys the logged-in session.
      expect(await mw.revoke({ sid: 'sid-1' })).toBe(1)
      expect(await sessionIds(sessionStore)).toEqual([])
    },
  )

  it('a regeneration that fails reaches the caller; the link stays with the session that was not destroyed', async () => {
    const store = new session.MemoryStore()
    store.destroy = (_id, callback) => callback?.(new Error('store down'))
    const { mw, server } = await start({}, store)
    const login = await request(server.url).get('/login')
    expect(login.status).toBe(500)
    expect(login.text).toMatch(/store down/)
    // The session the login started in was linked, and could not be destroyed: it keeps its link.
    expect(await mw.store.take({ iss: ISSUER, sid: 'sid-1', linkedBefore: Date.now() + 1 })).toHaveLength(1)
  })

  it('a store that cannot link the new session fails the login (the regeneration callback gets the error)', async () => {
    const { mw, server } = await start()
    const store: Store = mw.store
    const link = store.link.bind(store)
    let calls = 0
    store.link = (record, ttl) =>
      ++calls === 2 ? Promise.reject(new Error('index down')) : link(record, ttl)
    const login = await request(server.url).get('/login')
    expect(login.status).toBe(500)
    expect(login.text).toMatch(/index down/)
  })
})
