/** The Redis store's local view: guard's reads answered in memory, kept current by Redis pub/sub. */
import { performance } from 'node:perf_hooks'
import { asLogoutError } from '../../errors.js'
import { invalidArg, objectOption } from '../../options/check.js'
import type { Awaitable } from '../contract.js'
import type { ScriptRunner } from './client.js'
import { parseChange, type Change } from './changes.js'
import { LocalView, type Load } from './local-view.js'
import { scripts } from './scripts.js'
import type { Channel } from './subscription.js'

/** Options of the local view (`redisStore({ localView })`). */
export interface LocalViewOptions {
  /**
   * How many revocation keys, and separately how many tombstone keys, one instance keeps in
   * memory (the oldest unread ones go first, close to least recently used). Defaults to 50,000
   * each: with 32-character ids, about 300 bytes per revocation key and 180 per tombstone key
   * (measured on Node 20), so about 15 MB and 9 MB. A key that is not kept costs one Redis round trip when read.
   */
  maxEntries?: number | undefined
  /**
   * Called when the view becomes current (its subscription is confirmed), is lost (it is cleared,
   * and reads go to Redis until it is current again) and when it applies a change another
   * instance (or this one) announced; for metrics and logs. Must not throw.
   */
  onEvent?: ((event: LocalViewEvent) => void) | undefined
}

/** What {@link LocalViewOptions.onEvent} is told. */
export type LocalViewEvent =
  | { type: 'current' }
  | { type: 'lost'; reason: string }
  | { type: 'change'; kind: 'revocation' | 'tombstone'; keys: number }

export const DEFAULT_MAX_ENTRIES = 50_000

interface ViewSettings {
  maxEntries: number
  onEvent: (event: LocalViewEvent) => void
}

/** Resolves `options.localView`: `false` turns the view off; `undefined` is the default view. */
export function localViewSettings(value: unknown): ViewSettings | false {
  if (value === false) return false
  const known = ['maxEntries', 'onEvent']
  const options = objectOption(value, 'options.localView', known, '"options.localView" (or false)')
  const maxEntries = options?.maxEntries ?? DEFAULT_MAX_ENTRIES
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalidArg('options.localView.maxEntries', 'a positive integer', maxEntries)
  }
  const onEvent = options?.onEvent ?? (() => undefined)
  if (typeof onEvent !== 'function') throw invalidArg('options.localView.onEvent', 'a function', onEvent)
  return { maxEntries, onEvent: onEvent as ViewSettings['onEvent'] }
}

/**
 * Guard's two reads through the view; `fetch` is the plain Redis read of the same keys, used while
 * the view is not current (one function for every call, so a read the view answers allocates none).
 */
export interface StoreView {
  revokedAt(
    keys: readonly string[],
    fetch: (keys: readonly string[]) => Promise<number | undefined>,
  ): Awaitable<number | undefined>
  isBuried(key: string, fetch: (key: string) => Promise<boolean>): Awaitable<boolean>
  apply(change: Change): void
  close(): void
}

/** The view of one store, or `undefined` when it is turned off or the client cannot subscribe. */
export function storeView(
  channel: Channel | undefined,
  run: ScriptRunner,
  settings: ViewSettings | false,
): StoreView | undefined {
  if (settings === false || !channel) return undefined
  const revocations = new LocalView(settings.maxEntries)
  const tombstones = new LocalView(settings.maxEntries)
  /** Reads in flight, shared by the requests that need the same key meanwhile. */
  const loading = new Map<string, { ticket: Load; read: Promise<number | undefined> }>()
  let unlisten: (() => void) | undefined
  let closed = false

  const start = (): void => {
    if (unlisten || closed) return
    unlisten = channel.listen({
      message(text) {
        const change = parseChange(text)
        if (!change || 'h' in change) return
        apply(change)
        const revocation = 'r' in change
        const keys = revocation ? change.r.length : change.b.length
        settings.onEvent({ type: 'change', kind: revocation ? 'revocation' : 'tombstone', keys })
      },
      current() {
        revocations.trust()
        tombstones.trust()
        settings.onEvent({ type: 'current' })
      },
      lost(reason) {
        revocations.drop()
        tombstones.drop()
        settings.onEvent({ type: 'lost', reason })
      },
    })
  }

  function apply(change: Change): void {
    const now = performance.now()
    const expiresAt = now + change.t
    if ('r' in change) for (const key of change.r) revocations.revoked(key, change.a, expiresAt, now)
    else for (const key of change.b) tombstones.replaced(key, 1, expiresAt, now)
  }

  function load(view: LocalView, key: string, operation: string): Promise<number | undefined> {
    // A read that a change of its key overtook may predate the change: later requests read anew.
    const shared = loading.get(key)
    if (shared && view.fresh(shared.ticket)) return shared.read
    const ticket = view.beginLoad(key)
    const read = run(scripts.viewLoad, key, []).then(
      (reply) => {
        const [value, expiresAt] = loaded(reply)
        view.endLoad(key, ticket, value, expiresAt)
        return value
      },
      (error: unknown) => {
        view.abandonLoad(key, ticket)
        throw asLogoutError('ERR_STORE', `Redis store ${operation} failed`, error)
      },
    )
    const entry = { ticket, read: read.finally(() => loading.get(key) === entry && loading.delete(key)) }
    loading.set(key, entry)
    return entry.read
  }

  return {
    revokedAt(keys, fetch) {
      start()
      if (!revocations.trusted) return fetch(keys)
      const now = performance.now()
      let latest: number | undefined
      const missing: string[] = []
      for (const key of keys) {
        const found = revocations.lookup(key, now)
        if (!found.hit) missing.push(key)
        else if (found.value !== undefined) latest = Math.max(latest ?? found.value, found.value)
      }
      if (missing.length === 0) return latest
      return Promise.all(missing.map((key) => load(revocations, key, 'revokedAt'))).then((values) => {
        const known = [latest, ...values].filter((v): v is number => v !== undefined)
        return known.length === 0 ? undefined : Math.max(...known)
      })
    },
    isBuried(key, fetch) {
      start()
      if (!tombstones.trusted) return fetch(key)
      const found = tombstones.lookup(key, performance.now())
      if (found.hit) return found.value !== undefined
      return load(tombstones, key, 'isBuried').then((value) => value !== undefined)
    },
    apply,
    close() {
      closed = true
      unlisten?.()
      revocations.drop()
      tombstones.drop()
    },
  }
}

/** The load script's reply: the value (a number) and its expiry on the local clock. */
function loaded(reply: unknown): [number | undefined, number] {
  const [raw, ttl] = Array.isArray(reply) ? (reply as unknown[]) : []
  const value = typeof raw === 'string' ? Number(raw) : undefined
  const pttl = Number(ttl)
  if (value === undefined || !Number.isFinite(value)) return [undefined, Infinity]
  // PTTL -1 means no expiry; this store never writes one, but then none is the truth.
  return [value, pttl >= 0 ? performance.now() + pttl : Infinity]
}
