import express from 'express'
import session from 'express-session'
import { logout, memoryStore, redisStore } from '../../lib/index.js'
import type { LogoutEvent, Store, TakeQuery } from '../../lib/index.js'
import { sessionIds } from '../support/app.js'
import { heldRequest, loginAt, mountHeldRoutes } from '../support/held-requests.js'
import type { HeldRoutes } from '../support/held-requests.js'
import { mint, useTestKey } from '../support/jwt.js'
import { sessionIdOf } from '../support/recipes.js'
import { listen } from '../support/serve.js'
import { describeRedis, useRedisClient } from '../support/redis-server.js'

/**
 * The browser's own session is buried before it is destroyed, exactly once: by the take when it
 * is linked to the IdP session the logout ends (the take buries what it takes, TakeQuery.bury),
 * and by a tombstone of its own otherwise (linked to another sid, never linked, a failed take).
 * A second tombstone of the same id would be one more Redis command on every logout.
 */

const ISSUER = 'https://idp.example.com/'
const key = useTestKey('ES256')

/** What the route asked of the sso-logout store. */
interface Calls {
  bury: string[][]
  takes: TakeQuery[]
}

/** Wraps a store (its methods are own properties) to record bury and takeFor, optionally failing the take. */
function recorded(base: Store, failTake = false): { store: Store; calls: Calls } {
  const calls: Calls = { bury: [], takes: [] }
  const store: Store = {
    ...base,
    bury(ids, ttl) {
      calls.bury.push([...ids])
      return base.bury(ids, ttl)
    },
    takeFor(query, service) {
      calls.takes.push(query)
      if (failTake) return Promise.reject(new Error('take refused by the test'))
      return base.takeFor!(query, service)
    },
  }
  return { store, calls }
}

interface Harness extends HeldRoutes {
  url: string
  sessions: session.MemoryStore
  calls: Calls
  store: Store
  events: LogoutEvent[]
  close(): Promise<void>
}

async function start(base: Store, failTake = false): Promise<Harness> {
  const { store, calls } = recorded(base, failTake)
  const events: LogoutEvent[] = []
  const sessions = new session.MemoryStore()
  const app = express()
  app.use(session({ secret: 'own-tombstone', store: sessions, resave: false, saveUninitialized: false }))
  app.use(
    logout({
      baseURL: 'https://app.example.com',
      accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER },
      store,
      onLogout: (event) => void events.push(event),
      logger: { warn: () => undefined, error: () => undefined },
    }),
  )
  const routes = mountHeldRoutes(app)
  const { url, close } = await listen(app)
  return { url, sessions, calls, store, events, ...routes, close }
}

/** Logs in (linked to the token's sid when a token is given); the cookie and the session id. */
async function login(h: Harness, token?: string): Promise<{ cookie: string; id: string }> {
  const cookie = await loginAt(h.url, token)
  const separator = cookie.indexOf('=')
  const id = sessionIdOf(new Map([[cookie.slice(0, separator), cookie.slice(separator + 1)]]))
  if (id === undefined) throw new Error(`no express-session id in ${cookie}`)
  return { cookie, id }
}

async function logoutWith(h: Harness, cookie: string, token?: string): Promise<number> {
  const headers: Record<string, string> = { cookie }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${h.url}/logout`, { method: 'POST', headers, redirect: 'manual' })
  await res.arrayBuffer()
  return res.status
}

const token = (sid: string) => mint(key, { iss: ISSUER, sid, sub: `user-${sid}` })

function scenarios(makeStore: () => Store | Promise<Store>): void {
  const harnesses: Harness[] = []
  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      h.release()
      await h.close()
    }
  })
  async function harness(failTake = false): Promise<Harness> {
    const h = await start(await makeStore(), failTake)
    harnesses.push(h)
    return h
  }

  it('a session linked to the ended sid is buried by the take, with no tombstone of its own', async () => {
    const h = await harness()
    const jwt = await token('sid-linked')
    const own = await login(h, jwt)
    expect(await h.store.linkOf!(own.id, ISSUER)).toMatchObject({ sid: 'sid-linked' })
    expect(await logoutWith(h, own.cookie, jwt)).toBe(303)
    expect(h.calls.takes).toEqual([expect.objectContaining({ sid: 'sid-linked', bury: expect.any(Number) })])
    expect(h.calls.bury).toEqual([])
    expect(await h.store.isBuried(own.id)).toBe(true)
    expect(await sessionIds(h.sessions)).toEqual([])
    expect(h.events.map((e) => e.errors)).toEqual([[]])
  })

  it('an in-flight request of a session the take buried does not bring it back', async () => {
    const h = await harness()
    const jwt = await token('sid-in-flight')
    const own = await login(h, jwt)
    const slow = await heldRequest(h.url, h, own.cookie)
    expect(await logoutWith(h, own.cookie, jwt)).toBe(303)
    h.release()
    expect(await slow.status).toBe(200)
    expect(h.calls.bury).toEqual([])
    expect(await sessionIds(h.sessions)).toEqual([])
  })

  it('a session linked to another sid gets a tombstone of its own after the take', async () => {
    const h = await harness()
    const own = await login(h, await token('sid-first'))
    expect(await logoutWith(h, own.cookie, await token('sid-other'))).toBe(303)
    expect(h.calls.takes).toEqual([expect.objectContaining({ sid: 'sid-other' })])
    expect(h.calls.bury).toEqual([[own.id]])
    expect(await h.store.isBuried(own.id)).toBe(true)
    expect(await sessionIds(h.sessions)).toEqual([])
  })

  it('a session never linked, logged out without a token, is buried without any take', async () => {
    const h = await harness()
    const own = await login(h)
    expect(await logoutWith(h, own.cookie)).toBe(303)
    expect(h.calls.takes).toEqual([])
    expect(h.calls.bury).toEqual([[own.id]])
    expect(await h.store.isBuried(own.id)).toBe(true)
    expect(await sessionIds(h.sessions)).toEqual([])
  })

  it('a take that fails still leaves the own session buried and destroyed, and says so', async () => {
    const h = await harness(true)
    const jwt = await token('sid-take-fails')
    const own = await login(h, jwt)
    expect(await logoutWith(h, own.cookie, jwt)).toBe(303)
    expect(h.calls.bury).toEqual([[own.id]])
    expect(await h.store.isBuried(own.id)).toBe(true)
    expect(await sessionIds(h.sessions)).toEqual([])
    expect(h.events[0]!.errors.map((e) => e.code)).toContain('ERR_STORE')
  })
}

describe('the own session tombstone: memory store', () => {
  scenarios(() => memoryStore())
})

describeRedis('the own session tombstone: Redis store on redis-server', () => {
  const redis = useRedisClient()
  let n = 0
  scenarios(() => redisStore({ client: redis.client, prefix: `own-tombstone:${n++}:`, localView: false }))
})
