/** Expiry for the memory store: the bound per kind of record, and the sweep of expired records. */

/** Anything the memory store keeps: every record has an expiry, in ms since the epoch. */
export interface Expiring {
  expiresAt: number
}

const SWEEP_CHUNK = 10_000

/** Makes room for one more entry by dropping the oldest (Maps iterate in insertion order). */
export function bounded<V>(
  map: Map<string, V>,
  max: number,
  onEvict?: (key: string, value: V) => void,
): void {
  while (map.size >= max) {
    const oldest = map.entries().next().value
    if (!oldest) return
    if (onEvict) onEvict(oldest[0], oldest[1])
    else map.delete(oldest[0])
  }
}

/** Drops expired entries in chunks, yielding between chunks so a large store never blocks requests. */
export function sweep<L extends Expiring>(
  maps: [Map<string, L>, ...Array<Map<string, Expiring>>],
  unlinkEntry: (id: string, entry: L) => void,
): void {
  const now = Date.now()
  const [links, ...rest] = maps
  const jobs: Array<() => Iterator<[string, Expiring]>> = [
    () => links.entries(),
    ...rest.map((m) => () => m.entries()),
  ]
  let job = 0
  let iterator = jobs[0]!()
  const step = (): void => {
    for (let n = 0; n < SWEEP_CHUNK; n++) {
      const next = iterator.next()
      if (next.done) {
        job += 1
        const make = jobs[job]
        if (!make) return
        iterator = make()
        continue
      }
      const [key, entry] = next.value
      if (entry.expiresAt > now) continue
      if (job === 0) unlinkEntry(key, entry as L)
      else maps[job]!.delete(key)
    }
    setImmediate(step).unref()
  }
  step()
}
