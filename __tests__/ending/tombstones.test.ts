import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import type { JWK } from 'jose'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { sessionIds } from '../support/app.js'
import { heldRequest, loginAt, mountHeldRoutes } from '../support/held-requests.js'
import type { HeldRoutes } from '../support/held-requests.js'
import { mint, nowSeconds, useTestKey } from '../support/jwt.js'
import { listen } from '../support/serve.js'
import { describeRedis, useRedisClient } from '../support/redis-server.js'

/**
 * A request that was in flight when the logout happened ends after the session was destroyed;
 * express-session then writes the session back (`store.set`) if the request changed it, or if
 * `resave` is on. These tests hold such a request open across a logout and check that the session
 * stays gone, with express-session's MemoryStore and with connect-redis on a real redis-server.
 */

const ISSUER = 'https://idp.example.com/'
const key = useTestKey('ES256')

interface Harness extends HeldRoutes {
  url: string
  store: session.Store
  middleware: LogoutMiddleware
  close(): Promise<void>
}

async function start(store: session.Store, resave: boolean, jwk: JWK): Promise<Harness> {
  const middleware = logout({
    baseURL: 'https://app.example.com',
    accessToken: { jwks: { keys: [jwk] }, issuer: ISSUER },
    logger: { warn: () => undefined, error: () => undefined },
  })
  const app = express()
  app.use(session({ secret: 'ordering-secret', store, resave, saveUninitialized: false }))
  app.use(middleware)
  const routes = mountHeldRoutes(app, resave)
  app.get('/me', (req, res) => {
    res.json({ user: (req.session as unknown as Record<string, unknown> | undefined)?.user ?? null })
  })
  const { url, close } = await listen(app)
  return { url, store, middleware, ...routes, close }
}

const login = (h: Harness, token?: string): Promise<string> => loginAt(h.url, token)

async function user(h: Harness, cookie: string): Promise<unknown> {
  const res = await fetch(`${h.url}/me`, { headers: { cookie } })
  return ((await res.json()) as { user: unknown }).user
}

const inFlight = (h: Harness, cookie: string) => heldRequest(h.url, h, cookie)

function scenarios(
  makeStore: () => session.Store | Promise<session.Store>,
  cleanup: () => Promise<void>,
): void {
  const harnesses: Harness[] = []
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()))
    await cleanup()
  })

  async function harness(resave: boolean): Promise<Harness> {
    const h = await start(await makeStore(), resave, key.jwk)
    harnesses.push(h)
    return h
  }

  it.each([
    ['the request changed the session', false],
    ['resave is on', true],
  ])('own logout: an in-flight request does not bring the session back when %s', async (_, resave) => {
    const h = await harness(resave)
    const cookie = await login(h)
    const slow = await inFlight(h, cookie)
    const out = await fetch(`${h.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
    expect(out.status).toBe(303)
    h.release()
    expect(await slow.status).toBe(200)
    expect(await sessionIds(h.store)).toEqual([])
    expect(await user(h, cookie)).toBeNull()
  })

  it('logout elsewhere: a linked session with a request in flight stays destroyed', async () => {
    const h = await harness(false)
    const token = await mint(key, { iss: ISSUER, sid: 'idp-1', sub: 'alice', exp: nowSeconds() + 600 })
    const laptop = await login(h, token)
    const phone = await login(h, token)
    const slow = await inFlight(h, phone)
    const out = await fetch(`${h.url}/logout`, {
      method: 'POST',
      headers: { cookie: laptop, authorization: `Bearer ${token}` },
      redirect: 'manual',
    })
    expect(out.status).toBe(303)
    h.release()
    expect(await slow.status).toBe(200)
    expect(await sessionIds(h.store)).toEqual([])
    expect(await user(h, phone)).toBeNull()
  })

  it('revoke(): a linked session with a request in flight stays destroyed', async () => {
    const h = await harness(false)
    const token = await mint(key, { iss: ISSUER, sid: 'idp-2', sub: 'bob', exp: nowSeconds() + 600 })
    const phone = await login(h, token)
    const slow = await inFlight(h, phone)
    // revoke() has no request: it reaches the store through the one the middleware has seen.
    expect(await h.middleware.revoke({ sid: 'idp-2' })).toBe(1)
    h.release()
    expect(await slow.status).toBe(200)
    expect(await sessionIds(h.store)).toEqual([])
  })

  it('a session created after the logout is untouched', async () => {
    const h = await harness(false)
    const cookie = await login(h)
    await fetch(`${h.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
    const fresh = await login(h)
    expect(await user(h, fresh)).toBe('alice')
    expect(await sessionIds(h.store)).toHaveLength(1)
  })
}

describe('in-flight requests and logout: express-session MemoryStore', () => {
  scenarios(
    () => new session.MemoryStore(),
    async () => undefined,
  )
})

/**
 * A MemoryStore that can hold a write once it has started, to open the window between the guard's
 * check and the write landing: the test logs out inside that window, then lets the write land.
 */
class HeldWriteStore extends session.MemoryStore {
  private held: { started: () => void; landed: Promise<void> } | undefined

  /** Holds the next write: `started` resolves once it has begun, `land()` lets it finish. */
  holdNextWrite(): { started: Promise<void>; land: () => void } {
    let started!: () => void
    let land!: () => void
    const begun = new Promise<void>((resolve) => (started = resolve))
    this.held = { started, landed: new Promise<void>((resolve) => (land = resolve)) }
    return { started: begun, land }
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    const held = this.held
    if (!held) return super.set(sid, data, callback)
    this.held = undefined
    held.started()
    void held.landed.then(() => super.set(sid, data, callback))
  }
}

describe('a logout that lands while the in-flight write is under way', () => {
  it('undoes the write once it lands (the logout buried the id first)', async () => {
    const sessions = new HeldWriteStore()
    const h = await start(sessions, false, key.jwk)
    try {
      const cookie = await login(h)
      const slow = await inFlight(h, cookie)
      const write = sessions.holdNextWrite()
      h.release()
      // The write has passed its first check and is landing: now the logout happens.
      await write.started
      const out = await fetch(`${h.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
      expect(out.status).toBe(303)
      write.land()
      // express-session ends the response only once the write (and the undoing destroy) completed.
      expect(await slow.status).toBe(200)
      expect(await sessionIds(h.store)).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('lets writes through when the sso-logout store cannot be read (the app keeps working)', async () => {
    const h = await start(new session.MemoryStore(), false, key.jwk)
    try {
      const cookie = await login(h)
      const store = h.middleware.store
      const revokedAt = store.revokedAt.bind(store)
      store.revokedAt = () => Promise.reject(new Error('store down'))
      try {
        const slow = await inFlight(h, cookie)
        h.release()
        expect(await slow.status).toBe(200)
        expect(await sessionIds(h.store)).toHaveLength(1)
      } finally {
        store.revokedAt = revokedAt
      }
    } finally {
      await h.close()
    }
  })
})

describeRedis('in-flight requests and logout: connect-redis on redis-server', () => {
  const redis = useRedisClient()
  scenarios(
    () => new RedisStore({ client: redis.client, prefix: `ordering:${Date.now()}:` }),
    async () => {
      await redis.client.flushAll()
    },
  )
})
