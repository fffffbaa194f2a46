import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import { LogoutError, redisStore } from '../../../lib/index.js'
import type { Store } from '../../../lib/index.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  whenAnswering,
  whileStuck,
  type RedisServer,
  quitIoredis,
} from '../../support/redis-server.js'
import { sleep } from '../../support/sleep.js'

const ISS = 'https://idp.example.com/'
// Long enough that a loaded machine's slow replies do not trip it, far below whileStuck's 5 s.
const TIMEOUT = 1500

/** Every store operation, so each is shown to fail the same way. */
const operations: Array<[string, (store: Store) => unknown]> = [
  ['link', (s) => s.link({ iss: ISS, sid: 'S', sub: 'U', sessionId: 'x', at: 1 }, 60)],
  ['take', (s) => s.take({ iss: ISS, sid: 'S', linkedBefore: 2 })],
  ['revoke', (s) => s.revoke({ iss: ISS, sid: 'S' }, 1, 60)],
  ['revokedAt', (s) => s.revokedAt({ iss: ISS, sid: 'S' })],
  ['claimJti', (s) => s.claimJti(ISS, 'j', 60)],
  ['unlink', (s) => s.unlink('x')],
]

/** Resolves with the rejection; fails if the operation succeeds (a hang fails on Jest's timeout). */
async function failure(call: () => unknown): Promise<{ error: unknown }> {
  try {
    await call()
  } catch (error) {
    return { error }
  }
  throw new Error('expected the store to reject')
}

/** Waits for the client to reconnect on its own; the store object is never re-created. */
const recovered = (store: Store) => whenAnswering(() => store.revokedAt({ iss: ISS, sid: 'probe' }))

describeRedis('redisStore() when Redis fails', () => {
  let server: RedisServer
  let nodeRedis: ReturnType<typeof createClient>
  let ioredis: Redis
  let stores: Array<[string, Store]>
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    server = await startRedisServer()
    nodeRedis = await nodeRedisClient(server, TIMEOUT)
    ioredis = await ioredisClient(server, TIMEOUT)
    stores = [
      ['node-redis', redisStore({ client: nodeRedis, prefix: 'fault:' })],
      ['ioredis', redisStore({ client: ioredis, prefix: 'fault:' })],
    ]
  })

  afterAll(async () => {
    await nodeRedis?.close()
    await quitIoredis(ioredis)
    await server?.stop()
    process.off('unhandledRejection', onUnhandled)
  })

  it('rejects with ERR_STORE on the client timeout while Redis is busy, before it answers again, then answers correctly', async () => {
    await whileStuck(server, async (stuck) => {
      const results = await Promise.all(
        stores.map(([, store]) => failure(() => store.claimJti(ISS, 'busy', 60))),
      )
      // Rejected on the client timeout, before Redis answered anyone again.
      expect(stuck.over).toBe(false)
      for (const [i, { error }] of results.entries()) {
        expect([stores[i]![0], error instanceof LogoutError, (error as LogoutError).code]).toEqual([
          stores[i]![0],
          true,
          'ERR_STORE',
        ])
        expect((error as LogoutError).cause).toBeInstanceOf(Error)
      }
    })
    for (const [name, store] of stores) {
      await recovered(store)
      await store.link({ iss: ISS, sid: `after-${name}`, sessionId: `s-${name}`, at: 1 }, 60)
      expect(await store.take({ iss: ISS, sid: `after-${name}`, linkedBefore: 2 })).toEqual([`s-${name}`])
    }
  })

  it('rejects every operation with ERR_STORE while Redis is down and works again after a restart', async () => {
    for (const [, store] of stores) await store.revoke({ iss: ISS, sid: 'before' }, 5, 60)
    await server.stop()
    for (const [name, store] of stores) {
      for (const [operation, call] of operations) {
        const { error } = await failure(() => call(store))
        expect([name, operation, error instanceof LogoutError, (error as LogoutError).code]).toEqual([
          name,
          operation,
          true,
          'ERR_STORE',
        ])
      }
    }
    await server.start()
    for (const [name, store] of stores) {
      await recovered(store)
      // The restarted server is empty and has no cached scripts: EVALSHA falls back to EVAL.
      expect(await store.revokedAt({ iss: ISS, sid: 'before' })).toBeUndefined()
      await store.link({ iss: ISS, sid: `back-${name}`, sessionId: `s-${name}`, at: 1 }, 60)
      expect(await store.take({ iss: ISS, sid: `back-${name}`, linkedBefore: 2 })).toEqual([`s-${name}`])
      expect(await store.claimJti(ISS, `back-${name}`, 60)).toBe(true)
      expect(await store.claimJti(ISS, `back-${name}`, 60)).toBe(false)
    }
    // A rejection nobody handles surfaces a moment later (a client's late timer): give it that moment.
    await sleep(100)
    expect(unhandled).toEqual([])
  })
})
