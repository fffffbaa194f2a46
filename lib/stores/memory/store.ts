/** The embedded store: every record of the `Store` contract in this process's memory, bounded per kind. */
import { invalidArg } from '../../options/check.js'
import type { Store } from '../contract.js'
import { sweep } from './expiry.js'
import { Handovers } from './handovers.js'
import { LinkTable } from './links.js'
import type { LinkEntry } from './links.js'
import { RecordTables } from './records.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most records kept of each kind (links, revocations, tombstones, logout-token ids), each kind
   * bounded on its own. Past it the oldest record of that kind is dropped first, so the tombstones
   * any visitor can create never push out a revocation. Defaults to `1_000_000`.
   */
  maxEntries?: number | undefined
  /** Seconds between sweeps of expired records. Defaults to `60`. */
  sweepInterval?: number | undefined
}

/**
 * The embedded store: one process, no dependencies. Every record expires; the sweep timer is
 * `unref()`'d so it never keeps the process alive; memory is bounded by `maxEntries` per kind.
 * Measured by `npm run bench` (Node 20): about 0.8 KB of heap per linked session and 0.7 KB per
 * revocation record, so the default bound caps links near 0.8 GB and revocations near 0.7 GB; a
 * smaller app can lower it. Past the bound the oldest record goes first: an evicted revocation no
 * longer blocks its tokens, so size it above the sessions you expect within `retention`.
 * Apps of one process that share it, each with its own `service` name and session store, end
 * each other's sessions: a logout hands each app its own sessions' ids, queued in memory until it
 * destroyed them. For several processes use {@link redisStore}.
 *
 * @example
 * ```ts
 * app.use(logout({ store: memoryStore({ maxEntries: 100_000 }) }))
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const maxEntries = options.maxEntries ?? 1_000_000
  const sweepEvery = (options.sweepInterval ?? 60) * 1000
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw invalidArg('options.maxEntries', 'a positive integer', options.maxEntries)
  }
  if (!(sweepEvery > 0)) throw invalidArg('options.sweepInterval', 'a positive number', options.sweepInterval)
  const links = new LinkTable(maxEntries)
  const records = new RecordTables(maxEntries)
  const { revocations, tombstones, jtis, pending } = records
  const handovers = new Handovers(maxEntries)
  const expire = (sessionId: string, entry: LinkEntry) => links.remove(sessionId, entry)
  const timer = setInterval(
    () => sweep([links.entries, revocations, tombstones, jtis, pending], expire),
    sweepEvery,
  )
  timer.unref()
  // Own properties (not prototype methods), so a store can be wrapped with `{ ...memoryStore() }`.
  return {
    link: (record, ttl) => links.link(record, ttl),
    take: (query) => links.take(query),
    takeFor(query, service) {
      const { own, others } = links.takeFor(query, service)
      const handedOver: string[] = []
      for (const [owner, ids] of others) {
        handovers.hand(owner, ids)
        handedOver.push(...ids)
      }
      if (query.bury === undefined) return { own, handedOver }
      // One synchronous step in this process: nothing can run between the take and the burial.
      records.bury([...own, ...handedOver], query.bury)
      return { own, handedOver, buried: true }
    },
    receive: (service, deliver, options) => handovers.receive(service, deliver, options),
    unlink: (sessionId) => links.unlink(sessionId),
    linkOf: (sessionId, iss) => links.linkOf(sessionId, iss),
    revoke: (subject, at, ttl) => records.revoke(subject, at, ttl),
    revokedAt: (subject) => records.revokedAt(subject),
    bury: (sessionIds, ttl) => records.bury(sessionIds, ttl),
    isBuried: (sessionId) => records.isBuried(sessionId),
    claimJti: (iss, jti, ttl) => records.claimJti(iss, jti, ttl),
    releaseJti: (iss, jti) => records.releaseJti(iss, jti),
    putPending: (key, value, ttl) => records.putPending(key, value, ttl),
    takePending: (key) => records.takePending(key),
    close: () => clearInterval(timer),
  }
}
