/** One instance's bounded copy of revocation and tombstone keys, trusted only while it is current. */

/** What the view knows of one key: its value (`undefined`: the key did not exist) and its expiry. */
interface Entry {
  value: number | undefined
  /** On this process' monotonic clock (`performance.now()`); `Infinity` for an absent key. */
  expiresAt: number
}

/** A look-up's result: `hit` false when the view cannot answer and Redis must be asked. */
export type Lookup = { hit: true; value: number | undefined } | { hit: false }

const MISS: Lookup = { hit: false }

/** A kept entry, and whether it was read since eviction last passed it over. */
interface Slot {
  entry: Entry
  read: boolean
}

/**
 * At most `max` keys, evicted in "second chance" order, close to least recently used: the oldest
 * key goes first unless it was read since it was inserted or last passed over, in which case it
 * moves to the back and the next oldest is considered. A read only sets a flag, so guard's hot
 * path (every request reads two or three keys) does not reorder the map.
 */
class Lru {
  private readonly entries = new Map<string, Slot>()
  constructor(private readonly max: number) {}

  get(key: string): Entry | undefined {
    const slot = this.entries.get(key)
    if (!slot) return undefined
    slot.read = true
    return slot.entry
  }

  set(key: string, entry: Entry): void {
    this.entries.delete(key)
    this.entries.set(key, { entry, read: false })
    // Each pass clears the flag it skips, so this ends within one round of the map.
    while (this.entries.size > this.max) {
      const [oldest, slot] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      if (slot.read) this.entries.set(oldest, { entry: slot.entry, read: false })
    }
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}

/** A load in flight: set `dirty` when a change of its key arrives before its reply. */
export interface Load {
  epoch: number
  dirty: boolean
}

/**
 * The view of one kind of key (revocations, or tombstones: each bounded on its own, so tombstones,
 * which unauthenticated requests can cause, never evict a revocation). It answers only while
 * `current`, that is while the subscription that announces every change is known to be in place;
 * losing it clears the view and starts a new epoch, so no answer loaded before the loss is kept.
 *
 * Why its answers are right:
 * - An entry is written by a load (a read of Redis made while current) or by a change announced
 *   on the subscription. Every write of these keys is announced after it succeeds, so a key read
 *   as absent stays absent in Redis until its announcement arrives.
 * - A load and an announcement travel on different connections, so an announcement may overtake
 *   the reply of a read made before its write: a load whose key changed, or whose epoch ended,
 *   while it was in flight answers its own request but is not kept.
 * - Expiries are kept on the local clock from the moment a reply or announcement arrives, so they
 *   are never earlier than Redis' own; a key past its local expiry is therefore absent in Redis
 *   too (any later write would have been announced).
 */
export class LocalView {
  private readonly entries: Lru
  private readonly loads = new Map<string, Load>()
  private epoch = 0
  private current = false

  constructor(max: number) {
    this.entries = new Lru(max)
  }

  /** The subscription is confirmed: announcements from now on are received. */
  trust(): void {
    this.current = true
  }

  /** The subscription was lost or is in doubt: forget everything until it is confirmed again. */
  drop(): void {
    this.current = false
    this.epoch++
    this.entries.clear()
    this.loads.clear()
  }

  get trusted(): boolean {
    return this.current
  }

  get size(): number {
    return this.entries.size
  }

  lookup(key: string, now: number): Lookup {
    if (!this.current) return MISS
    const entry = this.entries.get(key)
    if (!entry) return MISS
    return { hit: true, value: entry.expiresAt > now ? entry.value : undefined }
  }

  /** Starts a load of `key`; begun while the view is not current, it is never kept. */
  beginLoad(key: string): Load {
    const load = { epoch: this.epoch, dirty: !this.current }
    this.loads.set(key, load)
    return load
  }

  /** Whether a load's reply may still answer a request that arrives now (no change overtook it). */
  fresh(load: Load): boolean {
    return !load.dirty && load.epoch === this.epoch && this.current
  }

  /** Keeps a load's reply unless the view changed epoch or the key changed while it was in flight. */
  endLoad(key: string, load: Load, value: number | undefined, expiresAt: number): void {
    if (this.loads.get(key) === load) this.loads.delete(key)
    if (!this.fresh(load)) return
    this.entries.set(key, { value, expiresAt: value === undefined ? Infinity : expiresAt })
  }

  /** A load failed: nothing is kept. */
  abandonLoad(key: string, load: Load): void {
    if (this.loads.get(key) === load) this.loads.delete(key)
  }

  /**
   * A revocation was written (`Store.revoke`: the later time and the longer life win). A key the
   * view does not hold is left unknown, since Redis may hold a later time than the one announced.
   */
  revoked(key: string, at: number, expiresAt: number, now: number): void {
    this.touched(key)
    const entry = this.entries.get(key)
    if (!entry) return
    const live = entry.value !== undefined && entry.expiresAt > now
    if (live) {
      this.entries.set(key, {
        value: Math.max(entry.value!, at),
        expiresAt: Math.max(entry.expiresAt, expiresAt),
      })
    } else if (expiresAt > now) {
      this.entries.set(key, { value: at, expiresAt })
    }
  }

  /** A key was set to `value` with a new expiry, whatever it held (a tombstone). */
  replaced(key: string, value: number, expiresAt: number, now: number): void {
    this.touched(key)
    // Outside an epoch a later write may be missed, which would leave this expiry too early.
    if (this.current && expiresAt > now) this.entries.set(key, { value, expiresAt })
  }

  private touched(key: string): void {
    const load = this.loads.get(key)
    if (load) load.dirty = true
  }
}
