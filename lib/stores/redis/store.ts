/** The shared store: the `Store` contract in Redis, for many instances and services. */
import { optionError } from '../../options/check.js'
import { asLogoutError } from '../../errors.js'
import type { LinkRecord, Store, Subject, TakeQuery } from '../contract.js'
import { commandSender, scriptRunner } from './client.js'
import { checkEvictionPolicy } from './configuration.js'
import { redisKeys } from './keys.js'
import type { RedisKeys } from './keys.js'
import { scripts, type RedisScript } from './scripts.js'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis v5 client (`createClient()` from `redis`, the one `connect-redis` uses)
   * or an ioredis client (`new Redis()`). The store never connects, quits or listens to it: the
   * application owns it, attaches its `'error'` listener and configures its timeouts.
   */
  client: unknown
  /** Prepended to every key, to share a Redis with other data. Defaults to `'sso-logout:'`. */
  prefix?: string | undefined
}

/**
 * The shared store: the sid/sub index, revocations and logout-token ids live in Redis, so a logout in
 * one instance or service takes effect in all of them. Each operation is one Lua script (EVALSHA,
 * EVAL after a restart), so it is atomic and costs a number of steps bounded by the sessions of one
 * `sid` or `sub`, never by the size of the database (no `KEYS`, no `SCAN`).
 *
 * Keys, with `P` the prefix and `I` the URI-encoded issuer:
 * - `P s:<sessionId>`: hash of one linked session (link time, its index keys);
 * - `P i:I:sid:<sid>`, `P i:I:sub:<sub>`: sorted sets of session ids scored by expiry, pruned on
 *   every write and expiring with their longest-lived member;
 * - `P i:I:rsid:<sid>`, `P i:I:rsub:<sub>`: revocation time in ms;
 * - `P i:I:jti:<jti>`: a claimed logout-token id;
 * - `P t:<sessionId>`: a tombstone (a logged-out session that must not be written back);
 * - `P p:<key>`: work a logout left for the browser's return (held-back revocations).
 * Session records carry no issuer in their name because {@link Store.unlink} only knows the session
 * id; the issuer is in the index keys they point to. Every key has a TTL.
 *
 * Redis must run with `maxmemory-policy noeviction` and a `maxmemory` with room for every record:
 * because every key has a TTL, `volatile-*` policies may evict revocations and `allkeys-*` policies
 * any key, while under `noeviction` a full Redis refuses writes and the store rejects with
 * `ERR_STORE`. {@link Store.checkConfiguration} reads the policy from `INFO memory` and says when
 * it is another one.
 *
 * Memory, measured on Redis 7.0 (64-bit, jemalloc) with 32-character session ids and an https
 * issuer, as the growth of `used_memory` over 5,000 records: about 780 bytes per linked session
 * that has its own `sid` and `sub` index (session record 250 bytes and each one-member index
 * 170 bytes by `MEMORY USAGE`, plus per-key overhead), and about 220 bytes per revocation record.
 *
 * Redis failures reject with a `LogoutError` of code `ERR_STORE` (the client's error is its
 * `cause`). The store cannot bound a command's time itself, so configure the client to fail fast
 * instead of queueing or waiting while Redis is down or stuck. node-redis: `disableOfflineQueue:
 * true`, `socket.connectTimeout`, and `socket.socketTimeout` with `pingInterval` below it (its
 * `commandOptions.timeout` only bounds the wait before a command is written, not the reply), plus
 * a `socket.reconnectStrategy`, since by default it gives up after a socket timeout. ioredis:
 * `commandTimeout`, `maxRetriesPerRequest` and `enableOfflineQueue: false`. Both clients reconnect
 * on their own, and the store works again as soon as they do, without being re-created. Targets a standalone Redis (or Sentinel): scripts
 * reach a session's second index through its record, which a Redis Cluster only allows when every
 * key shares a slot, e.g. with the prefix `'{sso-logout}:'`.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const client = createClient({
 *   url: process.env.REDIS_URL,
 *   disableOfflineQueue: true,
 *   pingInterval: 1_000,
 *   commandOptions: { timeout: 2_000 },
 *   socket: { connectTimeout: 2_000, socketTimeout: 2_000, reconnectStrategy: (n) => Math.min(n * 100, 2_000) },
 * })
 * client.on('error', (err) => log.warn(err))
 * await client.connect()
 * app.use(session({ store: new RedisStore({ client }), secret, resave: false, saveUninitialized: false }))
 * app.use(logout({ provider, baseURL, store: redisStore({ client }) }))
 *
 * // or with ioredis
 * const ioredis = new Redis(process.env.REDIS_URL, { commandTimeout: 2_000, maxRetriesPerRequest: 1, enableOfflineQueue: false })
 * app.use(logout({ provider, baseURL, store: redisStore({ client: ioredis, prefix: 'app-a:logout:' }) }))
 * ```
 */
export function redisStore(options: RedisStoreOptions): Store {
  if (typeof options !== 'object' || options === null) throw optionError('"options" must be an object')
  const prefix = options.prefix === undefined ? 'sso-logout:' : options.prefix
  if (typeof prefix !== 'string') throw optionError('"options.prefix" must be a string')
  const send = commandSender(options.client)
  const run = scriptRunner(send)
  const keys = redisKeys(prefix)

  async function exec(script: RedisScript, keyList: string[], args: string[]): Promise<unknown> {
    try {
      return await run(script, keyList, args)
    } catch (error) {
      throw asLogoutError('ERR_STORE', `Redis store ${script.name} failed`, error)
    }
  }

  return {
    async link(record: LinkRecord, ttl: number) {
      await exec(scripts.link, ...linkCall(keys, record, ttl))
    },

    async take(query: TakeQuery) {
      const call = takeCall(keys, query)
      return call ? strings(await exec(scripts.take, ...call)) : []
    },

    async revoke(subject: Subject, at: number, ttl: number) {
      const revocations = keys.revocations(subject)
      if (revocations.length === 0) return
      await exec(scripts.revoke, revocations, [number(at, 'at'), milliseconds(ttl)])
    },

    async revokedAt(subject: Subject) {
      const revocations = keys.revocations(subject)
      if (revocations.length === 0) return undefined
      const times = strings(await exec(scripts.revokedAt, revocations, [])).map(Number)
      return times.length === 0 ? undefined : Math.max(...times)
    },

    async bury(sessionIds: readonly string[], ttl: number) {
      if (sessionIds.length === 0) return
      await exec(scripts.bury, sessionIds.map(keys.tombstone), [milliseconds(ttl)])
    },

    async isBuried(sessionId: string) {
      return (await exec(scripts.isBuried, [keys.tombstone(sessionId)], [])) === 1
    },

    async putPending(key: string, value: string, ttl: number) {
      await exec(scripts.putPending, [keys.pending(key)], [value, milliseconds(ttl)])
    },

    async takePending(key: string) {
      const value = await exec(scripts.takePending, [keys.pending(key)], [])
      return typeof value === 'string' ? value : undefined
    },

    async claimJti(iss: string, jti: string, ttl: number) {
      return (await exec(scripts.claimJti, [keys.jti(iss, jti)], [milliseconds(ttl)])) === 1
    },

    async releaseJti(iss: string, jti: string) {
      await exec(scripts.releaseJti, [keys.jti(iss, jti)], [])
    },

    async unlink(sessionId: string) {
      await exec(scripts.unlink, [keys.session(sessionId)], [sessionId])
    },

    async linkOf(sessionId: string) {
      let reply: unknown
      try {
        reply = await send(['HMGET', keys.session(sessionId), 'a', 'd', 'u'])
      } catch (error) {
        throw asLogoutError('ERR_STORE', 'Redis store linkOf failed', error)
      }
      return linkFromRecord(keys, sessionId, reply)
    },

    checkConfiguration: () => checkEvictionPolicy(send),
  }
}

/** KEYS and ARGV of the link script: the session record, then one index per letter (`d` sid, `u` sub). */
function linkCall(keys: RedisKeys, record: LinkRecord, ttl: number): [string[], string[]] {
  const indexes: string[] = []
  let letters = ''
  if (record.sid !== undefined) {
    indexes.push(keys.index(record.iss, 'sid', record.sid))
    letters += 'd'
  }
  if (record.sub !== undefined) {
    indexes.push(keys.index(record.iss, 'sub', record.sub))
    letters += 'u'
  }
  const args = [record.sessionId, number(record.at, 'record.at'), milliseconds(ttl), letters]
  return [[keys.session(record.sessionId), ...indexes], args]
}

/** KEYS and ARGV of the take script, or `undefined` when the query names neither sid nor sub. */
function takeCall(keys: RedisKeys, query: TakeQuery): [string[], string[]] | undefined {
  const kind = query.sid !== undefined ? 'sid' : 'sub'
  const value = query.sid ?? query.sub
  if (value === undefined) return undefined
  const args = [
    keys.sessionPrefix,
    number(query.linkedBefore, 'query.linkedBefore'),
    kind === 'sid' ? 'd' : 'u',
  ]
  return [[keys.index(query.iss, kind, value)], args]
}

/** Lua compares numbers it parses from strings, so only finite numbers may cross. */
function number(value: number, name: string): string {
  if (!Number.isFinite(value)) throw optionError(`"${name}" must be a finite number`)
  return String(value)
}

/** Redis expiries are whole milliseconds; rounding up never expires a record early. */
function milliseconds(ttl: number): string {
  if (!Number.isFinite(ttl)) throw optionError('"ttl" must be a finite number of seconds')
  return String(Math.ceil(ttl * 1000))
}

/** Script replies are arrays whose nil entries arrive as `null`; keeps the strings. */
function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) return []
  return reply.filter((item): item is string => typeof item === 'string')
}

/**
 * A session record back into its link: the record keeps the names of its index keys, and each
 * name spells out the issuer and the sid (or sub) it indexes (see `redisKeys`).
 */
function linkFromRecord(keys: RedisKeys, sessionId: string, reply: unknown): LinkRecord | undefined {
  if (!Array.isArray(reply)) return undefined
  const [at, sidIndex, subIndex] = reply as Array<string | null>
  if (typeof at !== 'string') return undefined
  const sid = sidIndex ? keys.parseIndex(sidIndex) : undefined
  const sub = subIndex ? keys.parseIndex(subIndex) : undefined
  const iss = sid?.iss ?? sub?.iss
  if (iss === undefined) return undefined
  return { iss, sid: sid?.value, sub: sub?.value, sessionId, at: Number(at) }
}
