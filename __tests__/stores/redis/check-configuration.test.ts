import { once } from 'node:events'
import type { Redis } from 'ioredis'
import { createClient } from 'redis'
import { LogoutError } from '../../../lib/errors'
import { logout } from '../../../lib/index.js'
import type { Store } from '../../../lib/stores/contract'
import { redisStore } from '../../../lib/stores/redis/store'
import { unusedProvider } from '../../support/app.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
} from '../../support/redis-server'

/*
 * The Redis store's start-up check (Store.checkConfiguration), against real redis-servers.
 *
 * Every key the Redis store writes has a TTL, so a `volatile-*` policy may evict a revocation and an
 * `allkeys-*` policy any key: a logged-out token would then pass `guard` again. Only `noeviction` is
 * safe, and with it a full Redis refuses writes, which the store must report rather than swallow.
 */

type NodeRedis = ReturnType<typeof createClient>
const ISS = 'https://idp.example.com/'

/** A redis-server started with `args` for the enclosing describe block, and a client of each kind. */
function serverWithClients(args: readonly string[]): {
  server: RedisServer
  nodeRedis: NodeRedis
  ioredis: Redis
} {
  const redis = {} as { server: RedisServer; nodeRedis: NodeRedis; ioredis: Redis }
  beforeAll(async () => {
    redis.server = await startRedisServer(args)
    redis.nodeRedis = await nodeRedisClient(redis.server)
    redis.ioredis = await ioredisClient(redis.server)
  })
  afterAll(async () => {
    if (redis.nodeRedis?.isOpen) await redis.nodeRedis.close()
    redis.ioredis?.disconnect()
    await redis.server?.stop()
  })
  return redis
}

/** The store's check, which must exist on redisStore and must never reject. */
async function check(store: Store): Promise<string[]> {
  expect(typeof store.checkConfiguration).toBe('function')
  return store.checkConfiguration!()
}

/** A node-redis look-alike whose every command answers `reply` (or throws it, if it is an Error). */
function fakeClient(reply: unknown): object {
  return {
    isOpen: true,
    sendCommand: async () => {
      if (reply instanceof Error) throw reply
      return reply
    },
  }
}

describe('redisStore().checkConfiguration() when INFO answers something unexpected', () => {
  it.each([
    ['an INFO reply without maxmemory_policy', '# Memory\r\nused_memory:1024\r\n'],
    ['a reply that is not text', 42],
    ['no reply', null],
    ['an error', new Error('ERR unknown command')],
  ])('resolves with a warning, never rejects, on %s', async (_case, reply) => {
    const warnings = await check(redisStore({ client: fakeClient(reply) }))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('maxmemory-policy noeviction')
  })

  it('resolves with a warning when the client throws synchronously', async () => {
    const client = {
      isOpen: true,
      sendCommand: () => {
        throw new Error('The client is closed')
      },
    }
    const warnings = await check(redisStore({ client }))
    expect(warnings).toEqual([expect.stringContaining('The client is closed')])
  })

  it('reads the policy from a RESP3 verbatim string (a String object) too', async () => {
    const info = new String('# Memory\r\nmaxmemory_policy:allkeys-lfu\r\n')
    expect(await check(redisStore({ client: fakeClient(info) }))).toEqual([
      expect.stringContaining('allkeys-lfu'),
    ])
  })
})

describeRedis('redisStore().checkConfiguration() against real redis-servers', () => {
  describe.each([
    ['noeviction', false],
    ['allkeys-lru', true],
    ['volatile-lru', true],
  ])('redis-server --maxmemory-policy %s', (policy, warns) => {
    const redis = serverWithClients(['--maxmemory', '64mb', '--maxmemory-policy', policy])

    it.each([
      ['node-redis', () => redis.nodeRedis as unknown],
      ['ioredis', () => redis.ioredis as unknown],
    ])(`${warns ? 'warns' : 'finds nothing wrong'} with %s`, async (_name, client) => {
      const warnings = await check(redisStore({ client: client() }))
      if (!warns) {
        expect(warnings).toEqual([])
        return
      }
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(`"${policy}"`)
      expect(warnings[0]).toContain('maxmemory-policy noeviction')
    })
  })

  describe('when INFO cannot be read', () => {
    const redis = serverWithClients(['--maxmemory-policy', 'noeviction'])
    const clients: Array<[string, () => unknown]> = [
      ['node-redis', () => redis.nodeRedis],
      ['ioredis', () => redis.ioredis],
    ]

    // Managed Redis services often deny INFO (and CONFIG) to the application's user with an ACL.
    it.each(clients)('resolves with a warning when an ACL denies INFO, with %s', async (_name, client) => {
      await redis.nodeRedis.sendCommand(['ACL', 'SETUSER', 'default', '-info'])
      try {
        const warnings = await check(redisStore({ client: client() }))
        expect(warnings).toEqual([expect.stringMatching(/NOPERM/)])
        expect(warnings[0]).toContain('maxmemory-policy noeviction')
      } finally {
        await redis.nodeRedis.sendCommand(['ACL', 'SETUSER', 'default', '+info'])
      }
      expect(await check(redisStore({ client: client() }))).toEqual([])
    })

    it('resolves with a warning, for both clients, while Redis is down', async () => {
      await redis.server.stop()
      try {
        for (const [, client] of clients) {
          const warnings = await check(redisStore({ client: client() }))
          expect(warnings).toHaveLength(1)
          expect(warnings[0]).toContain('maxmemory-policy noeviction')
        }
      } finally {
        await redis.server.start()
      }
    })
  })
})

describeRedis('redisStore() on a full Redis with maxmemory-policy noeviction', () => {
  const redis = serverWithClients(['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'])
  let raw: NodeRedis

  beforeAll(async () => {
    raw = await nodeRedisClient(redis.server)
    // Fill it until Redis itself refuses a write; the bound only guards against a Redis that never does.
    const chunk = 'x'.repeat(64 * 1024)
    for (let i = 0; ; i++) {
      if (i === 1000) throw new Error('Redis accepted 64 MB under --maxmemory 1mb')
      try {
        await raw.sendCommand(['SET', `filler:${i}`, chunk])
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('OOM')) break
        throw error
      }
    }
  })

  afterAll(() => raw?.destroy())

  it.each([
    ['node-redis', () => redis.nodeRedis as unknown],
    ['ioredis', () => redis.ioredis as unknown],
  ])(
    'revoke() rejects with ERR_STORE instead of forgetting the revocation, with %s',
    async (name, client) => {
      const store = redisStore({ client: client(), prefix: `full-${name}:` })
      expect(await check(store)).toEqual([])
      const error: unknown = await Promise.resolve(
        store.revoke({ iss: ISS, sid: 'S', sub: 'U' }, Date.now(), 60),
      ).then(
        () => new Error('expected a rejection'),
        (reason: unknown) => reason,
      )
      expect(error).toBeInstanceOf(LogoutError)
      expect((error as LogoutError).code).toBe('ERR_STORE')
      expect(((error as LogoutError).cause as Error).message).toMatch(/OOM/)
      expect(await raw.sendCommand(['KEYS', `full-${name}:*`])).toEqual([])
    },
  )
})

/*
 * node-redis' `socket.socketTimeout` is the socket's inactivity timer: on a quiet, healthy
 * connection it still fires, node-redis cuts and reopens the connection, and a command sent in
 * between is refused. The store's start-up check says so when `pingInterval` does not keep the
 * connection busier than the timeout.
 */

describeRedis('redisStore().checkConfiguration() and node-redis idle timeouts', () => {
  const redis = serverWithClients(['--maxmemory-policy', 'noeviction'])
  const opened: NodeRedis[] = []

  afterAll(() => {
    for (const client of opened) client.destroy()
  })

  async function client(
    pingInterval: number | undefined,
    socketTimeout: number | undefined,
  ): Promise<NodeRedis> {
    const connection = createClient({
      url: redis.server.url,
      disableOfflineQueue: true,
      ...(pingInterval === undefined ? {} : { pingInterval }),
      socket: { ...(socketTimeout === undefined ? {} : { socketTimeout }), reconnectStrategy: () => 50 },
    })
    connection.on('error', () => undefined)
    opened.push(connection)
    await connection.connect()
    return connection
  }

  it.each([
    ['no pingInterval', undefined, 2000],
    ['a pingInterval equal to it', 2000, 2000],
    ['a pingInterval above it', 5000, 2000],
  ])('warns about a socketTimeout with %s, naming both settings', async (_case, ping, timeout) => {
    const warnings = await check(redisStore({ client: await client(ping, timeout) }))
    expect(warnings).toEqual([
      expect.stringContaining('socket.socketTimeout (2000 ms) without a pingInterval below it'),
    ])
    expect(warnings[0]).toContain('set pingInterval below socketTimeout (for example 1000)')
  })

  it.each([
    ['a pingInterval below socketTimeout', 1000, 2000],
    ['no socketTimeout', undefined, undefined],
    ['only a pingInterval', 1000, undefined],
  ])('finds nothing wrong with %s', async (_case, ping, timeout) => {
    expect(await check(redisStore({ client: await client(ping, timeout) }))).toEqual([])
  })

  it("finds nothing wrong with the test suite's own fail-fast clients, node-redis and ioredis", async () => {
    expect(await check(redisStore({ client: redis.nodeRedis }))).toEqual([])
    expect(await check(redisStore({ client: redis.ioredis }))).toEqual([])
  })

  // What the warning claims, shown on the clients themselves, by their own events.
  it('is right: without pings the idle connection is cut, with pings below the timeout it is kept', async () => {
    const cut = await client(undefined, 300)
    const [error] = (await once(cut, 'error')) as [Error]
    expect(error.constructor.name).toBe('SocketTimeoutError')

    const kept = await client(100, 300)
    const errors: unknown[] = []
    kept.on('error', (e) => void errors.push(e))
    // Ten answered pings span more than three timeouts of quiet from the application.
    for (let i = 0; i < 10; i++) await once(kept, 'ping-interval')
    expect(errors).toEqual([])
    expect(kept.isReady).toBe(true)
  })

  it('reaches the application log once per store, as a warning, when the middleware starts', async () => {
    const warnings: string[] = []
    let warned: () => void = () => undefined
    const logged = new Promise<void>((resolve) => (warned = resolve))
    const logger = {
      warn: (message: string) => {
        warnings.push(message)
        warned()
      },
      error: (message: string) => void warnings.push(message),
    }
    const store = redisStore({ client: await client(undefined, 2000) })
    logout({ provider: unusedProvider, store, logger })
    logout({ provider: unusedProvider, store, logger })
    await logged
    // A second check would have sent its INFO before this one, on the same connection, and been
    // answered and logged first.
    await store.checkConfiguration!()
    expect(warnings).toEqual([
      expect.stringMatching(/^sso-logout: store: Redis store: .*pingInterval below it/),
    ])
  })
})
