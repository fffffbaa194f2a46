import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import request from 'supertest'
import type { Response } from 'supertest'
import { LogoutError, auth0, redisStore } from '../../../lib/index.js'
import type { LogoutEvent, LogoutOptions } from '../../../lib/index.js'
import { ISSUER, closeApps, createApp, expectClearedCookie, localOptions } from '../../support/app.js'
import type { TestApp } from '../../support/app.js'
import { CLIENT_ID, postLogoutToken, signLogoutToken } from '../../support/logout-token.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  whenAnswering,
  whileStuck,
  quitIoredis,
} from '../../support/redis-server.js'
import type { RedisServer, Stuck } from '../../support/redis-server.js'
import { mint, useTestKey } from '../../support/jwt.js'
import { refusedHost } from '../../support/serve.js'
import { sleep } from '../../support/sleep.js'

/**
 * The clients' command timeout (ms): long enough that a loaded machine's slow replies do not trip
 * it while Redis is healthy, and far shorter than the STUCK ms a stuck Redis stays stuck, in which
 * every route must answer, even one that waits for two store calls in a row.
 */
const TIMEOUT = 1500
const STUCK = 10_000

/**
 * Sends `call`; while Redis is stuck, checks the answer came before Redis answered again (so the
 * route gave up on the client timeout instead of waiting for Redis). A stopped Redis refuses at
 * once, and a route that hung would fail on Jest's timeout.
 */
async function answered(name: string, stuck: Stuck | undefined, call: () => Promise<Response>) {
  const res = await call()
  expect([name, stuck?.over ?? false]).toEqual([name, false])
  return res
}

type ClientKind = 'node-redis' | 'ioredis'
type AnyClient = ReturnType<typeof createClient> | Redis

async function connectClient(kind: ClientKind, server: RedisServer): Promise<AnyClient> {
  return kind === 'node-redis' ? nodeRedisClient(server, TIMEOUT) : ioredisClient(server, TIMEOUT)
}

async function closeClient(client: AnyClient): Promise<void> {
  if ('isOpen' in client) await client.close()
  else await quitIoredis(client)
}

describeRedis('the routes while Redis is down or stuck', () => {
  let server: RedisServer
  const key = useTestKey('RS256')
  let domain: string
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    server = await startRedisServer()
    // Nothing listens there: the Auth0 host only appears in the logout URL, it is never called.
    domain = await refusedHost()
  })
  afterEach(closeApps)
  afterAll(async () => {
    await server?.stop()
    process.off('unhandledRejection', onUnhandled)
  })

  describe.each<ClientKind>(['node-redis', 'ioredis'])('with %s', (kind) => {
    let client: AnyClient
    beforeEach(async () => {
      await server.start()
      client = await connectClient(kind, server)
    })
    afterEach(async () => {
      await closeClient(client)
    })

    interface Harness {
      app: TestApp
      open: TestApp
      events: LogoutEvent[]
      logs: string[]
    }

    /** One app failing closed and one failing open, sharing the same store object. */
    async function harness(): Promise<Harness> {
      const events: LogoutEvent[] = []
      const logs: string[] = []
      const store = redisStore({ client, prefix: `faults-${kind}:` })
      const options = (extra: LogoutOptions): LogoutOptions =>
        localOptions([key], {
          provider: auth0({ domain, clientId: CLIENT_ID }),
          store,
          backchannel: { path: '/backchannel' },
          onLogout: (event) => void events.push(event),
          logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
          ...extra,
        })
      const app = await createApp('express5', options({}))
      const open = await createApp('express5', options({ guard: { failOpen: true } }))
      return { app, open, events, logs }
    }

    const token = (sid: string) => mint(key, { iss: ISSUER, sid, sub: `user-${sid}` })

    /** What every route must do while Redis does not answer; the requests run side by side. */
    async function expectDocumentedFailure(h: Harness, sid: string, stuck?: Stuck): Promise<void> {
      const jwt = await token(sid)
      const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
      const session = await h.app.login()
      h.events.length = 0
      h.logs.length = 0
      const bearer = `Bearer ${jwt}`
      const [res, closed, failOpen, backchannel, linking] = await Promise.all([
        answered('logout', stuck, () =>
          request(h.app.url)
            .post('/logout?returnTo=/bye')
            .set('Cookie', session.cookie)
            .set('Authorization', bearer),
        ),
        answered('guard', stuck, () =>
          request(h.app.url).get('/api').set('Authorization', bearer).set('Accept', 'application/json'),
        ),
        answered('guard failing open', stuck, () =>
          request(h.open.url).get('/api').set('Authorization', bearer),
        ),
        answered('back-channel', stuck, () => postLogoutToken(h.app, logoutToken)),
        // Linking is best effort: an ordinary request still reaches the app.
        answered('linking', stuck, () => request(h.app.url).get('/login').set('Authorization', bearer)),
      ])

      expect(res.status).toBe(303)
      const location = new URL(res.headers.location!)
      expect(`${location.origin}${location.pathname}`).toBe(`http://${domain}/v2/logout`)
      expect(location.searchParams.get('returnTo')).toBe('https://app.test/bye')
      expectClearedCookie(res, 'connect.sid', { httpOnly: true })
      expect(await h.app.sessionIds()).not.toContain(session.id)
      const event = h.events.find((e) => e.reason === 'user')!
      expect(event.sid).toBe(sid)
      expect(event.errors.length).toBeGreaterThan(0)
      for (const error of event.errors) {
        expect(error).toBeInstanceOf(LogoutError)
        expect(error.code).toBe('ERR_STORE')
      }
      expect(h.logs.some((line) => line.startsWith('sso-logout: user logout: ERR_STORE'))).toBe(true)

      expect(closed.status).toBe(503)
      expect(closed.headers['cache-control']).toBe('no-store')
      expect(closed.body).toMatchObject({ error: 'ERR_STORE' })
      expect(JSON.stringify(closed.body)).toMatch(/temporarily unavailable/)
      expect(h.logs.some((line) => line.startsWith('sso-logout: guard: ERR_STORE'))).toBe(true)
      expect([failOpen.status, failOpen.text]).toEqual([200, 'api ok'])

      // BCL §2.8: any non-200 answer makes the provider retry; the jti was not consumed.
      expect(backchannel.status).toBe(500)
      expect(backchannel.body).toMatchObject({ error: 'application_error' })
      expect(h.events.find((e) => e.reason === 'backchannel')?.errors[0]?.code).toBe('ERR_STORE')

      expect(linking.status).toBe(200)
      expect(h.logs.some((line) => line.startsWith('sso-logout: linking a session failed'))).toBe(true)
      // Every failure was answered by the middleware itself: none reached the app's error handler.
      expect([...h.app.errors, ...h.open.errors]).toEqual([])
    }

    /** Waits until the client reconnected on its own (same app, same store object). */
    const recovered = (h: Harness) =>
      whenAnswering(() => h.app.mw.store.revokedAt({ iss: ISSUER, sid: 'probe' }))

    /** Everything works again: link, logout, guard, back-channel with its replay cache. */
    async function expectWorking(h: Harness, sid: string): Promise<void> {
      const jwt = await token(sid)
      const linked = await h.app.login(jwt)
      h.events.length = 0
      const res = await request(h.app.url).post('/logout').set('Authorization', `Bearer ${jwt}`)
      expect(res.status).toBe(303)
      expect(h.events[0]).toMatchObject({ reason: 'user', sid, errors: [] })
      expect(await h.app.sessionIds()).not.toContain(linked.id)
      expect((await request(h.app.url).get('/api').set('Authorization', `Bearer ${jwt}`)).status).toBe(401)
      expect((await request(h.open.url).get('/api').set('Authorization', `Bearer ${jwt}`)).status).toBe(401)
      const logoutToken = await signLogoutToken(key, { sid: `${sid}-bc`, sub: `user-${sid}` })
      expect((await postLogoutToken(h.app, logoutToken)).status).toBe(200)
      expect((await postLogoutToken(h.app, logoutToken)).status).toBe(400)
    }

    it('Redis stopped: logout still clears cookies and ends the IdP session, guard answers 503 (or passes when failing open), back-channel 500; all works again after a restart', async () => {
      const h = await harness()
      await expectWorking(h, 'before-stop')
      await server.stop()
      await expectDocumentedFailure(h, 'during-stop')
      await server.start()
      await recovered(h)
      await expectWorking(h, 'after-restart')
      // A rejection nobody handles surfaces a moment later (a client's late timer): give it that moment.
      await sleep(50)
      expect(unhandled).toEqual([])
    })

    it('Redis stuck (it answers nobody for 10 s): every route answers before Redis does, then recovers', async () => {
      const h = await harness()
      await whileStuck(server, (stuck) => expectDocumentedFailure(h, 'while-stuck', stuck), STUCK)
      await recovered(h)
      await expectWorking(h, 'after-stuck')
      await sleep(50)
      expect(unhandled).toEqual([])
    })
  })
})
