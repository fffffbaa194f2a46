import type { Cluster } from 'ioredis'
import type { createCluster } from 'redis'
import { LogoutError, redisStore } from '../../../lib/index.js'
import type { Store } from '../../../lib/index.js'
import { issuerTag } from '../../../lib/stores/redis/keys.js'
import {
  ioredisCluster,
  nodeRedisCluster,
  startRedisCluster,
  type RedisCluster,
} from '../../support/redis-cluster.js'
import { describeRedis, whenAnswering } from '../../support/redis-server.js'

const ISS = 'https://idp.example.com/'
const TAG = issuerTag(ISS)

/** What one store call did: its value, or the error it rejected with. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

async function outcome<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() }
  } catch (error) {
    return { ok: false, error }
  }
}

describeRedis('redisStore() on a three-master Redis Cluster', () => {
  let cluster: RedisCluster
  let nodeRedis: ReturnType<typeof createCluster>
  let ioredis: Cluster
  let stores: Array<[string, () => Store]>
  let prefixes = 0

  beforeAll(async () => {
    // Node 0 keeps an append-only file synced on every write, so a kill loses nothing it acknowledged.
    cluster = await startRedisCluster([0])
    nodeRedis = await nodeRedisCluster(cluster, 1000)
    ioredis = await ioredisCluster(cluster, 1000)
    stores = [
      ['node-redis', () => redisStore({ client: nodeRedis, prefix: `k${++prefixes}:` })],
      ['ioredis', () => redisStore({ client: ioredis, prefix: `k${++prefixes}:` })],
    ]
  }, 60_000)

  afterAll(async () => {
    await nodeRedis?.close()
    await ioredis?.quit()
    await cluster?.stop()
  })

  /** The slot of `key`, and the port of the master that holds it. */
  const slotOf = async (key: string): Promise<number> =>
    Number((await cluster.cli(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)).trim())
  const keysOn = async (port: number, prefix: string): Promise<string[]> =>
    (await cluster.cli(port, '--raw', 'KEYS', `${prefix}*`)).split('\n').filter(Boolean)

  it.each([0, 1])('spreads the keys over slots and masters (%s), keeping one sid in one slot', async (i) => {
    const [, create] = stores[i]!
    const store = create()
    const prefix = `k${prefixes}:`
    for (let n = 0; n < 30; n++) {
      await store.link({ iss: ISS, sid: `sid-${n}`, sub: `user-${n % 3}`, sessionId: `sess-${n}`, at: 1 }, 60)
      await store.revoke({ iss: ISS, sid: `sid-${n}` }, 5, 60)
    }
    const perNode = await Promise.all(cluster.nodes.map((node) => keysOn(node.port, prefix)))
    expect(perNode.every((keys) => keys.length > 0)).toBe(true)
    const all = perNode.flat()
    const slots = new Set(await Promise.all(all.map(slotOf)))
    expect(slots.size).toBeGreaterThan(10)
    // A sid's index and its revocation share a slot; its sessions' records lie elsewhere.
    const index = `${prefix}{${TAG}dsid-7}i`
    expect(all).toContain(index)
    expect(await slotOf(`${prefix}{${TAG}dsid-7}r`)).toBe(await slotOf(index))
    expect(await store.take({ iss: ISS, sub: 'user-1', linkedBefore: 2 })).toHaveLength(10)
    expect(await store.take({ iss: ISS, sid: 'sid-1', linkedBefore: 2 })).toEqual([])
    expect(await store.take({ iss: ISS, sid: 'sid-2', linkedBefore: 2 })).toEqual(['sess-2'])
  })

  it.each([0, 1])(
    'takes each session once and leaves no orphan under concurrent links, takes, unlinks and re-links across slots (%s)',
    async (i) => {
      const store = stores[i]![1]()
      const prefix = `k${prefixes}:`
      const link = (id: string, sid: string, sub: string) =>
        store.link({ iss: ISS, sid, sub, sessionId: id, at: 1 }, 60)
      const take = (q: { sid?: string; sub?: string }) => store.take({ iss: ISS, ...q, linkedBefore: 2 })
      const sessions = Array.from({ length: 60 }, (_, n) => ({ id: `s${n}`, sid: `S${n % 6}`, sub: `u${n % 4}` }))
      const unlinked = ['s20', 's33', 's47']
      const taken: string[][] = []
      // Links, takes and unlinks all at once, in an order mixing the kinds.
      const ops: Array<() => Promise<unknown>> = [
        ...sessions.map((s) => () => link(s.id, s.sid, s.sub)),
        ...[{ sid: 'S0' }, { sid: 'S1' }, { sub: 'u0' }].map((q) => async () => taken.push(await take(q))),
        ...unlinked.map((id) => () => store.unlink(id)),
      ]
      const order = ops.map((_, k) => k).sort((a, b) => (a % 3) - (b % 3) || a - b)
      await Promise.all(order.map((k) => ops[k]!()))
      // The sessions of S2 move to S9 while S9 is taken: none is left behind on S2.
      const moving = sessions.filter((s) => s.sid === 'S2' && !taken.flat().includes(s.id))
      await Promise.all([
        ...moving.map((s) => link(s.id, 'S9', s.sub)),
        ...[1, 2, 3].map(async () => taken.push(await take({ sid: 'S9' }))),
      ])
      expect(await take({ sid: 'S2' })).toEqual([])
      const rest = await Promise.all([
        ...['S0', 'S1', 'S3', 'S4', 'S5', 'S9'].map((sid) => take({ sid })),
        ...['u0', 'u1', 'u2', 'u3'].map((sub) => take({ sub })),
      ])
      const all = [...taken.flat(), ...rest.flat()]
      expect(all.length).toBe(new Set(all).size)
      // An unlink that ran before its link leaves that session linked: both outcomes are right.
      const expected = sessions.map((s) => s.id).filter((id) => !unlinked.includes(id))
      expect(all.filter((id) => !unlinked.includes(id)).sort()).toEqual(expected.sort())
      const left = (await Promise.all(cluster.nodes.map((node) => keysOn(node.port, prefix)))).flat()
      expect(left).toEqual([])
    },
  )

  it.each([0, 1])('checks the eviction policy of every master (%s)', async (i) => {
    const store = stores[i]![1]()
    expect(await store.checkConfiguration!()).toEqual([])
    const lenient = cluster.nodes[1]!.port
    await cluster.cli(lenient, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')
    try {
      const problems = await store.checkConfiguration!()
      expect(problems).toHaveLength(1)
      expect(problems[0]).toContain(`:${lenient}`)
      expect(problems[0]).toContain('allkeys-lru')
    } finally {
      await cluster.cli(lenient, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    }
  })
})
