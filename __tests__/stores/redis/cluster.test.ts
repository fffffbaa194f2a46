import type { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { LogoutError, redisStore } from '../../../lib/index.js'
import type { Store } from '../../../lib/index.js'
import { issuerTag, redisKeys, serviceTag } from '../../../lib/stores/redis/keys.js'
import {
  ioredisCluster,
  nodeRedisCluster,
  startRedisCluster,
  type RedisCluster,
} from '../../support/redis-cluster.js'
import { describeRedis, whenAnswering, quitIoredis } from '../../support/redis-server.js'

const ISS = 'https://idp.example.com/'
const TAG = issuerTag(ISS)

/** What one store call did: its value, or the error it rejected with. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

async function outcome<T>(call: () => T | Promise<T>): Promise<Outcome<T>> {
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
  const created: Store[] = []

  beforeAll(async () => {
    // Node 0 keeps an append-only file synced on every write, so a kill loses nothing it acknowledged.
    cluster = await startRedisCluster([0])
    nodeRedis = await nodeRedisCluster(cluster)
    ioredis = await ioredisCluster(cluster)
    // Each store's local view subscribes on a connection of its own: closed in afterAll.
    const kept = (store: Store) => (created.push(store), store)
    stores = [
      ['node-redis', () => kept(redisStore({ client: nodeRedis, prefix: `k${++prefixes}:` }))],
      ['ioredis', () => kept(redisStore({ client: ioredis, prefix: `k${++prefixes}:` }))],
    ]
  }, 60_000)

  afterAll(async () => {
    await Promise.all(created.map((store) => store.close?.()))
    await nodeRedis?.close()
    await quitIoredis(ioredis)
    await cluster?.stop()
  })

  /** The slot of `key`, and the port of the master that holds it. */
  const slotOf = async (key: string): Promise<number> =>
    Number((await cluster.cli(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)).trim())
  const keysOn = async (port: number, prefix: string): Promise<string[]> =>
    (await cluster.cli(port, '--raw', 'KEYS', `${prefix}*`)).split('\n').filter(Boolean)

  it.each([0, 1])('spreads the keys over slots and masters (%s)', async (i) => {
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
    // A sid's index is named by its tag, its revocation by the raw sid: each in a slot of its own.
    expect(all).toContain(redisKeys(prefix).index(TAG, 'sid', 'sid-7'))
    expect(all).toContain(`${prefix}{${TAG}dsid-7}r`)
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
      const sessions = Array.from({ length: 60 }, (_, n) => ({
        id: `s${n}`,
        sid: `S${n % 6}`,
        sub: `u${n % 4}`,
      }))
      const unlinked = ['s20', 's33', 's47']
      const taken: string[][] = []
      // Links, takes and unlinks all at once, in an order mixing the kinds.
      const ops: Array<() => unknown> = [
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

  it('warns, for every master, about node defaults whose socketTimeout no pingInterval keeps from cutting idle connections', async () => {
    const quiet = createCluster({
      rootNodes: cluster.nodes.map((node) => ({ url: `redis://127.0.0.1:${node.port}` })),
      defaults: { disableOfflineQueue: true, socket: { socketTimeout: 2000, reconnectStrategy: () => 50 } },
    })
    quiet.on('error', () => undefined)
    await quiet.connect()
    try {
      const problems = await redisStore({ client: quiet }).checkConfiguration!()
      expect(problems).toHaveLength(cluster.nodes.length)
      for (const node of cluster.nodes) {
        expect(problems).toContainEqual(
          expect.stringMatching(
            new RegExp(`:${node.port}\\).*socketTimeout \\(2000 ms\\) without a pingInterval`),
          ),
        )
      }
    } finally {
      await quiet.close()
    }
  })

  /** Whether the master on `port` serves the slot of `key` (from its own CLUSTER NODES line). */
  const servedBy = async (port: number, key: string): Promise<boolean> => {
    const slot = await slotOf(key)
    const mine = (await cluster.cli(port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'))!
    return mine
      .split(' ')
      .slice(8)
      .some((range) => {
        const [from, to = from] = range.split('-').map(Number)
        return slot >= from! && slot <= to!
      })
  }

  it.each([0, 1])(
    'keeps every acknowledged write through a master crash and restart under load, and rejects the rest with ERR_STORE (%s)',
    async (i) => {
      const store = stores[i]![1]()
      const prefix = `k${prefixes}:`
      const victim = cluster.nodes[0]!
      const ROUNDS = 60
      const logins: Array<Outcome<void>> = []
      const revokes: Array<Outcome<void>> = []
      const takes: Array<Outcome<string[]>> = []
      const login = async (r: number): Promise<void> => {
        logins[r] = await outcome(() =>
          store.link({ iss: ISS, sid: `L${r}`, sub: `user-${r % 7}`, sessionId: `sess-${r}`, at: 1 }, 600),
        )
      }
      // A logout as the library runs it: the revocation and the take of the sid, sent together.
      const logout = async (r: number): Promise<void> => {
        ;[revokes[r], takes[r]] = await Promise.all([
          outcome(() => store.revoke({ iss: ISS, sid: `L${r}` }, 1000 + r, 600)),
          outcome(() => store.take({ iss: ISS, sid: `L${r}`, linkedBefore: 2 })),
        ])
      }
      let outage: Promise<void> | undefined
      for (let r = 0; r < ROUNDS; r++) {
        const round = [login(r), r % 2 === 1 ? logout(r - 1) : undefined]
        // The crash lands while this round's links and takes are in flight.
        if (r === 10) outage = victim.kill()
        if (r === 30) outage = outage!.then(() => victim.start())
        await Promise.all(round)
      }
      await outage
      await cluster.whenOk()
      // A probe on a key the restarted master serves tells when the client uses it again.
      let probe = 0
      while (!(await servedBy(victim.port, `${prefix}{${TAG}dprobe-${probe}}r`))) probe++
      await whenAnswering(() => store.revokedAt({ iss: ISS, sid: `probe-${probe}` }))

      const failures = [...logins, ...revokes, ...takes].filter((o) => o && !o.ok)
      for (const failure of failures) {
        const error = (failure as { error: unknown }).error
        expect([error instanceof LogoutError, (error as LogoutError).code]).toEqual([true, 'ERR_STORE'])
      }
      // The outage was seen: some operations failed, and others succeeded meanwhile.
      expect(failures.length).toBeGreaterThan(0)
      const seen: string[] = []
      for (let r = 0; r < ROUNDS; r++) {
        const id = `sess-${r}`
        const loggedOut = r % 2 === 0 && r + 1 < ROUNDS
        const left = await store.take({ iss: ISS, sid: `L${r}`, linkedBefore: 2 })
        const revokedAt = await store.revokedAt({ iss: ISS, sid: `L${r}` })
        const take = takes[r]
        if (take?.ok) seen.push(...take.value)
        if (loggedOut && take === undefined) throw new Error(`round ${r} was never logged out`)
        seen.push(...left)
        if (!loggedOut) {
          // Never logged out: an acknowledged link is still there, after the restart too.
          expect([r, left]).toEqual([r, logins[r]!.ok ? [id] : left.length === 0 ? [] : [id]])
          continue
        }
        // An acknowledged revocation survives the crash.
        if (revokes[r]!.ok) expect([r, revokedAt]).toEqual([r, 1000 + r])
        if (take?.ok) {
          // An acknowledged take found the acknowledged link, and took it for good.
          if (logins[r]!.ok) expect([r, take.value]).toEqual([r, [id]])
          expect([r, left]).toEqual([r, []])
        } else {
          // A take that failed may have taken the record before failing: the revocation covers it.
          expect([r, left.length <= 1]).toEqual([r, true])
        }
      }
      expect(seen.length).toBe(new Set(seen).size)
    },
    60_000,
  )
  it.each([0, 1])(
    'hands every acknowledged link of another service over through a crash and restart of the master of its stream (%s)',
    async (i) => {
      const prefix = `k${++prefixes}:`
      const store = redisStore({
        client: i === 0 ? nodeRedis : ioredis,
        prefix,
        delivery: { pollInterval: 50, claimAfter: 200 },
      })
      const victim = cluster.nodes[0]!
      // A service whose hand-over stream lives on the master that crashes.
      let n = 0
      while (!(await servedBy(victim.port, redisKeys(prefix).stream(serviceTag(`calendar-${n}`))))) n++
      const calendar = `calendar-${n}`
      const received = new Set<string>()
      let expected: string[] | undefined
      let allThere: () => void = () => undefined
      const delivered = new Promise<void>((resolve) => (allThere = resolve))
      const check = () => expected?.every((id) => received.has(id)) && allThere()
      const receiver = store.receive!(
        calendar,
        async (ids) => {
          for (const id of ids) received.add(id)
          check()
        },
        { description: calendar, onProblem: () => undefined },
      )
      const ROUNDS = 40
      const links: Array<Outcome<void>> = []
      const takes: Array<Outcome<unknown>> = []
      const round = async (r: number) => {
        links[r] = await outcome(() =>
          store.link({ iss: ISS, sid: `H${r}`, sessionId: `cal-${r}`, at: 1, service: calendar }, 600),
        )
        takes[r] = await outcome(() => store.takeFor!({ iss: ISS, sid: `H${r}`, linkedBefore: 2 }, 'notes'))
      }
      let outage: Promise<void> | undefined
      try {
        const rounds: Array<Promise<void>> = []
        for (let r = 0; r < ROUNDS; r++) {
          rounds.push(round(r))
          if (r === 5) outage = victim.kill()
          if (r === 20) outage = outage!.then(() => victim.start())
          if (r % 4 === 3) await Promise.all(rounds.splice(0))
        }
        await Promise.all(rounds)
        await outage
        await cluster.whenOk()
        // The outage was seen by some step of some round.
        expect([...links, ...takes].some((o) => !o.ok)).toBe(true)
        // A logout whose take failed is retried (an OP retries its back-channel logout): what its
        // first attempt left linked is handed over now, and what it handed over already is not lost.
        for (let r = 0; r < ROUNDS; r++) {
          if (takes[r]!.ok) continue
          await whenAnswering(() => store.takeFor!({ iss: ISS, sid: `H${r}`, linkedBefore: 2 }, 'notes'))
        }
        expected = links.flatMap((l, r) => (l.ok ? [`cal-${r}`] : []))
        check()
        await delivered
        // Every acknowledged link reached its owner, and nothing of any other session did.
        expect([...received].every((id) => /^cal-\d+$/.test(id))).toBe(true)
        expect(expected.length).toBeGreaterThan(0)
      } finally {
        receiver.close()
        await store.close?.()
      }
    },
    60_000,
  )
})
