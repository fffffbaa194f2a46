import type { Cluster, Redis } from 'ioredis'
import type { createClient, createCluster } from 'redis'
import { memoryStore, redisStore } from '../../lib/index.js'
import type { Receiver, Store } from '../../lib/index.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
  quitIoredis,
} from '../support/redis-server.js'
import {
  ioredisCluster,
  nodeRedisCluster,
  startRedisCluster,
  type RedisCluster,
} from '../support/redis-cluster.js'
import { sleep } from '../support/sleep.js'

// The Store contract (lib/stores/contract.ts), one suite run against every implementation.

const ISS = 'https://idp.example.com/'
const OTHER_ISS = 'https://other.example.com/'
const sorted = (ids: string[]): string[] => [...ids].sort()
/** Hand-overs found within 50 ms when a wake-up is missed, and a failed delivery claimed again after 100 ms. */
const FAST = { pollInterval: 50, claimAfter: 100 }

/** A Store implementation under the contract, and whose clock its expiries run on. */
interface Backend {
  create(): Store
  /**
   * The clock is ours: the memory store reads `Date.now()` and sweeps on `setInterval`, so jest's
   * fake timers move it. Redis expires keys on its own clock, which only real time moves.
   */
  fakeClock: boolean
}

function contract(backend: Backend): void {
  let store: Store
  beforeEach(() => {
    // Installed before the store exists, so that its sweep interval is a fake timer too.
    if (backend.fakeClock) jest.useFakeTimers()
    store = backend.create()
  })
  afterEach(async () => {
    await store.close?.()
    jest.useRealTimers()
  })

  /** Lets `ms` pass on the store's clock. */
  const elapse = (ms: number): Promise<unknown> =>
    backend.fakeClock ? jest.advanceTimersByTimeAsync(ms) : sleep(ms)

  const link = (
    sessionId: string,
    subject: { sid?: string; sub?: string; iss?: string },
    at = 1000,
    ttl = 60,
  ) => store.link({ iss: ISS, ...subject, sessionId, at }, ttl)

  describe('link and take', () => {
    it('takes the sessions of a sid once', async () => {
      await link('s1', { sid: 'A' })
      await link('s2', { sid: 'A' })
      await link('s3', { sid: 'B' })
      expect(sorted(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 }))).toEqual(['s1', 's2'])
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual([])
      expect(await store.take({ iss: ISS, sid: 'B', linkedBefore: 2000 })).toEqual(['s3'])
    })

    it('takes every session of a sub across sids and removes them from their sid index', async () => {
      await link('s1', { sid: 'A', sub: 'u1' })
      await link('s2', { sid: 'B', sub: 'u1' })
      await link('s3', { sid: 'C', sub: 'u2' })
      expect(sorted(await store.take({ iss: ISS, sub: 'u1', linkedBefore: 2000 }))).toEqual(['s1', 's2'])
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual([])
      expect(await store.take({ iss: ISS, sid: 'C', linkedBefore: 2000 })).toEqual(['s3'])
    })

    it('removes a session taken by sid from its sub index', async () => {
      await link('s1', { sid: 'A', sub: 'u1' })
      await link('s2', { sid: 'B', sub: 'u1' })
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual(['s1'])
      expect(await store.take({ iss: ISS, sub: 'u1', linkedBefore: 2000 })).toEqual(['s2'])
    })

    it('prefers sid over sub and takes nothing without either', async () => {
      await link('s1', { sid: 'A', sub: 'u1' })
      await link('s2', { sid: 'B', sub: 'u1' })
      expect(await store.take({ iss: ISS, linkedBefore: 2000 })).toEqual([])
      expect(await store.take({ iss: ISS, sid: 'B', sub: 'u1', linkedBefore: 2000 })).toEqual(['s2'])
    })

    it('leaves sessions linked after linkedBefore in place (sid reuse)', async () => {
      await link('early', { sid: 'A' }, 1000)
      await link('late', { sid: 'A' }, 3000)
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual(['early'])
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 3000 })).toEqual(['late'])
    })

    it('keeps the issuer apart', async () => {
      await link('s1', { sid: 'A' })
      await link('s2', { sid: 'A', iss: OTHER_ISS })
      expect(await store.take({ iss: OTHER_ISS, sid: 'A', linkedBefore: 2000 })).toEqual(['s2'])
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual(['s1'])
    })

    it('moves a re-linked session to its new sid and link time', async () => {
      await link('s1', { sid: 'A', sub: 'u1' }, 1000)
      await link('s1', { sid: 'B', sub: 'u2' }, 3000)
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 5000 })).toEqual([])
      expect(await store.take({ iss: ISS, sub: 'u1', linkedBefore: 5000 })).toEqual([])
      expect(await store.take({ iss: ISS, sid: 'B', linkedBefore: 2000 })).toEqual([])
      expect(await store.take({ iss: ISS, sid: 'B', linkedBefore: 3000 })).toEqual(['s1'])
      expect(await store.take({ iss: ISS, sub: 'u2', linkedBefore: 5000 })).toEqual([])
    })

    it('forgets an unlinked session, and unlinking an unknown one is harmless', async () => {
      await link('s1', { sid: 'A', sub: 'u1' })
      await link('s2', { sid: 'A', sub: 'u1' })
      await store.unlink('s1')
      await store.unlink('never-linked')
      expect(await store.take({ iss: ISS, sub: 'u1', linkedBefore: 2000 })).toEqual(['s2'])
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual([])
    })

    it('lets a link expire after its ttl while a longer one survives', async () => {
      await link('short', { sid: 'A', sub: 'u1' }, 1000, 0.15)
      await link('long', { sid: 'A', sub: 'u1' }, 1000, 60)
      await elapse(300)
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual(['long'])
      expect(await store.take({ iss: ISS, sub: 'u1', linkedBefore: 2000 })).toEqual([])
    })

    // Names that would collide if the store concatenated issuer, kind and value naively.
    it.each([
      ['colons', { iss: 'a', sid: 'b:sid:c' }, { iss: 'a:sid:b', sid: 'c' }],
      ['sid vs sub', { iss: ISS, sid: 'x' }, { iss: ISS, sub: 'x' }],
      ['NUL bytes', { iss: `a\u0000b`, sid: 'c' }, { iss: 'a', sid: `b\u0000c` }],
      ['glob characters', { iss: ISS, sid: '*' }, { iss: ISS, sid: '?' }],
      ['unicode', { iss: 'https://idp.example/ü', sid: '🙂' }, { iss: 'https://idp.example/u', sid: '🙂' }],
      ['empty values', { iss: '', sid: '' }, { iss: ISS, sid: '' }],
    ])('keeps hostile names apart: %s', async (_case, first, second) => {
      await store.link({ ...first, sessionId: 'first:*\u0000', at: 1 }, 60)
      await store.link({ ...second, sessionId: 'second:🙂', at: 1 }, 60)
      expect(await store.take({ ...second, linkedBefore: 2 })).toEqual(['second:🙂'])
      expect(await store.take({ ...first, linkedBefore: 2 })).toEqual(['first:*\u0000'])
    })
  })

  describe('linkOf', () => {
    it('gives the live link of a session, however it was made, until it is taken, unlinked or expired', async () => {
      expect(await store.linkOf?.('s1', ISS)).toBeUndefined()
      await link('s1', { sid: 'A', sub: 'u1' }, 1000)
      await link('s2', { sub: 'u2' }, 1500)
      await link('s3', { sid: 'C' }, 1700, 0.15)
      expect(await store.linkOf?.('s1', ISS)).toEqual({
        iss: ISS,
        sid: 'A',
        sub: 'u1',
        sessionId: 's1',
        at: 1000,
      })
      expect(await store.linkOf?.('s2', ISS)).toMatchObject({
        iss: ISS,
        sub: 'u2',
        sessionId: 's2',
        at: 1500,
      })
      expect((await store.linkOf?.('s2', ISS))?.sid).toBeUndefined()
      expect(await store.linkOf?.('s2', OTHER_ISS)).toBeUndefined()
      await link('s1', { sid: 'B', sub: 'u1' }, 3000)
      expect(await store.linkOf?.('s1', ISS)).toMatchObject({ sid: 'B', at: 3000 })
      await store.take({ iss: ISS, sid: 'B', linkedBefore: 5000 })
      expect(await store.linkOf?.('s1', ISS)).toBeUndefined()
      await store.unlink('s2')
      expect(await store.linkOf?.('s2', ISS)).toBeUndefined()
      await elapse(300)
      expect(await store.linkOf?.('s3', ISS)).toBeUndefined()
    })

    it.each([
      ['colons', { iss: 'a:sid:b', sid: 'b:sid:c', sub: 'u:sub:v' }],
      ['NUL bytes and unicode', { iss: `https://idp.example/\u0000ü`, sid: '🙂\u0000', sub: '*' }],
      ['empty values', { iss: '', sid: '', sub: '' }],
    ])('reads hostile names back exactly: %s', async (_case, subject) => {
      await store.link({ ...subject, sessionId: 'x:*', at: 7 }, 60)
      expect(await store.linkOf?.('x:*', subject.iss)).toEqual({ ...subject, sessionId: 'x:*', at: 7 })
      expect(await store.linkOf?.('x:*', `${subject.iss}/`)).toBeUndefined()
    })
  })

  describe('revoke and revokedAt', () => {
    it('answers undefined for a subject never revoked', async () => {
      expect(await store.revokedAt({ iss: ISS, sid: 'A' })).toBeUndefined()
      expect(await store.revokedAt({ iss: ISS })).toBeUndefined()
    })

    it('keeps the later revocation time', async () => {
      await store.revoke({ iss: ISS, sid: 'A' }, 5000, 60)
      await store.revoke({ iss: ISS, sid: 'A' }, 3000, 60)
      expect(await store.revokedAt({ iss: ISS, sid: 'A' })).toBe(5000)
      await store.revoke({ iss: ISS, sid: 'A' }, 7000, 60)
      expect(await store.revokedAt({ iss: ISS, sid: 'A' })).toBe(7000)
    })

    it('answers the latest of the sid and sub records, per issuer', async () => {
      await store.revoke({ iss: ISS, sid: 'A' }, 5000, 60)
      await store.revoke({ iss: ISS, sub: 'u1' }, 8000, 60)
      expect(await store.revokedAt({ iss: ISS, sid: 'A', sub: 'u1' })).toBe(8000)
      expect(await store.revokedAt({ iss: ISS, sid: 'A', sub: 'u2' })).toBe(5000)
      expect(await store.revokedAt({ iss: ISS, sub: 'A' })).toBeUndefined()
      expect(await store.revokedAt({ iss: OTHER_ISS, sid: 'A' })).toBeUndefined()
    })

    it('records both sid and sub at once', async () => {
      await store.revoke({ iss: ISS, sid: 'A', sub: 'u1' }, 4000, 60)
      expect(await store.revokedAt({ iss: ISS, sid: 'A' })).toBe(4000)
      expect(await store.revokedAt({ iss: ISS, sub: 'u1' })).toBe(4000)
    })

    it('forgets a revocation after its ttl, unless a later revoke extended it', async () => {
      // A second, not 150 ms: the extending revoke must reach the record before it expires, also
      // on a loaded machine where Redis (whose clock is real) answers slowly.
      await store.revoke({ iss: ISS, sid: 'short' }, 5000, 1)
      await store.revoke({ iss: ISS, sid: 'extended' }, 5000, 1)
      await store.revoke({ iss: ISS, sid: 'extended' }, 3000, 60)
      await elapse(1500)
      expect(await store.revokedAt({ iss: ISS, sid: 'short' })).toBeUndefined()
      expect(await store.revokedAt({ iss: ISS, sid: 'extended' })).toBe(5000)
    })

    it('does not let an expired revocation raise a new one', async () => {
      await store.revoke({ iss: ISS, sid: 'A' }, 9000, 0.15)
      await elapse(300)
      await store.revoke({ iss: ISS, sid: 'A' }, 2000, 60)
      expect(await store.revokedAt({ iss: ISS, sid: 'A' })).toBe(2000)
    })
  })

  describe('claimJti', () => {
    it('claims a logout-token id once per issuer', async () => {
      expect(await store.claimJti(ISS, 'j1', 60)).toBe(true)
      expect(await store.claimJti(ISS, 'j1', 60)).toBe(false)
      expect(await store.claimJti(OTHER_ISS, 'j1', 60)).toBe(true)
      expect(await store.claimJti(ISS, 'j2', 60)).toBe(true)
    })

    it('can be claimed again once released (a failed logout the IdP retries)', async () => {
      expect(await store.claimJti(ISS, 'released', 60)).toBe(true)
      await store.releaseJti(ISS, 'released')
      expect(await store.claimJti(ISS, 'released', 60)).toBe(true)
      expect(await store.claimJti(ISS, 'released', 60)).toBe(false)
      await store.releaseJti(OTHER_ISS, 'released')
      expect(await store.claimJti(ISS, 'released', 60)).toBe(false)
    })

    it('can be claimed again after its ttl', async () => {
      expect(await store.claimJti(ISS, 'j1', 0.15)).toBe(true)
      await elapse(300)
      expect(await store.claimJti(ISS, 'j1', 60)).toBe(true)
      expect(await store.claimJti(ISS, 'j1', 60)).toBe(false)
    })

    it('gives a jti to exactly one of many concurrent claimers', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => store.claimJti(ISS, 'race', 60)))
      expect(results.filter(Boolean)).toHaveLength(1)
    })
  })

  describe('services: takeFor and receive', () => {
    const owned = (sessionId: string, service: string | undefined, subject: { sid?: string; sub?: string }) =>
      store.link({ iss: ISS, ...subject, sessionId, at: 1000, service }, 60)
    const receivers: Receiver[] = []
    afterEach(() => receivers.splice(0).forEach((r) => r.close()))

    /** Starts receiving for `service`; `got` lists every id delivered, `next(n)` waits until n ids have been. */
    function receiveAs(service: string, description = 'app', fail = 0) {
      const got: string[] = []
      const problems: string[] = []
      let reported: (() => void) | undefined
      /** Resolves once the store reported a problem to this receiver (or already had). */
      const problem = new Promise<void>((resolve) => (reported = resolve))
      let failures = fail
      let waiting: { n: number; resolve: () => void } | undefined
      const receiver = store.receive!(
        service,
        async (ids) => {
          if (failures > 0) {
            failures--
            throw new Error('session store down')
          }
          got.push(...ids)
          if (waiting && got.length >= waiting.n) waiting.resolve()
        },
        {
          description,
          onProblem: (p) => {
            problems.push(p)
            reported?.()
          },
        },
      )
      receivers.push(receiver)
      const next = (n: number) =>
        got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }))
      return { got, problems, problem, next, receiver }
    }

    it("keeps the taker's sessions (and those of no service) and hands the others over", async () => {
      await owned('n1', 'notes', { sid: 'A' })
      await owned('c1', 'calendar', { sid: 'A' })
      await owned('c2', 'calendar', { sid: 'A' })
      await owned('x1', 'mail', { sid: 'A' })
      await owned('old', undefined, { sid: 'A' })
      const taken = await store.takeFor!({ iss: ISS, sid: 'A', linkedBefore: 2000 }, 'notes')
      expect(sorted(taken.own)).toEqual(['n1', 'old'])
      expect(sorted(taken.handedOver)).toEqual(['c1', 'c2', 'x1'])
      // Taken once: a second take finds nothing, by sid or for another service.
      expect(await store.takeFor!({ iss: ISS, sid: 'A', linkedBefore: 2000 }, 'calendar')).toEqual({
        own: [],
        handedOver: [],
      })
      expect(await store.take({ iss: ISS, sid: 'A', linkedBefore: 2000 })).toEqual([])
    })

    it('buries what it takes, own and handed over, in the same step when asked to', async () => {
      await owned('n1', 'notes', { sid: 'B' })
      await owned('c1', 'calendar', { sid: 'B' })
      await owned('late', 'notes', { sid: 'B' })
      await store.link({ iss: ISS, sid: 'B', sessionId: 'late', at: 5000, service: 'notes' }, 60)
      await owned('plain', 'notes', { sid: 'C' })
      const taken = await store.takeFor!({ iss: ISS, sid: 'B', linkedBefore: 2000, bury: 60 }, 'notes')
      expect(taken).toEqual({ own: ['n1'], handedOver: ['c1'], buried: true })
      expect(await store.isBuried('n1', { fresh: true })).toBe(true)
      expect(await store.isBuried('c1', { fresh: true })).toBe(true)
      // What survives the take (linked after linkedBefore) is not buried.
      expect(await store.isBuried('late', { fresh: true })).toBe(false)
      // Without the option, nothing is buried and the result does not claim it.
      expect(await store.takeFor!({ iss: ISS, sid: 'C', linkedBefore: 2000 }, 'notes')).toEqual({
        own: ['plain'],
        handedOver: [],
      })
      expect(await store.isBuried('plain', { fresh: true })).toBe(false)
    })

    it('delivers handed-over ids to their own service only, including ones handed over before it started', async () => {
      await owned('c1', 'calendar', { sub: 'u1' })
      await owned('m1', 'mail', { sub: 'u1' })
      await owned('n1', 'notes', { sub: 'u1' })
      // Calendar is not receiving yet: its share waits for it.
      expect(
        sorted((await store.takeFor!({ iss: ISS, sub: 'u1', linkedBefore: 2000 }, 'notes')).handedOver),
      ).toEqual(['c1', 'm1'])
      const calendar = receiveAs('calendar')
      const mail = receiveAs('mail')
      await Promise.all([calendar.next(1), mail.next(1)])
      expect(calendar.got).toEqual(['c1'])
      expect(mail.got).toEqual(['m1'])
      await owned('c2', 'calendar', { sid: 'B' })
      await store.takeFor!({ iss: ISS, sid: 'B', linkedBefore: 2000 }, 'mail')
      await calendar.next(2)
      expect(calendar.got).toEqual(['c1', 'c2'])
      expect(mail.got).toEqual(['m1'])
    })

    it('gives each id to one instance of the service', async () => {
      const first = receiveAs('calendar')
      const second = receiveAs('calendar')
      const ids = Array.from({ length: 12 }, (_, i) => `c${i}`)
      for (const [i, id] of ids.entries()) {
        await owned(id, 'calendar', { sid: `S${i}` })
        await store.takeFor!({ iss: ISS, sid: `S${i}`, linkedBefore: 2000 }, 'notes')
      }
      const all = () => [...first.got, ...second.got]
      while (all().length < ids.length) {
        await Promise.race([first.next(first.got.length + 1), second.next(second.got.length + 1)])
      }
      expect(sorted(all())).toEqual(sorted(ids))
    })

    it('delivers again a batch whose delivery failed', async () => {
      const calendar = receiveAs('calendar', 'app', 1)
      await owned('c1', 'calendar', { sid: 'A' })
      await store.takeFor!({ iss: ISS, sid: 'A', linkedBefore: 2000 }, 'notes')
      const delivered = calendar.next(1)
      if (backend.fakeClock) await elapse(1_000)
      await delivered
      expect(calendar.got).toEqual(['c1'])
    })

    it('reports two apps receiving under one service name', async () => {
      const one = receiveAs('calendar', '["https://calendar.example.com",null]')
      const other = receiveAs('calendar', '["https://notes.example.com",null]')
      await Promise.all([one.problem, other.problem])
      expect([...one.problems, ...other.problems].join(' ')).toMatch(/service "calendar".*options\.service/)
    })
  })
}

describe('memoryStore()', () => contract({ create: () => memoryStore(), fakeClock: true }))

describeRedis('redisStore()', () => {
  let server: RedisServer
  let nodeRedis: ReturnType<typeof createClient>
  let ioredis: Redis
  let counter = 0

  beforeAll(async () => {
    server = await startRedisServer()
    nodeRedis = await nodeRedisClient(server)
    ioredis = await ioredisClient(server)
  })

  afterAll(async () => {
    await nodeRedis?.close()
    await quitIoredis(ioredis)
    await server?.stop()
  })

  describe('with node-redis', () => {
    contract({
      create: () => redisStore({ client: nodeRedis, prefix: `t${++counter}:`, delivery: FAST }),
      fakeClock: false,
    })
  })
  describe('with ioredis', () => {
    contract({
      create: () => redisStore({ client: ioredis, prefix: `t${++counter}:`, delivery: FAST }),
      fakeClock: false,
    })
  })
})

// Keys spread over the slots of three masters: every script must name the one key it touches.
describeRedis('redisStore() on a Redis Cluster', () => {
  let cluster: RedisCluster
  let nodeRedis: ReturnType<typeof createCluster>
  let ioredis: Cluster
  let counter = 0

  beforeAll(async () => {
    cluster = await startRedisCluster()
    nodeRedis = await nodeRedisCluster(cluster)
    ioredis = await ioredisCluster(cluster)
  }, 60_000)

  afterAll(async () => {
    await nodeRedis?.close()
    await quitIoredis(ioredis)
    await cluster?.stop()
  })

  describe('with node-redis createCluster()', () => {
    contract({
      create: () => redisStore({ client: nodeRedis, prefix: `c${++counter}:`, delivery: FAST }),
      fakeClock: false,
    })
  })
  describe('with ioredis Cluster', () => {
    contract({
      create: () => redisStore({ client: ioredis, prefix: `c${++counter}:`, delivery: FAST }),
      fakeClock: false,
    })
  })
})
