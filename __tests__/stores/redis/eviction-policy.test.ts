import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import { LogoutError } from '../../../lib/errors'
import type { Store } from '../../../lib/stores/contract'
import { redisStore } from '../../../lib/stores/redis/store'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
} from '../../support/redis-server'

/*
 * Every key the Redis store writes has a TTL, so a `volatile-*` policy may evict a revocation and an
 * `allkeys-*` policy any key: a logged-out token would then pass `guard` again. Only `noeviction` is
 * safe, and with it a full Redis refuses writes, which the store must report rather than swallow.
 */

type NodeRedis = ReturnType<typeof createClient>
const ISS = 'https://idp.example.com/'

async function rejection(promise: unknown): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
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
    let server: RedisServer
    let nodeRedis: NodeRedis
    let ioredis: Redis

    beforeAll(async () => {
      server = await startRedisServer(['--maxmemory', '64mb', '--maxmemory-policy', policy])
      nodeRedis = await nodeRedisClient(server)
      ioredis = await ioredisClient(server)
    })

    afterAll(async () => {
      if (nodeRedis?.isOpen) await nodeRedis.close()
      ioredis?.disconnect()
      await server?.stop()
    })

    it.each([
      ['node-redis', () => nodeRedis as unknown],
      ['ioredis', () => ioredis as unknown],
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
    let server: RedisServer
    let nodeRedis: NodeRedis
    let ioredis: Redis

    beforeAll(async () => {
      server = await startRedisServer(['--maxmemory-policy', 'noeviction'])
      nodeRedis = await nodeRedisClient(server)
      ioredis = await ioredisClient(server)
    })

    afterAll(async () => {
      if (nodeRedis?.isOpen) await nodeRedis.close()
      ioredis?.disconnect()
      await server?.stop()
    })

    const clients: Array<[string, () => unknown]> = [
      ['node-redis', () => nodeRedis],
      ['ioredis', () => ioredis],
    ]

    // Managed Redis services often deny INFO (and CONFIG) to the application's user with an ACL.
    it.each(clients)('resolves with a warning when an ACL denies INFO, with %s', async (_name, client) => {
      await nodeRedis.sendCommand(['ACL', 'SETUSER', 'default', '-info'])
      try {
        const warnings = await check(redisStore({ client: client() }))
        expect(warnings).toEqual([expect.stringMatching(/NOPERM/)])
        expect(warnings[0]).toContain('maxmemory-policy noeviction')
      } finally {
        await nodeRedis.sendCommand(['ACL', 'SETUSER', 'default', '+info'])
      }
      expect(await check(redisStore({ client: client() }))).toEqual([])
    })

    it('resolves with a warning, for both clients, while Redis is down', async () => {
      await server.stop()
      try {
        for (const [, client] of clients) {
          const warnings = await check(redisStore({ client: client() }))
          expect(warnings).toHaveLength(1)
          expect(warnings[0]).toContain('maxmemory-policy noeviction')
        }
      } finally {
        await server.start()
      }
    })
  })
})

describeRedis('redisStore() on a full Redis with maxmemory-policy noeviction', () => {
  let server: RedisServer
  let raw: NodeRedis
  let nodeRedis: NodeRedis
  let ioredis: Redis

  beforeAll(async () => {
    server = await startRedisServer(['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'])
    raw = await nodeRedisClient(server)
    nodeRedis = await nodeRedisClient(server)
    ioredis = await ioredisClient(server)
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

  afterAll(async () => {
    await Promise.all([raw?.close(), nodeRedis?.close()])
    ioredis?.disconnect()
    await server?.stop()
  })

  it.each([
    ['node-redis', () => nodeRedis as unknown],
    ['ioredis', () => ioredis as unknown],
  ])(
    'revoke() rejects with ERR_STORE instead of forgetting the revocation, with %s',
    async (name, client) => {
      const store = redisStore({ client: client(), prefix: `full-${name}:` })
      expect(await check(store)).toEqual([])
      const error = await rejection(store.revoke({ iss: ISS, sid: 'S', sub: 'U' }, Date.now(), 60))
      expect(error).toBeInstanceOf(LogoutError)
      expect((error as LogoutError).code).toBe('ERR_STORE')
      expect(((error as LogoutError).cause as Error).message).toMatch(/OOM/)
      expect(await raw.sendCommand(['KEYS', `full-${name}:*`])).toEqual([])
    },
  )
})
