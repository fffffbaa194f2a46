import { LocalView } from '../../../lib/stores/redis/local-view.js'

// The view's bookkeeping on its own, with the clock passed in: the orders of events a real Redis
// produces only by chance (a change that overtakes a read's reply, a loss during a read).

const NOW = 1_000

function currentView(max = 10): LocalView {
  const view = new LocalView(max)
  view.trust()
  return view
}

describe('LocalView', () => {
  it('answers nothing until its subscription is confirmed, and nothing after it is lost', () => {
    const view = new LocalView(10)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
    view.trust()
    view.endLoad('k', view.beginLoad('k'), undefined, Infinity)
    expect(view.lookup('k', NOW)).toEqual({ hit: true, value: undefined })
    view.drop()
    expect(view.trusted).toBe(false)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
    view.trust()
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
  })

  it('does not keep a read whose key changed while it was in flight', () => {
    const view = currentView()
    const load = view.beginLoad('k')
    view.revoked('k', 5000, NOW + 60_000, NOW)
    expect(view.fresh(load)).toBe(false)
    view.endLoad('k', load, undefined, Infinity)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
  })

  it('does not keep a read that began before a loss, even once current again', () => {
    const view = currentView()
    const load = view.beginLoad('k')
    view.drop()
    view.trust()
    view.endLoad('k', load, undefined, Infinity)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
  })

  it('does not keep a read that began while not current', () => {
    const view = new LocalView(10)
    const load = view.beginLoad('k')
    view.trust()
    view.endLoad('k', load, undefined, Infinity)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
  })

  it('keeps the later time and the longer life of a revocation, as the store does', () => {
    const view = currentView()
    view.endLoad('k', view.beginLoad('k'), 5000, NOW + 100)
    view.revoked('k', 3000, NOW + 50_000, NOW)
    expect(view.lookup('k', NOW + 1_000)).toEqual({ hit: true, value: 5000 })
    view.revoked('k', 8000, NOW + 10, NOW)
    expect(view.lookup('k', NOW + 40_000)).toEqual({ hit: true, value: 8000 })
    expect(view.lookup('k', NOW + 50_000)).toEqual({ hit: true, value: undefined })
  })

  it('lets an expired revocation be replaced by an earlier time (it is gone from Redis too)', () => {
    const view = currentView()
    view.endLoad('k', view.beginLoad('k'), 9000, NOW + 150)
    view.revoked('k', 2000, NOW + 60_000, NOW + 300)
    expect(view.lookup('k', NOW + 300)).toEqual({ hit: true, value: 2000 })
  })

  it('leaves a revocation of a key it does not hold unknown', () => {
    const view = currentView()
    view.revoked('k', 2000, NOW + 60_000, NOW)
    expect(view.lookup('k', NOW)).toEqual({ hit: false })
  })

  it('records a tombstone whatever it held, only while current', () => {
    const view = currentView()
    view.replaced('t', 1, NOW + 100, NOW)
    expect(view.lookup('t', NOW + 50)).toEqual({ hit: true, value: 1 })
    expect(view.lookup('t', NOW + 100)).toEqual({ hit: true, value: undefined })
    view.drop()
    view.replaced('u', 1, NOW + 100, NOW)
    view.trust()
    expect(view.lookup('u', NOW)).toEqual({ hit: false })
  })

  it('evicts the least recently used key beyond its cap', () => {
    const view = currentView(2)
    for (const key of ['a', 'b']) view.endLoad(key, view.beginLoad(key), undefined, Infinity)
    expect(view.lookup('a', NOW).hit).toBe(true)
    view.endLoad('c', view.beginLoad('c'), undefined, Infinity)
    expect(view.size).toBe(2)
    expect(view.lookup('b', NOW)).toEqual({ hit: false })
    expect(view.lookup('a', NOW).hit).toBe(true)
    expect(view.lookup('c', NOW).hit).toBe(true)
  })
})
