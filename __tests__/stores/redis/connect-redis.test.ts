import { RedisStore } from 'connect-redis'
import type { createClient } from 'redis'
import request from 'supertest'
import { redisStore } from '../../../lib/index.js'
import type { LogoutEvent, LogoutOptions } from '../../../lib/index.js'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../../support/app.js'
import type { Flavour, TestApp } from '../../support/app.js'
import { postLogoutToken, signLogoutToken, testProvider } from '../../support/logout-token.js'
import { describeRedis, nodeRedisClient, startRedisServer } from '../../support/redis-server.js'
import type { RedisServer } from '../../support/redis-server.js'
import { mint, useTestKey } from '../../support/jwt.js'
import type { TestKey } from '../../support/jwt.js'

type NodeRedis = ReturnType<typeof createClient>
const SESS = 'sess:'

/** How the user's IdP session ends at service A. */
type Trigger = (a: TestApp, user: { jwt: string; cookie: string; sid: string }, key: TestKey) => Promise<void>

const triggers: Array<[string, Trigger]> = [
  [
    'a user logout',
    async (a, user) => {
      const res = await request(a.url)
        .post('/logout')
        .set('Cookie', user.cookie)
        .set('Authorization', `Bearer ${user.jwt}`)
      expect(res.status).toBe(303)
    },
  ],
  [
    'revoke()',
    async (a, user) => {
      expect(await a.mw.revoke({ sid: user.sid })).toBeGreaterThan(0)
    },
  ],
  [
    'a back-channel logout',
    async (a, user, key) => {
      const res = await postLogoutToken(
        a,
        await signLogoutToken(key, { sid: user.sid, sub: `user-${user.sid}` }),
      )
      expect(res.status).toBe(200)
    },
  ],
]

describeRedis('connect-redis as the session store of every service, on the same Redis', () => {
  let server: RedisServer
  const key = useTestKey('RS256')
  let admin: NodeRedis
  const clients: NodeRedis[] = []

  beforeAll(async () => {
    server = await startRedisServer()
    admin = await nodeRedisClient(server)
  })
  afterEach(async () => {
    await closeApps()
    await Promise.all(clients.splice(0).map((c) => c.close()))
  })
  afterAll(async () => {
    await admin?.close()
    await server?.stop()
  })

  /** A service with its own Redis client, connect-redis store (shared prefix) and sso-logout store object. */
  async function service(flavour: Flavour, events: LogoutEvent[]): Promise<TestApp> {
    const client = await nodeRedisClient(server)
    clients.push(client)
    const options: LogoutOptions = localOptions([key], {
      provider: testProvider(),
      backchannel: { path: '/backchannel' },
      store: redisStore({ client }),
      onLogout: (event) => void events.push(event),
    })
    return createApp(flavour, options, { sessionStore: new RedisStore({ client, prefix: SESS }) })
  }

  const stored = (id: string) => admin.exists(`${SESS}${id}`)

  describe.each(FLAVOURS)('%s', (flavour) => {
    it.each(triggers)(
      "%s at A deletes B's linked session from connect-redis at once",
      async (name, trigger) => {
        const events: LogoutEvent[] = []
        const [a, b] = [await service(flavour, events), await service(flavour, [])]
        const sid = `sid-${flavour}-${name}`.replace(/\W+/g, '-')
        const jwt = await mint(key, { iss: ISSUER, sid, sub: `user-${sid}` })
        const atA = await a.login(jwt)
        const atB = await b.login(jwt)
        const bystander = await b.login(await mint(key, { iss: ISSUER, sid: `${sid}-other`, sub: 'other' }))
        expect([await stored(atA.id), await stored(atB.id), await stored(bystander.id)]).toEqual([1, 1, 1])

        await trigger(a, { jwt, cookie: atA.cookie, sid }, key)

        // No request reached B: A deleted B's session in the shared connect-redis store directly.
        expect([await stored(atA.id), await stored(atB.id), await stored(bystander.id)]).toEqual([0, 0, 1])
        expect(events.at(-1)).toMatchObject({ sid, errors: [] })
        expect(events.at(-1)!.sessionsDestroyed).toBeGreaterThanOrEqual(2)
        // B's next request with the old cookie finds no session: a signed-out visitor.
        const res = await request(b.url).get('/api').set('Cookie', atB.cookie)
        expect([res.status, res.text]).toEqual([200, 'api ok'])
        expect(await b.sessionIds()).not.toContain(atB.id)
        expect(await stored(atB.id)).toBe(0)
      },
    )
  })
})
