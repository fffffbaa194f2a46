import { memoryStore } from '../../lib/index.js'
import type { Store } from '../../lib/index.js'

const ISS = 'https://idp.test/'
const link = (store: Store, sessionId: string, sid: string, ttl = 3600, sub?: string) =>
  store.link({ iss: ISS, sid, sub, sessionId, at: Date.now() }, ttl)
const take = (store: Store, sid: string) => store.take({ iss: ISS, sid, linkedBefore: Date.now() })

const stores: Store[] = []
function track(store: Store): Store {
  stores.push(store)
  return store
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close?.()))
  jest.useRealTimers()
  jest.restoreAllMocks()
})

type Iterable = Map<unknown, unknown> | Set<unknown>
const ITERATORS = ['entries', 'keys', 'values', 'forEach', Symbol.iterator] as const

/** Records every iteration of a Map or Set holding more than `threshold` entries while `fn` runs. */
function largeIterations(threshold: number, fn: () => unknown): number {
  let count = 0
  const spies = [Map.prototype, Set.prototype].flatMap((proto) =>
    ITERATORS.map((name) => {
      const original = (proto as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[name]!
      return jest.spyOn(proto as never, name as never).mockImplementation(function (
        this: Iterable,
        ...args: unknown[]
      ) {
        if (this.size > threshold) count += 1
        return original.apply(this, args)
      } as never)
    }),
  )
  try {
    fn()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  return count
}

describe('memoryStore', () => {
  it('finds the sessions of one sid by index, never by scanning the other sessions', async () => {
    const store = track(memoryStore())
    for (let i = 0; i < 100_000; i++) await link(store, `other-${i}`, `sid-${i}`, 3600, 'crowd')
    await link(store, 'mine-1', 'target')
    await link(store, 'mine-2', 'target')
    let taken: string[] = []
    const iterations = largeIterations(1000, () => {
      taken = store.take({ iss: ISS, sid: 'target', linkedBefore: Date.now() }) as string[]
    })
    expect(taken.sort()).toEqual(['mine-1', 'mine-2'])
    expect(iterations).toBe(0)
    expect(await take(store, 'sid-99999')).toEqual(['other-99999'])
    // The probe does see a scan: taking all 99 999 sessions of one user walks its index entry.
    expect(
      largeIterations(1000, () => store.take({ iss: ISS, sub: 'crowd', linkedBefore: Date.now() })),
    ).toBeGreaterThan(0)
    // The same lookup with one other session answers the same: cost is per sid, not per store.
    const small = track(memoryStore())
    await link(small, 'other', 'sid-0')
    await link(small, 'mine-1', 'target')
    expect(await take(small, 'target')).toEqual(['mine-1'])
  })

  it('expires links, revocations and token ids after their ttl', async () => {
    jest.useFakeTimers()
    const store = track(memoryStore())
    const start = Date.now()
    await link(store, 's1', 'short', 10)
    await link(store, 's2', 'long', 1000)
    await store.revoke({ iss: ISS, sid: 'short' }, start, 10)
    expect(await store.claimJti(ISS, 'jti-1', 10)).toBe(true)
    expect(await store.claimJti(ISS, 'jti-1', 10)).toBe(false)
    await jest.advanceTimersByTimeAsync(11_000)
    expect(await take(store, 'short')).toEqual([])
    expect(await take(store, 'long')).toEqual(['s2'])
    expect(await store.revokedAt({ iss: ISS, sid: 'short' })).toBeUndefined()
    expect(await store.claimJti(ISS, 'jti-1', 10)).toBe(true)
  })

  it('keeps at most maxEntries of each kind, dropping the oldest first', async () => {
    const store = track(memoryStore({ maxEntries: 3 }))
    for (const n of [1, 2, 3, 4]) await link(store, `s${n}`, `sid-${n}`, 3600, 'user')
    expect(await take(store, 'sid-1')).toEqual([])
    expect(await store.take({ iss: ISS, sub: 'user', linkedBefore: Date.now() })).toEqual(['s2', 's3', 's4'])
    for (const n of [1, 2, 3, 4]) await store.revoke({ iss: ISS, sid: `r-${n}` }, 1000 + n, 3600)
    expect(await store.revokedAt({ iss: ISS, sid: 'r-1' })).toBeUndefined()
    expect(await store.revokedAt({ iss: ISS, sid: 'r-4' })).toBe(1004)
    for (const n of [1, 2, 3, 4]) expect(await store.claimJti(ISS, `j-${n}`, 3600)).toBe(true)
    expect(await store.claimJti(ISS, 'j-1', 3600)).toBe(true)
    expect(await store.claimJti(ISS, 'j-4', 3600)).toBe(false)
  })

  it('refuses a bad maxEntries or sweepInterval', () => {
    for (const options of [
      { maxEntries: 0 },
      { maxEntries: 1.5 },
      { sweepInterval: 0 },
      { sweepInterval: -1 },
    ]) {
      let error: unknown
      try {
        memoryStore(options)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(TypeError)
      const name = Object.keys(options)[0]!
      expect(error).toMatchObject({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining(`"options.${name}"`),
      })
    }
  })

  it('runs its sweep on an unref()ed timer, so it never keeps the process alive, and stops on close()', async () => {
    const setInterval = jest.spyOn(global, 'setInterval')
    const clearInterval = jest.spyOn(global, 'clearInterval')
    const store = memoryStore()
    const timer = setInterval.mock.results.at(-1)!.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(false)
    await store.close?.()
    expect(clearInterval).toHaveBeenCalledWith(timer)
  })

  it('sweeps expired records in chunks, freeing room before the bound evicts live ones', async () => {
    jest.useFakeTimers()
    const size = 25_000
    const store = track(memoryStore({ maxEntries: size + 1, sweepInterval: 60 }))
    await link(store, 'keeper', 'keeper', 86_400)
    for (let i = 0; i < size; i++) await link(store, `old-${i}`, `old-${i}`, 30)
    // Past the ttl and one sweep; the sweep yields between chunks of 10 000 with setImmediate.
    await jest.advanceTimersByTimeAsync(61_000)
    // Had the sweep stopped early, filling the store again would evict the oldest live record.
    for (let i = 0; i < size; i++) await link(store, `new-${i}`, `new-${i}`, 86_400)
    expect(await take(store, 'keeper')).toEqual(['keeper'])
    expect(await take(store, `new-${size - 1}`)).toEqual([`new-${size - 1}`])
  })
})
