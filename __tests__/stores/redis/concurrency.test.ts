import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import { redisStore } from '../../../lib/index.js'
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
import { shuffle } from '../../support/shuffle.js'

type NodeRedis = ReturnType<typeof createClient>
const ISS = 'https://idp.example.com/'
const SIDS = ['A', 'B', 'C', 'D', 'E']
const SUBS = ['u0', 'u1', 'u2']
const CUTOFF = 40

describeRedis('redisStore() under concurrency and at scale', () => {
  let server: RedisServer
  let raw: NodeRedis
  const nodeClients: NodeRedis[] = []
  const ioClients: Redis[] = []
  let prefixes = 0
  const send = (...args: string[]): Promise<unknown> => raw.sendCommand(args)
  /** One store per client, all on one prefix: several processes sharing one Redis. */
  const storesOn = (prefix: string): Store[] =>
    [...nodeClients, ...ioClients].map((client) => redisStore({ client, prefix }))

  // These tests are about atomicity and cost, not failing fast: a generous timeout keeps bulk fills
  // from tripping on a machine busy with other test files.
  const TIMEOUT = 15_000

  beforeAll(async () => {
    server = await startRedisServer()
    raw = await nodeRedisClient(server, TIMEOUT)
    for (let i = 0; i < 3; i++) {
      nodeClients.push(await nodeRedisClient(server, TIMEOUT))
      ioClients.push(await ioredisClient(server, TIMEOUT))
    }
  })

  afterAll(async () => {
    await Promise.all([raw, ...nodeClients].map((client) => client?.close()))
    await Promise.all(ioClients.map(quitIoredis))
    await server?.stop()
  })

  it('gives each jti to exactly one of 60 concurrent claimers on six clients', async () => {
    const stores = storesOn(`jti${++prefixes}:`)
    for (const jti of ['j1', 'j2', 'j3', 'j4', 'j5']) {
      const claims = Array.from({ length: 60 }, (_, i) => stores[i % stores.length]!.claimJti(ISS, jti, 60))
      expect((await Promise.all(claims)).filter(Boolean)).toHaveLength(1)
    }
  })

  it.each([1, 2, 3, 4, 5])(
    'leaves no orphan and resurrects nothing under 50 concurrent links, takes and unlinks (seed %i)',
    async (seed) => {
      const prefix = `mix${++prefixes}:`
      const stores = storesOn(prefix)
      const sessions = Array.from({ length: 50 }, (_, i) => ({
        id: `s${i}`,
        at: i,
        sid: SIDS[i % 5]!,
        sub: SUBS[i % 3]!,
      }))
      const unlinked = new Set(['s3', 's17', 's29', 's44'])
      const taken: string[][] = []
      const ops: Array<(store: Store) => unknown> = [
        ...sessions.map(
          (s) => (store: Store) =>
            store.link({ iss: ISS, sid: s.sid, sub: s.sub, sessionId: s.id, at: s.at }, 60),
        ),
        ...SIDS.flatMap((sid) =>
          [0, 1].map(
            () => async (store: Store) =>
              taken.push(await store.take({ iss: ISS, sid, linkedBefore: CUTOFF })),
          ),
        ),
        ...SUBS.map(
          (sub) => async (store: Store) =>
            taken.push(await store.take({ iss: ISS, sub, linkedBefore: CUTOFF })),
        ),
        ...[...unlinked].map((id) => (store: Store) => store.unlink(id)),
      ]
      await Promise.all(shuffle(ops, seed).map((op, i) => op(stores[i % stores.length]!)))

      const during = taken.flat()
      expect(during.filter((id) => Number(id.slice(1)) > CUTOFF)).toEqual([])
      const after = (
        await Promise.all(SIDS.map((sid) => stores[0]!.take({ iss: ISS, sid, linkedBefore: 1e15 })))
      ).flat()
      const bySub = await Promise.all(
        SUBS.map((sub) => stores[0]!.take({ iss: ISS, sub, linkedBefore: 1e15 })),
      )
      expect(bySub.flat()).toEqual([])
      const all = [...during, ...after]
      expect(all.length).toBe(new Set(all).size)
      const missing = sessions.filter((s) => !unlinked.has(s.id) && !all.includes(s.id)).map((s) => s.id)
      expect(missing).toEqual([])
      expect(await send('KEYS', `${prefix}*`)).toEqual([])
    },
  )

  // 20,000 links of three single-key scripts each: a generous timeout, for a machine busy with other suites.
  it('runs the same Redis commands for a take whether Redis holds 10 or 20,000 other sessions', async () => {
    const prefix = `cost${++prefixes}:`
    const [store] = storesOn(prefix)
    const commandsFor = async (op: () => unknown): Promise<number> => {
      await send('CONFIG', 'RESETSTAT')
      await op()
      const stats = (await send('INFO', 'commandstats')) as string
      const calls = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
      expect(calls.map((m) => m[1])).not.toContain('keys')
      expect(calls.map((m) => m[1])).not.toContain('scan')
      return calls.filter((m) => m[1] !== 'config').reduce((sum, m) => sum + Number(m[2]), 0)
    }
    const round = async (label: string): Promise<number> => {
      await store!.link(
        { iss: ISS, sid: `probe-${label}`, sub: `p-${label}`, sessionId: `probe-${label}`, at: 1 },
        60,
      )
      return commandsFor(() => store!.take({ iss: ISS, sid: `probe-${label}`, linkedBefore: 2 }))
    }
    const fill = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 500) {
        const batch = Array.from({ length: Math.min(500, to - i) }, (_, k) => i + k)
        await Promise.all(
          batch.map((n) =>
            store!.link({ iss: ISS, sid: `x${n}`, sub: `y${n % 50}`, sessionId: `o${n}`, at: 1 }, 60),
          ),
        )
      }
    }
    await fill(0, 10)
    // The first take loads its scripts (EVALSHA, NOSCRIPT, EVAL): not part of what is compared.
    await round('warm-up')
    const small = await round('small')
    await fill(10, 20_000)
    const large = await round('large')
    expect(large).toBe(small)
    await send('FLUSHDB')
  }, 120_000)

  it('measures the memory per linked session and per revocation record', async () => {
    const prefix = `mem${++prefixes}:`
    const [store] = storesOn(prefix)
    const count = 5000
    const used = async (): Promise<number> =>
      Number(/used_memory:(\d+)/.exec((await send('INFO', 'memory')) as string)![1])
    const session = (n: number): string => `${String(n).padStart(8, '0')}${'x'.repeat(24)}`
    const before = await used()
    for (let i = 0; i < count; i += 500) {
      const batch = Array.from({ length: 500 }, (_, k) => i + k)
      await Promise.all(
        batch.map((n) =>
          store!.link(
            { iss: ISS, sid: `sid-${n}`, sub: `user-${n}`, sessionId: session(n), at: Date.now() },
            3600,
          ),
        ),
      )
    }
    const linked = (await used()) - before
    for (let i = 0; i < count; i += 500) {
      const batch = Array.from({ length: 500 }, (_, k) => i + k)
      await Promise.all(batch.map((n) => store!.revoke({ iss: ISS, sid: `rsid-${n}` }, Date.now(), 3600)))
    }
    const revoked = (await used()) - before - linked
    const usage = async (key: string): Promise<number> => (await send('MEMORY', 'USAGE', key)) as number
    const figures = {
      bytesPerLinkedSessionWithSidAndSub: Math.round(linked / count),
      bytesPerRevocation: Math.round(revoked / count),
      memoryUsageLinkRecord: await usage(`${prefix}{s${session(1)}}l`),
      memoryUsageOneMemberIndex: await usage(redisKeys(prefix).index(issuerTag(ISS), 'sid', 'sid-1')),
      memoryUsageRevocation: await usage(`${prefix}{${issuerTag(ISS)}drsid-1}r`),
    }
    const version = /redis_version:(\S+)/.exec((await send('INFO', 'server')) as string)![1]
    console.info(`redisStore memory, Redis ${version}, ${count} records each:`, figures)
    expect(figures.bytesPerLinkedSessionWithSidAndSub).toBeLessThan(600)
    expect(figures.bytesPerRevocation).toBeLessThan(250)
    await send('FLUSHDB')
  }, 120_000)
})
