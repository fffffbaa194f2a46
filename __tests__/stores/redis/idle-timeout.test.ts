import { once } from 'node:events'
import type { Redis } from 'ioredis'
import { createClient } from 'redis'
import { logout } from '../../../lib/index.js'
import type { Store } from '../../../lib/stores/contract'
import { redisStore } from '../../../lib/stores/redis/store'
import { ISSUER } from '../../support/app.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
} from '../../support/redis-server'

/*
 * node-redis' `socket.socketTimeout` is the socket's inactivity timer: on a quiet, healthy
 * connection it still fires, node-redis cuts and reopens the connection, and a command sent in
 * between is refused. The store's start-up check says so when `pingInterval` does not keep the
 * connection busier than the timeout.
 */

type NodeRedis = ReturnType<typeof createClient>

describeRedis('redisStore().checkConfiguration() and node-redis idle timeouts', () => {
  let server: RedisServer
  const opened: NodeRedis[] = []

  beforeAll(async () => {
    server = await startRedisServer(['--maxmemory-policy', 'noeviction'])
  })

  afterAll(async () => {
    await Promise.all(opened.filter((client) => client.isOpen).map((client) => client.close()))
    await server?.stop()
  })

  async function client(
    pingInterval: number | undefined,
    socketTimeout: number | undefined,
  ): Promise<NodeRedis> {
    const redis = createClient({
      url: server.url,
      disableOfflineQueue: true,
      ...(pingInterval === undefined ? {} : { pingInterval }),
      socket: { ...(socketTimeout === undefined ? {} : { socketTimeout }), reconnectStrategy: () => 50 },
    })
    redis.on('error', () => undefined)
    opened.push(redis)
    await redis.connect()
    return redis
  }

  const check = (store: Store): Promise<string[]> => store.checkConfiguration!()

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
    const nodeRedis = await nodeRedisClient(server)
    opened.push(nodeRedis)
    const ioredis: Redis = await ioredisClient(server)
    try {
      expect(await check(redisStore({ client: nodeRedis }))).toEqual([])
      expect(await check(redisStore({ client: ioredis }))).toEqual([])
    } finally {
      ioredis.disconnect()
    }
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
    const provider = {
      name: 'idp',
      issuer: ISSUER,
      clientId: 'app',
      metadata: () => ({ jwksUri: 'https://idp.test/jwks' }),
      endSession: () => ({}),
    }
    logout({ provider, store, logger })
    logout({ provider, store, logger })
    await logged
    // A second check would have sent its INFO before this one, on the same connection, and been
    // answered and logged first.
    await store.checkConfiguration!()
    expect(warnings).toEqual([
      expect.stringMatching(/^sso-logout: store: Redis store: .*pingInterval below it/),
    ])
  })
})
