import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { logout, memoryStore } from '../../lib/index'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'
import { sessionIds } from '../support/app.js'

let server: Listening | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

type Req = IncomingMessage & { session: session.Session & Record<string, unknown> }

describe('write-back protection covers every logout() that shares a session store', () => {
  it('a session logged out through a second logout() instance is not written back by a request in flight', async () => {
    const sessionStore = new session.MemoryStore()
    // Two instances (one per tenant, say), each with its own sso-logout store.
    const first = logout({ store: memoryStore(), path: '/logout-a' })
    const second = logout({ store: memoryStore(), path: '/logout-b' })
    const entered = new EventTarget()
    let release: () => void = () => undefined
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: false, store: sessionStore }))
    app.use(first)
    app.use(second)
    app.get('/login', (req, res) => {
      ;(req as unknown as Req).session.user = 'someone'
      res.send('ok')
    })
    app.get('/slow', (req, res: ServerResponse & express.Response) => {
      ;(req as unknown as Req).session.touched = Date.now()
      entered.dispatchEvent(new Event('entered'))
      // Held open until the logout finished, so express-session writes the session afterwards.
      release = () => res.send('late')
    })
    server = await listen(app)
    const login = await request(server.url).get('/login')
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    expect(await sessionIds(sessionStore)).toHaveLength(1)
    const arrived = once(entered, 'entered')
    const slow = request(server.url)
      .get('/slow')
      .set('Cookie', cookie)
      .then((r) => r)
    await arrived
    await request(server.url).post('/logout-b').set('Cookie', cookie).expect(303)
    expect(await sessionIds(sessionStore)).toEqual([])
    release()
    expect((await slow).text).toBe('late')
    expect(await sessionIds(sessionStore)).toEqual([])
  })
})
