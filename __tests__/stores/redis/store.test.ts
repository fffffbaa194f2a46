import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import { LogoutError, redisStore } from '../../../lib/index.js'
import { issuerTag, redisKeys } from '../../../lib/stores/redis/keys.js'
import type { Store } from '../../../lib/index.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
  quitIoredis,
} from '../../support/redis-server.js'
import { sleep } from '../../support/sleep.js'

type NodeRedis = ReturnType<typeof createClient>
const ISS = 'https://idp.example.com/'
const TAG = issuerTag(ISS)

async function rejection(promise: unknown): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describeRedis('redisStore() against a real redis-server', () => {
  let server: RedisServer
  let raw: NodeRedis
  const nodeClients: NodeRedis[] = []
  const ioClients: Redis[] = []
  let prefixes = 0
  const freshPrefix = (): string => `r${++prefixes}:`
  const send = (...args: string[]): Promise<unknown> => raw.sendCommand(args)
  const keysOf = async (prefix: string): Promise<string[]> =>
    ((await send('KEYS', `${prefix}*`)) as string[]).sort()

  beforeAll(async () => {
    server = await startRedisServer()
    raw = await nodeRedisClient(server)
    for (let i = 0; i < 3; i++) {
      nodeClients.push(await nodeRedisClient(server))
      ioClients.push(await ioredisClient(server))
    }
  })

  afterAll(async () => {
    await Promise.all([raw, ...nodeClients].map((client) => client?.close()))
    await Promise.all(ioClients.map(quitIoredis))
    await server?.stop()
  })

  describe('construction', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a URL string', 'redis://127.0.0.1:6379'],
      ['an empty object', {}],
      ['sendCommand without isOpen', { sendCommand: async () => 'OK' }],
      ['isOpen without sendCommand', { isOpen: true }],
      ['call without status', { call: async () => 'OK' }],
      ['status without call', { status: 'ready' }],
      ['a function', () => undefined],
    ])('refuses %s as the client', (_case, client) => {
      expect(() => redisStore({ client })).toThrow(TypeError)
      expect(() => redisStore({ client })).toThrow('"options.client" must be')
    })

    it('refuses a node-redis cluster look-alike without nodeClient(), which checkConfiguration needs', () => {
      const cluster = { sendCommand: async () => 'OK', isOpen: true, getSlotMaster: () => undefined }
      expect(() => redisStore({ client: cluster })).toThrow(TypeError)
      expect(() => redisStore({ client: cluster })).toThrow(
        '"options.client" looks like a node-redis cluster',
      )
    })

    it.each([
      ['a number', 1],
      ['null', null],
      ['an object', {}],
    ])('refuses %s as the prefix', (_case, prefix) => {
      expect(() => redisStore({ client: raw, prefix: prefix as unknown as string })).toThrow(
        '"options.prefix" must be a string',
      )
    })

    it('refuses missing options', () => {
      expect(() => redisStore(null as unknown as { client: unknown })).toThrow('"options" must be an object')
    })

    it('accepts both real clients', () => {
      expect(() => redisStore({ client: nodeClients[0] })).not.toThrow()
      expect(() => redisStore({ client: ioClients[0] })).not.toThrow()
    })
  })

  describe.each([
    ['node-redis', () => nodeClients[0]],
    ['ioredis', () => ioClients[0]],
  ])('keys with %s', (_name, client) => {
    let prefix: string
    let store: Store
    beforeEach(() => {
      prefix = freshPrefix()
      store = redisStore({ client: client(), prefix })
    })

    it('namespaces every key by prefix and issuer, and gives each one a TTL', async () => {
      await store.link({ iss: ISS, sid: 'S', sub: 'U', sessionId: 'sess-1', at: 1 }, 60)
      await store.revoke({ iss: ISS, sid: 'S', sub: 'U' }, 2, 60)
      await store.claimJti(ISS, 'J', 60)
      const keys = await keysOf(prefix)
      expect(keys).toEqual(
        [
          `${prefix}{${TAG}jJ}j`,
          `${prefix}{${TAG}dS}r`,
          `${prefix}{${TAG}uU}r`,
          redisKeys(prefix).index(TAG, 'sid', 'S'),
          redisKeys(prefix).index(TAG, 'sub', 'U'),
          `${prefix}{ssess-1}l`,
        ].sort(),
      )
      // An index lives until the end of the second its last member expires in.
      const longest = (key: string): number => (key.endsWith('}i') ? 61_000 : 60_000)
      for (const key of keys) {
        const ttl = (await send('PTTL', key)) as number
        expect([key, ttl > 0 && ttl <= longest(key)]).toEqual([key, true])
      }
      expect(await keysOf('sso-logout:')).toEqual([])
    })

    it("writes the tombstone of a session it takes with bury in the record's slot, for that long", async () => {
      await store.link({ iss: ISS, sid: 'S', sessionId: 'sess-2', at: 1, service: 'notes' }, 60)
      expect(await store.takeFor!({ iss: ISS, sid: 'S', linkedBefore: 2, bury: 90 }, 'notes')).toEqual({
        own: ['sess-2'],
        handedOver: [],
        buried: true,
      })
      // One hash tag for the record and its tombstone: a Redis Cluster runs the script on one slot.
      expect(await keysOf(prefix)).toEqual([`${prefix}{ssess-2}t`])
      const ttl = (await send('PTTL', `${prefix}{ssess-2}t`)) as number
      expect(ttl > 60_000 && ttl <= 90_000).toBe(true)
    })

    it('uses sso-logout: as the default prefix', async () => {
      const defaulted = redisStore({ client: client() })
      await defaulted.claimJti(ISS, `default-${prefix}`, 60)
      expect(await keysOf('sso-logout:')).toEqual([`sso-logout:{${TAG}jdefault-${prefix}}j`])
      await send('DEL', `sso-logout:{${TAG}jdefault-${prefix}}j`)
    })

    it('keeps stores with different prefixes apart', async () => {
      const other = redisStore({ client: client(), prefix: freshPrefix() })
      await store.link({ iss: ISS, sid: 'S', sessionId: 'a', at: 1 }, 60)
      await store.revoke({ iss: ISS, sid: 'S' }, 5, 60)
      expect(await other.take({ iss: ISS, sid: 'S', linkedBefore: 10 })).toEqual([])
      expect(await other.revokedAt({ iss: ISS, sid: 'S' })).toBeUndefined()
      expect(await store.take({ iss: ISS, sid: 'S', linkedBefore: 10 })).toEqual(['a'])
    })

    it('expires an index with its longest-lived member and deletes it with its last one', async () => {
      const index = redisKeys(prefix).index(TAG, 'sid', 'S')
      await store.link({ iss: ISS, sid: 'S', sessionId: 'short', at: 1 }, 2)
      await store.link({ iss: ISS, sid: 'S', sessionId: 'long', at: 1 }, 20)
      expect(await send('PTTL', index)).toBeGreaterThan(19_000)
      await store.unlink('long')
      const ttl = (await send('PTTL', index)) as number
      // Scores are whole seconds (rounded up), so the index outlives its member by under a second.
      expect(ttl > 0 && ttl < 3000).toBe(true)
      await store.unlink('short')
      expect(await keysOf(prefix)).toEqual([])
    })

    it('prunes expired members when the index is written', async () => {
      const index = redisKeys(prefix).index(TAG, 'sid', 'S')
      await store.link({ iss: ISS, sid: 'S', sessionId: 'gone', at: 1 }, 0.1)
      // The member expires with its score's second on the Redis server's clock, which no fake
      // timer moves.
      const expiry = Number(await send('ZSCORE', index, 'gone')) * 1000
      const [seconds, micros] = (await send('TIME')) as [string, string]
      await sleep(expiry - (Number(seconds) * 1000 + Number(micros) / 1000) + 20)
      await store.link({ iss: ISS, sid: 'S', sessionId: 'kept', at: 1 }, 60)
      expect(await send('ZRANGE', index, '0', '-1')).toEqual(['kept'])
    })

    it('leaves no key behind once every session is taken', async () => {
      for (let i = 0; i < 5; i++)
        await store.link({ iss: ISS, sid: `S${i % 2}`, sub: 'U', sessionId: `s${i}`, at: 1 }, 60)
      expect((await store.take({ iss: ISS, sub: 'U', linkedBefore: 2 })).sort()).toEqual([
        's0',
        's1',
        's2',
        's3',
        's4',
      ])
      expect(await keysOf(prefix)).toEqual([])
    })

    it('re-sends a script with EVAL after the server forgot it (NOSCRIPT)', async () => {
      await store.claimJti(ISS, 'before-flush', 60)
      await send('SCRIPT', 'FLUSH')
      expect(await store.claimJti(ISS, 'after-flush', 60)).toBe(true)
      expect(await store.claimJti(ISS, 'after-flush', 60)).toBe(false)
    })

    it('rejects with ERR_STORE and keeps the Redis error as cause', async () => {
      await send('SET', redisKeys(prefix).index(TAG, 'sid', 'S'), 'not a sorted set', 'EX', '60')
      const error = await rejection(store.link({ iss: ISS, sid: 'S', sessionId: 'x', at: 1 }, 60))
      expect(error).toBeInstanceOf(LogoutError)
      expect((error as LogoutError).code).toBe('ERR_STORE')
      expect(String(((error as LogoutError).cause as Error).message)).toMatch(/WRONGTYPE/)
    })

    it.each([
      [
        'an infinite ttl',
        (s: Store) => s.link({ iss: ISS, sid: 'S', sessionId: 'x', at: 1 }, Infinity),
        '"ttl"',
      ],
      [
        'a NaN link time',
        (s: Store) => s.link({ iss: ISS, sid: 'S', sessionId: 'x', at: NaN }, 60),
        '"record.at"',
      ],
      [
        'a NaN linkedBefore',
        (s: Store) => s.take({ iss: ISS, sid: 'S', linkedBefore: NaN }),
        '"query.linkedBefore"',
      ],
      ['a NaN revocation time', (s: Store) => s.revoke({ iss: ISS, sid: 'S' }, NaN, 60), '"at"'],
      ['a NaN jti ttl', (s: Store) => s.claimJti(ISS, 'j', NaN), '"ttl"'],
    ])('rejects %s with a TypeError naming it', async (_case, call, name) => {
      const error = await rejection(call(store))
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toContain(name)
    })
  })
})
