/** The shared store: the `Store` contract in Redis, for many instances and services. */
import { optionError } from '../../options/check.js'
import { asLogoutError } from '../../errors.js'
import type { LinkRecord, Store, Subject, TakeQuery } from '../contract.js'
import { connect, scriptRunner } from './client.js'
import { checkConfiguration } from './configuration.js'
import { redisKeys } from './keys.js'
import { linkSteps, type Burial } from './links.js'
import { scripts, type RedisScript } from './scripts.js'
import { announcements, changesChannel } from './changes.js'
import { GROUP, deliverySettings, startReceiver, type DeliveryOptions } from './receiver.js'
import { canSubscribe, sharedChannel } from './subscription.js'
import { localViewSettings, storeView, type LocalViewOptions } from './view.js'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis v5 client or cluster (`createClient()` or `createCluster()` from
   * `redis`; the client is the one `connect-redis` uses) or an ioredis client or cluster (`new
   * Redis()`, `new Cluster()`). The store never connects, quits or listens to it: the application
   * owns it, attaches its `'error'` listener and configures its timeouts. The local view
   * subscribes on a `duplicate()` of it, which it closes on {@link Store.close} and when this
   * client emits `'end'`.
   */
  client: unknown
  /** Prepended to every key, to share a Redis with other data. Defaults to `'sso-logout:'`. */
  prefix?: string | undefined
  /**
   * Each instance keeps the revocations and tombstones guard reads in memory, kept current by a
   * subscription (a `duplicate()` of `client`), so a protected request sends no Redis command
   * once the keys it reads are known. `false` turns it off; every write is announced either way.
   * Defaults to `{ maxEntries: 50_000 }`.
   */
  localView?: LocalViewOptions | false | undefined
  /**
   * How a service's instances receive the ids of their sessions that other services ended (see
   * "Services" below). Defaults to `{ pollInterval: 1000, claimAfter: 30000 }`.
   */
  delivery?: DeliveryOptions | undefined
  /**
   * Seconds a hand-over waits for a service that is down, at most: cover the longest session
   * (`logout()`'s `retention`). Defaults to 14 days, that option's default.
   */
  handOverRetention?: number | undefined
}

/**
 * The shared store: the sid/sub index, revocations and logout-token ids live in Redis, so a logout in
 * one instance or service takes effect in all of them. Each step is one Lua script on one key
 * (EVALSHA, EVAL after a restart), so it is atomic, and an operation costs a number of steps
 * bounded by the sessions of one `sid` or `sub`, never by the size of the database (no `KEYS`, no
 * `SCAN`). It works on a standalone Redis (or Sentinel) and on a Redis Cluster alike.
 *
 * `guard`'s reads (`revokedAt`, `isBuried`) are answered from a bounded local view kept current by
 * pub/sub (the scripts of `revoke` and `bury` publish on `P changes` as they write), so a protected request
 * sends no command in steady state; see {@link RedisStoreOptions.localView} and docs/many-instances.md.
 *
 * Keys, with `P` the prefix, `T` a 12-character tag of the issuer (issuerTag() in keys.ts) and the
 * part in braces the Redis Cluster hash tag:
 * - `P{s<sessionId>}l`: a linked session's record, the MessagePack array [link time, T, sid, sub,
 *   V], with `V` a 12-character tag of the service that owns the session (`logout()`'s
 *   `options.service`; absent for links made without one);
 * - `P{<tag of T, sid>}i`, `P{<tag of T, sub>}i`: sorted sets of session ids scored by the link's
 *   expiry, pruned on every write and expiring with their longest-lived member (indexTag() in
 *   keys.ts);
 * - `P{Td<sid>}r`, `P{Tu<sub>}r`: revocation time in ms;
 * - `P{Tj<jti>}j`: a claimed logout-token id;
 * - `P{s<sessionId>}t`: a tombstone (a logged-out session that must not be written back), in the
 *   slot of the session's record, so a take can write it in the script that takes the record;
 * - `P{p<key>}p`: work a logout left for the browser's return (held-back revocations);
 * - `P{v<V>}q`: the hand-over stream of service `V`, read by its instances through the consumer
 *   group `owners`; each entry's field `i` is a JSON array of session ids, `a` the hand-over time;
 * - `P{v<V>}o`: the descriptions (origin and client id) of the apps receiving as service `V`
 *   lately, to report two apps under one service name.
 * Every key has a TTL.
 *
 * Services. A take for a service (`takeFor`, used by every logout) returns that service's own
 * sessions and hands each other service's to it: the ids are appended to the owner's stream
 * (XADD, and a wake-up `PUBLISH` on `P changes` in the same script), and every instance of the owner reads its
 * stream through the consumer group (XREADGROUP), destroys the ids in its own session store,
 * and acknowledges and deletes the entry (XACK, XDEL). An entry not acknowledged within
 * `delivery.claimAfter` (its instance died, or its session store failed) is claimed by another
 * instance (XAUTOCLAIM), so delivery is at least once, and destroying a session twice is
 * harmless. The group is created at the stream's start with the first hand-over, so a service
 * that is down catches up when it is back, for up to `handOverRetention`.
 * - take for service S: (1) read the index; (2) run the record script of each member with S:
 *   it takes S's sessions and those of no service, and for another service's answers its owner
 *   without touching the record; (3) append each owner's ids to its stream; (4) run the record
 *   script again, without a service, on the ids (3) appended; (5) tidy the indexes as below. The
 *   links leave the index only after their owner has them durably: a crash or a failed append
 *   between (2) and (4) leaves the sessions linked, so the next logout of that sid or sub (an OP
 *   retries a failed back-channel logout) hands them over again, and a crash between (3) and (4)
 *   leaves them both handed over and linked, which is a second delivery later, never a loss.
 *   Between (3) and (4) a reader sees the sessions still linked and their revocation recorded:
 *   `guard` refuses them already. A session linked anew to another sid between (2) and (4) is
 *   not taken by (4) but is still destroyed by its owner: the logout errs towards ending it.
 *
 * Redis Cluster. Every script names the key it reads and writes (a take's also names the taken
 * session's tombstone, in the same slot), so it runs on the master of that key's slot, and the
 * keys spread over all slots. An operation on several keys is a sequence of such steps, safe in
 * any interleaving and after a crash between any two of them, because a session's link record is
 * the truth and an index member is only a pointer to it: `take` returns
 * a session only from a script on its record that checks the record still names the sid (or sub)
 * taken and a link time up to `linkedBefore`, and deletes it. That script runs once per record on
 * one master, so exactly one take, by sid or by sub and from any instance, gets each session.
 * - link: (1) write the record, which answers the previous one; the new expiry E differs from
 *   the previous one; (2) add the session, scored E, to its sid and sub indexes; (3) remove it from
 *   the previous link's indexes, only while it is still scored with the previous E. Between (1)
 *   and (2) a take of the new sid does not see the session yet, as if the link came after it (and
 *   a logout's revocation still makes `guard` refuse a session linked from an older token); a take
 *   of the old sid finds the old member, whose record names another sid: it is not taken and is
 *   removed. A crash after (1) leaves a record no index names: it expires, is replaced by the next
 *   link, and the failed link is made again on the session's next request. A crash after (2)
 *   leaves old members that no take returns, removed by the next take of their index or at E.
 * - take: (1) read the index; (2) run the record script of each member, which (for a logout,
 *   `TakeQuery.bury`) writes the session's tombstone `P{s<sessionId>}t` in the same script: the
 *   record and its tombstone share a hash tag, so one slot holds both; (3) remove from this
 *   index the members taken, stale or orphaned, and the taken ones from their other index, each
 *   only while its score is unchanged, so a new link of the same session written meanwhile stays.
 *   Between (2) and (3), and after a crash there, the members left name deleted records: orphans,
 *   which no take returns (an orphan costs memory until its index's next take or its expiry, never
 *   a wrong answer). The sessions (2) took are lost when the take then rejects (a master down) or
 *   the process dies before destroying them, as on a single Redis when a take's reply is lost: they
 *   are buried already, so `guard` refuses them by session id, the logout records its revocation
 *   with the take, so `guard` refuses their tokens, and a failed back-channel logout answers an
 *   error so the OP retries it (Back-Channel Logout 1.0 §2.8).
 * - unlink: (1) delete the record, which answers it; (2) remove its members (orphans until then).
 * - revoke, revokedAt, bury: one script per revocation or tombstone. Each revocation keeps its own
 *   maximum, so their order does not matter, and revokedAt answers the later of the two it reads.
 * On a cluster, the revocation and the take of one logout run on different masters, so neither
 * waits for the other; the record check above, not their order, keeps a take exact. A master that
 * restarts empty forgets the revocations and links of its slots, as a single Redis does: give each
 * master a replica or append-only persistence.
 *
 * Redis must run with `maxmemory-policy noeviction` and a `maxmemory` with room for every record:
 * because every key has a TTL, `volatile-*` policies may evict revocations and `allkeys-*` policies
 * any key, while under `noeviction` a full Redis refuses writes and the store rejects with
 * `ERR_STORE`. {@link Store.checkConfiguration} reads the policy from `INFO memory` (of every master
 * of a cluster) and says when it is another one.
 *
 * Memory, measured on Redis 7.0 (64-bit, jemalloc) with 32-character session ids, UUID sids and
 * subs and an https issuer, as the growth of `used_memory` over 5,000 links (`npm run
 * bench:memory`): about 645 bytes per linked session that has its own `sid` and `sub` index, of
 * which about 100 per key (three) are Redis's own: its entries in the key and expiry tables and the
 * value object. About 175 bytes per revocation record (docs/many-instances.md, "Memory and cost").
 *
 * Redis failures reject with a `LogoutError` of code `ERR_STORE` (the client's error is its
 * `cause`). The store cannot bound a command's time itself, so configure the client to fail fast
 * instead of queueing or waiting while Redis is down or stuck. node-redis: `disableOfflineQueue:
 * true`, `socket.connectTimeout`, `socket.socketTimeout` to bound the wait for a reply (its
 * `commandOptions.timeout` only bounds the wait before a command is written), `pingInterval` below
 * `socketTimeout` (which is an idle timeout: without pings it cuts every quiet connection, and a
 * command sent while it reconnects is refused), and a `socket.reconnectStrategy`, since by default
 * it gives up after a socket timeout; for `createCluster()`, the same under `defaults`, with
 * `commandOptions` at the top. ioredis: `commandTimeout`, `maxRetriesPerRequest` and
 * `enableOfflineQueue: false` (for `Cluster`, `enableOfflineQueue` at the top and the others under
 * `redisOptions`). The clients reconnect on their own, and the store works again as soon as they
 * do, without being re-created.
 *
 * @example
 * ```ts
 * import { createClient, createCluster } from 'redis'
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
 * // a Redis Cluster
 * const cluster = createCluster({
 *   rootNodes: [{ url: 'redis://10.0.0.1:6379' }, { url: 'redis://10.0.0.2:6379' }],
 *   commandOptions: { timeout: 2_000 },
 *   defaults: {
 *     disableOfflineQueue: true,
 *     pingInterval: 1_000,
 *     socket: { connectTimeout: 2_000, socketTimeout: 2_000, reconnectStrategy: (n) => Math.min(n * 100, 2_000) },
 *   },
 * })
 * cluster.on('error', (err) => log.warn(err))
 * await cluster.connect()
 * app.use(logout({ provider, baseURL, store: redisStore({ client: cluster }) }))
 *
 * // or with ioredis (`new Cluster([...], { enableOfflineQueue: false, redisOptions: {...} })` alike)
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
  const channel = canSubscribe(options.client)
    ? sharedChannel(options.client, changesChannel(prefix))
    : undefined
  const view = storeView(channel, run, localViewSettings(options.localView))
  const delivery = deliverySettings(options.delivery)
  const handOverRetention = positiveSeconds(
    options.handOverRetention,
    'options.handOverRetention',
    14 * 86400,
  )
  const announce = announcements(prefix)
  const receivers = new Set<{ close(): void }>()

  async function exec(
    script: RedisScript,
    key: string,
    args: string[],
    sameSlot?: readonly string[],
  ): Promise<unknown> {
    try {
      return await run(script, key, args, sameSlot)
    } catch (error) {
      throw asLogoutError('ERR_STORE', `Redis store ${script.name} failed`, error)
    }
  }
  /** The later of the revocation times Redis holds for `revocations`, read from Redis itself. */
  async function fetchRevokedAt(revocations: readonly string[]): Promise<number | undefined> {
    const replies = await Promise.all(revocations.map((key) => exec(scripts.revokedAt, key, [])))
    const times = replies.filter((reply) => typeof reply === 'string').map(Number)
    return times.length === 0 ? undefined : Math.max(...times)
  }
  async function fetchBuried(tombstone: string): Promise<boolean> {
    return (await exec(scripts.isBuried, tombstone, [])) === 1
  }
  /**
   * A tombstone for `sessionId` lasting `ms`: its key, the arguments of the scripts that write it
   * (`bury`, and a logout's take; see TOMBSTONE in scripts.ts) and, once written, the change for
   * this instance's own view.
   */
  function tombstoneWrite(sessionId: string, ms: string): ReturnType<Burial> {
    const tombstone = keys.tombstone(sessionId)
    const { publish, change } = announce.buried(tombstone, Number(ms))
    return { tombstone, args: [ms, ...publish], done: () => view?.apply(change) }
  }
  const links = linkSteps(keys, exec, async (tag, sessionIds) => {
    const args = [GROUP, String(Date.now()), JSON.stringify(sessionIds), String(handOverRetention * 1000)]
    await exec(scripts.handOver, keys.stream(tag), [...args, ...announce.handedOver(tag)])
  })

  return {
    async link(record: LinkRecord, ttl: number) {
      await links.link(record, number(record.at, 'record.at'), milliseconds(ttl))
    },

    async take(query: TakeQuery) {
      return (await links.take(query, number(query.linkedBefore, 'query.linkedBefore'))).own
    },

    async takeFor(query: TakeQuery, service: string) {
      const linkedBefore = number(query.linkedBefore, 'query.linkedBefore')
      if (query.bury === undefined) return links.take(query, linkedBefore, service)
      const ms = milliseconds(query.bury)
      return links.take(query, linkedBefore, service, (sessionId) => tombstoneWrite(sessionId, ms))
    },

    receive(service, deliver, receiveOptions) {
      const receiver = startReceiver(
        { run, keys, channel, settings: delivery, retention: handOverRetention },
        service,
        deliver,
        receiveOptions,
      )
      const handle = {
        close() {
          receivers.delete(handle)
          receiver.close()
        },
      }
      receivers.add(handle)
      return handle
    },

    async revoke(subject: Subject, at: number, ttl: number) {
      const revocations = keys.revocations(subject)
      if (revocations.length === 0) return
      const ms = milliseconds(ttl)
      const time = number(at, 'at')
      // One key per sid or sub: each may live in its own slot, keeps its own maximum, and is
      // announced by the script that writes it.
      await Promise.all(
        revocations.map(async (key) => {
          const { publish, change } = announce.revoked(key, at, Number(ms))
          await exec(scripts.revoke, key, [time, ms, ...publish])
          view?.apply(change)
        }),
      )
    },

    revokedAt(subject: Subject) {
      const revocations = keys.revocations(subject)
      if (revocations.length === 0) return undefined
      return view ? view.revokedAt(revocations, fetchRevokedAt) : fetchRevokedAt(revocations)
    },

    async bury(sessionIds: readonly string[], ttl: number) {
      if (sessionIds.length === 0) return
      const ms = milliseconds(ttl)
      await Promise.all(
        sessionIds.map(async (sessionId) => {
          const write = tombstoneWrite(sessionId, ms)
          await exec(scripts.bury, write.tombstone, write.args)
          write.done()
        }),
      )
    },

    isBuried(sessionId: string, read?: { fresh?: boolean }) {
      const tombstone = keys.tombstone(sessionId)
      return view && read?.fresh !== true ? view.isBuried(tombstone, fetchBuried) : fetchBuried(tombstone)
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

    async linkOf(sessionId: string, iss: string) {
      return links.linkOf(sessionId, iss)
    },

    checkConfiguration: () => checkConfiguration(connection),

    close() {
      for (const receiver of [...receivers]) receiver.close()
      view?.close()
      channel?.close()
    },
  }
}

/** Lua compares numbers it parses from strings, so only finite numbers may cross. */
function number(value: number, name: string): string {
  if (!Number.isFinite(value)) throw optionError(`"${name}" must be a finite number`)
  return String(value)
}

function positiveSeconds(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw optionError(`"${path}" must be a whole number of seconds, 1 or more`)
  }
  return value
}

/** Redis expiries are whole milliseconds; rounding up never expires a record early. */
function milliseconds(ttl: number): string {
  if (!Number.isFinite(ttl)) throw optionError('"ttl" must be a finite number of seconds')
  return String(Math.ceil(ttl * 1000))
}
