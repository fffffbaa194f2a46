/** The shared store: the `Store` contract in Redis, for many instances and services. */
import { optionError } from '../../options/check.js'
import { asLogoutError } from '../../errors.js'
import type { LinkRecord, Store, Subject, TakeQuery } from '../contract.js'
import { connect, scriptRunner } from './client.js'
import { checkConfiguration } from './configuration.js'
import { redisKeys } from './keys.js'
import { linkSteps } from './links.js'
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
  const connection = connect(options.client)
  const run = scriptRunner(connection.send)
  const keys = redisKeys(prefix)

  async function exec(script: RedisScript, key: string, args: string[]): Promise<unknown> {
    try {
      return await run(script, key, args)
    } catch (error) {
      throw asLogoutError('ERR_STORE', `Redis store ${script.name} failed`, error)
    }
  }
  const links = linkSteps(keys, exec)

  return {
    async link(record: LinkRecord, ttl: number) {
      await links.link(record, number(record.at, 'record.at'), milliseconds(ttl))
    },

    async take(query: TakeQuery) {
      return links.take(query, number(query.linkedBefore, 'query.linkedBefore'))
    },

    async revoke(subject: Subject, at: number, ttl: number) {
      const args = [number(at, 'at'), milliseconds(ttl)]
      // One key per sid or sub: each may live in its own slot, and each keeps its own maximum.
      await Promise.all(keys.revocations(subject).map((key) => exec(scripts.revoke, key, args)))
    },

    async revokedAt(subject: Subject) {
      const replies = await Promise.all(
        keys.revocations(subject).map((key) => exec(scripts.revokedAt, key, [])),
      )
      const times = replies.filter((reply) => typeof reply === 'string').map(Number)
      return times.length === 0 ? undefined : Math.max(...times)
    },

    async bury(sessionIds: readonly string[], ttl: number) {
      const args = ['1', milliseconds(ttl)]
      await Promise.all(sessionIds.map((id) => exec(scripts.bury, keys.tombstone(id), args)))
    },

    async isBuried(sessionId: string) {
      return (await exec(scripts.isBuried, keys.tombstone(sessionId), [])) === 1
    },

    async putPending(key: string, value: string, ttl: number) {
      await exec(scripts.putPending, keys.pending(key), [value, milliseconds(ttl)])
    },

    async takePending(key: string) {
      const value = await exec(scripts.takePending, keys.pending(key), [])
      return typeof value === 'string' ? value : undefined
    },

    async claimJti(iss: string, jti: string, ttl: number) {
      return (await exec(scripts.claimJti, keys.jti(iss, jti), [milliseconds(ttl)])) === 1
    },

    async releaseJti(iss: string, jti: string) {
      await exec(scripts.releaseJti, keys.jti(iss, jti), [])
    },

    async unlink(sessionId: string) {
      await links.unlink(sessionId)
    },

    checkConfiguration: () => checkConfiguration(connection),
  }
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
