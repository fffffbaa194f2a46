import type { Redis } from 'ioredis'
import type { createClient } from 'redis'
import request from 'supertest'
import { LogoutError, redisStore } from '../../../lib/index.js'
import type { RedisStoreOptions, Store } from '../../../lib/index.js'
import { ISSUER, closeApps, createApp, localOptions } from '../../support/app.js'
import { mint, useTestKey } from '../../support/jwt.js'
import {
  describeRedis,
  ioredisClient,
  nodeRedisClient,
  startRedisServer,
  whenAnswering,
  type RedisServer,
  quitIoredis,
} from '../../support/redis-server.js'
import { ViewEvents } from '../../support/view-events.js'

type NodeRedis = ReturnType<typeof createClient>
type Client = NodeRedis | Redis
type Kind = 'node-redis' | 'ioredis'

const key = useTestKey('RS256')
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })
const sid = (value: string) => ({ iss: ISSUER, sid: value })

describeRedis('redisStore() local view', () => {
  let server: RedisServer
  let raw: NodeRedis
  const clients: Client[] = []
  const stores: Store[] = []
  let prefixes = 0

  const connect = async (kind: Kind): Promise<Client> => {
    const client = kind === 'node-redis' ? await nodeRedisClient(server) : await ioredisClient(server)
    clients.push(client)
    return client
  }
  const quit = (client: Client): Promise<unknown> =>
    'isOpen' in client ? client.close() : quitIoredis(client)
  const command = (client: Client, args: string[]): Promise<unknown> =>
    'isOpen' in client ? client.sendCommand(args) : client.call(args[0]!, ...args.slice(1))

  /** A store on its own client, with its view's events recorded. */
  async function store(kind: Kind, prefix: string, localView: RedisStoreOptions['localView'] = {}) {
    const client = await connect(kind)
    const events = new ViewEvents()
    const view = localView === false ? false : { ...localView, onEvent: events.onEvent }
    const created = redisStore({ client, prefix, localView: view })
    stores.push(created)
    return { store: created, events, client }
  }

  /** Two instances sharing one prefix, each on its own client, B's view already current. */
  async function instances(kind: Kind, localView: RedisStoreOptions['localView'] = {}) {
    const prefix = `view${++prefixes}:`
    const a = await store(kind, prefix, localView)
    const b = await store(kind, prefix)
    await current(b.store, b.events)
    return { a, b }
  }

  /** A view starts with the first read; waits until its subscription is confirmed. */
  async function current(s: Store, events: ViewEvents): Promise<void> {
    await s.revokedAt(sid('start'))
    await events.after(0, 'current')
  }

  /** The commands the connection at `addr` sent while `body` ran, seen through MONITOR. */
  async function commandsDuring(addr: string, body: () => Promise<void>): Promise<string[]> {
    const monitor = await nodeRedisClient(server)
    const lines: string[] = []
    let wake = (): void => undefined
    await monitor.monitor((line: string) => {
      lines.push(line)
      wake()
    })
    const marker = async (name: string): Promise<number> => {
      const seen = new Promise<void>(
        (resolve) => (wake = () => lines.some((l) => l.includes(name)) && resolve()),
      )
      await raw.sendCommand(['ECHO', name])
      await seen
      return lines.findIndex((l) => l.includes(name))
    }
    try {
      const begin = await marker(`begin-${addr}`)
      await body()
      const end = await marker(`end-${addr}`)
      return lines.slice(begin + 1, end).filter((line) => line.includes(` ${addr}]`))
    } finally {
      monitor.destroy()
    }
  }

  async function addressOf(client: Client): Promise<string> {
    const info = String(await command(client, ['CLIENT', 'INFO']))
    return /addr=(\S+)/.exec(info)![1]!
  }

  const subscribers = async (): Promise<number> =>
    String(await raw.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']))
      .split('\n')
      .filter((line) => line.trim() !== '').length

  beforeAll(async () => {
    server = await startRedisServer()
    raw = await nodeRedisClient(server)
  })

  afterEach(async () => {
    await closeApps()
    await Promise.all(stores.splice(0).map((s) => s.close?.()))
    await Promise.all(clients.splice(0).map(quit))
  })

  afterAll(async () => {
    await raw?.close()
    await server?.stop()
  })

  describe.each<Kind>(['node-redis', 'ioredis'])('with %s', (kind) => {
    it('refuses on B a token A logged out, without B sending Redis a command', async () => {
      const { a, b } = await instances(kind)
      const appA = await createApp('express5', localOptions([key], { store: a.store }))
      const appB = await createApp('express5', localOptions([key], { store: b.store }))
      const t = await mint(key, { iss: ISSUER, sid: `guard-${kind}`, sub: `alice-${kind}` })
      // The first request reads Redis and keeps what it read; the next ones are answered locally.
      expect((await request(appB.url).get('/api').set(bearer(t))).text).toBe('api ok')
      const addr = await addressOf(b.client)
      const accepted = await commandsDuring(addr, async () => {
        expect((await request(appB.url).get('/api').set(bearer(t))).text).toBe('api ok')
      })
      expect(accepted).toEqual([])
      const mark = b.events.mark()
      expect((await request(appA.url).post('/logout').set(bearer(t))).status).toBeLessThan(400)
      expect(await b.events.after(mark, 'change')).toMatchObject({ type: 'change', kind: 'revocation' })
      const refused = await commandsDuring(addr, async () => {
        expect((await request(appB.url).get('/api').set(bearer(t))).status).toBe(401)
      })
      expect(refused).toEqual([])
    })

    it('answers a revocation and a tombstone another instance wrote synchronously, from memory', async () => {
      const { a, b } = await instances(kind)
      await b.store.revokedAt(sid('X'))
      await b.store.isBuried('s-1')
      // A value rather than a promise: the answer cannot have involved Redis.
      expect(b.store.revokedAt(sid('X'))).toBeUndefined()
      expect(b.store.isBuried('s-1')).toBe(false)
      // What keeps a logged-out session from being written back asks Redis, never the view.
      const fresh = b.store.isBuried('s-1', { fresh: true })
      expect(fresh).toBeInstanceOf(Promise)
      expect(await fresh).toBe(false)
      let mark = b.events.mark()
      await a.store.revoke(sid('X'), 5000, 60)
      await b.events.after(mark, 'change')
      expect(b.store.revokedAt(sid('X'))).toBe(5000)
      mark = b.events.mark()
      await a.store.revoke(sid('X'), 3000, 60)
      await b.events.after(mark, 'change')
      expect(b.store.revokedAt(sid('X'))).toBe(5000)
      mark = b.events.mark()
      await a.store.bury(['s-1', 's-2'], 60)
      // One script per tombstone (each id is its own slot), so one announcement each.
      await b.events.after(mark, 'change', 2)
      expect(b.store.isBuried('s-1')).toBe(true)
      expect(b.store.isBuried('s-2')).toBe(true)
      expect(await a.store.isBuried('s-1')).toBe(true)
    })

    it('asks Redis for a revocation of a key it did not hold (Redis may keep a later time)', async () => {
      const { a, b } = await instances(kind)
      const mark = b.events.mark()
      await a.store.revoke(sid('Y'), 9000, 60)
      await a.store.revoke(sid('Y'), 7000, 60)
      await b.events.after(mark, 'change', 2)
      const answer = b.store.revokedAt(sid('Y'))
      expect(answer).toBeInstanceOf(Promise)
      expect(await answer).toBe(9000)
      expect(b.store.revokedAt(sid('Y'))).toBe(9000)
    })

    it('drops the view when its subscription is cut and honours a revocation written meanwhile', async () => {
      const { a, b } = await instances(kind)
      await b.store.revokedAt(sid('cut'))
      expect(b.store.revokedAt(sid('cut'))).toBeUndefined()
      const mark = b.events.mark()
      await raw.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      await b.events.after(mark, 'lost')
      expect(b.events.current).toBe(false)
      const asked = b.store.revokedAt(sid('cut'))
      expect(asked).toBeInstanceOf(Promise)
      expect(await asked).toBeUndefined()
      await a.store.revoke(sid('cut'), 5000, 60)
      expect(await b.store.revokedAt(sid('cut'))).toBe(5000)
      await b.events.after(mark, 'current')
      expect(await b.store.revokedAt(sid('cut'))).toBe(5000)
      expect(b.store.revokedAt(sid('cut'))).toBe(5000)
      // Current again: a change announced now reaches the view.
      const again = b.events.mark()
      await a.store.revoke(sid('cut'), 6000, 60)
      await b.events.after(again, 'change')
      expect(b.store.revokedAt(sid('cut'))).toBe(6000)
    })

    it('stops trusting a subscription that stops answering, until it answers again', async () => {
      const { a, b } = await instances(kind)
      await b.store.revokedAt(sid('paused'))
      expect(b.store.revokedAt(sid('paused'))).toBeUndefined()
      const mark = b.events.mark()
      // Redis answers nobody for 2.5 s, the connection stays open: only the heartbeat can tell.
      await raw.sendCommand(['CLIENT', 'PAUSE', '2500', 'ALL'])
      await b.events.after(mark, 'lost')
      const asked = b.store.revokedAt(sid('paused'))
      expect(asked).toBeInstanceOf(Promise)
      await Promise.resolve(asked).catch(() => undefined)
      await b.events.after(mark, 'current')
      await whenAnswering(() => a.store.revoke(sid('paused'), 5000, 60))
      expect(await b.store.revokedAt(sid('paused'))).toBe(5000)
    })

    it('keeps at most maxEntries keys of each kind, and tombstones never evict revocations', async () => {
      const prefix = `view${++prefixes}:`
      const { store: s, events } = await store(kind, prefix, { maxEntries: 2 })
      await current(s, events)
      for (const value of ['R1', 'R2', 'R3']) await s.revokedAt(sid(value))
      expect(s.revokedAt(sid('R1'))).toBeInstanceOf(Promise)
      await s.revokedAt(sid('R1'))
      for (const id of ['T1', 'T2', 'T3']) await s.isBuried(id)
      expect(s.revokedAt(sid('R1'))).toBeUndefined()
      expect(s.isBuried('T3')).toBe(false)
      expect(s.isBuried('T1')).toBeInstanceOf(Promise)
    })

    it('announces its writes with the view turned off, and then always asks Redis', async () => {
      const { a, b } = await instances(kind, false)
      await b.store.revokedAt(sid('off'))
      const mark = b.events.mark()
      await a.store.revoke(sid('off'), 4000, 60)
      await b.events.after(mark, 'change')
      expect(b.store.revokedAt(sid('off'))).toBe(4000)
      const answer = a.store.revokedAt(sid('off'))
      expect(answer).toBeInstanceOf(Promise)
      expect(await answer).toBe(4000)
      expect(a.events.log).toEqual([])
    })

    it('releases its subscriber on close() and when the application quits its client', async () => {
      const before = await subscribers()
      const closing = await store(kind, `view${++prefixes}:`)
      await current(closing.store, closing.events)
      expect(await subscribers()).toBe(before + 1)
      await closing.store.close?.()
      await whenAnswering(async () => expect(await subscribers()).toBe(before))
      const quitting = await store(kind, `view${++prefixes}:`)
      await current(quitting.store, quitting.events)
      expect(await subscribers()).toBe(before + 1)
      const client = clients.splice(clients.indexOf(quitting.client), 1)[0]!
      await quit(client)
      await whenAnswering(async () => expect(await subscribers()).toBe(before))
    })

    it('ignores anything else published on its channel', async () => {
      const { a, b } = await instances(kind)
      await b.store.revokedAt(sid('noise'))
      const mark = b.events.mark()
      const channel = `view${prefixes}:changes`
      for (const noise of [
        'not json',
        '{"r":"k","a":1,"t":1}',
        '{"r":[1],"a":1,"t":1}',
        '{"b":["k"]}',
        '[]',
        'null',
      ]) {
        await raw.sendCommand(['PUBLISH', channel, noise])
      }
      await a.store.revoke(sid('noise'), 5000, 60)
      await b.events.after(mark, 'change')
      expect(b.events.log.slice(mark)).toEqual([{ type: 'change', kind: 'revocation', keys: 1 }])
      expect(b.store.revokedAt(sid('noise'))).toBe(5000)
    })

    it('refuses a write it could not announce, and writes nothing', async () => {
      const { a, b } = await instances(kind)
      const mark = b.events.mark()
      // The default user may no longer use any channel: PUBLISH fails, subscribers are cut.
      await raw.sendCommand(['ACL', 'SETUSER', 'default', 'resetchannels'])
      try {
        for (const write of [
          () => a.store.revoke(sid('unannounced'), 5000, 60),
          () => a.store.bury(['unannounced'], 60),
        ]) {
          const failure = await Promise.resolve(write()).catch((e: unknown) => e)
          expect(failure).toBeInstanceOf(LogoutError)
          expect(failure).toMatchObject({ code: 'ERR_STORE' })
        }
        await b.events.after(mark, 'lost')
      } finally {
        await raw.sendCommand(['ACL', 'SETUSER', 'default', 'allchannels'])
      }
      // The script stopped at its publish, before its write: no instance can hold what was never announced.
      expect(await raw.sendCommand(['KEYS', `view${prefixes}:*`])).toEqual([])
      await b.events.after(mark, 'current')
      expect(await b.store.revokedAt(sid('unannounced'))).toBeUndefined()
      expect(await b.store.isBuried('unannounced')).toBe(false)
    })

    it('forgets its view when Redis restarts empty, and fails while it is down', async () => {
      const { a, b } = await instances(kind)
      const written = b.events.mark()
      await a.store.revoke(sid('restart'), 5000, 60)
      // A load whose key is announced while it is in flight is not kept: let the change arrive first.
      await b.events.after(written, 'change')
      expect(await b.store.revokedAt(sid('restart'))).toBe(5000)
      expect(b.store.revokedAt(sid('restart'))).toBe(5000)
      const mark = b.events.mark()
      await server.stop()
      await b.events.after(mark, 'lost')
      const failure = await Promise.resolve(b.store.revokedAt(sid('restart'))).catch((e: unknown) => e)
      expect(failure).toBeInstanceOf(LogoutError)
      expect((failure as LogoutError).code).toBe('ERR_STORE')
      await server.start()
      await b.events.after(mark, 'current')
      await whenAnswering(() => b.store.revokedAt(sid('probe')))
      expect(await b.store.revokedAt(sid('restart'))).toBeUndefined()
      expect(b.store.revokedAt(sid('restart'))).toBeUndefined()
    })
  })

  describe('options', () => {
    it.each<[string, unknown, RegExp]>([
      ['a string', 'on', /"options\.localView" \(or false\) must be an object/],
      ['true', true, /"options\.localView" \(or false\) must be an object/],
      ['an unknown key', { maxEntry: 5 }, /"options\.localView\.maxEntry" is not a known option/],
      ['zero entries', { maxEntries: 0 }, /"options\.localView\.maxEntries" must be a positive integer/],
      ['negative entries', { maxEntries: -1 }, /"options\.localView\.maxEntries" must be a positive integer/],
      [
        'fractional entries',
        { maxEntries: 1.5 },
        /"options\.localView\.maxEntries" must be a positive integer/,
      ],
      ['NaN entries', { maxEntries: NaN }, /"options\.localView\.maxEntries" must be a positive integer/],
      [
        'a numeric string',
        { maxEntries: '10' },
        /"options\.localView\.maxEntries" must be a positive integer/,
      ],
      [
        'an onEvent that is not a function',
        { onEvent: 'log' },
        /"options\.localView\.onEvent" must be a function/,
      ],
    ])('refuses %s with a TypeError naming the option', (_, localView, message) => {
      const create = () => redisStore({ client: raw, localView: localView as RedisStoreOptions['localView'] })
      expect(create).toThrow(TypeError)
      expect(create).toThrow(message)
      expect(create).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    })
  })
})
