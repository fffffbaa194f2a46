/** Keeps express-session from writing back a session that a logout ended while a request was in flight. */
import createDebug from 'debug'
import type { SessionStoreLike } from '../options/types.js'
import type { Awaitable, Store } from '../stores/contract.js'
import { settled } from './collect.js'

const debug = createDebug('sso-logout:tombstone')

/** The express-session `Store.set` signature, as far as it is wrapped here. */
type SetFn = (sid: string, session: unknown, callback?: (err?: unknown) => void) => void
type WrappedStore = SessionStoreLike & { set?: SetFn }

/** For each wrapped session store, every sso-logout store whose tombstones it must honour. */
const protectedBy = new WeakMap<object, Set<Store>>()

/**
 * Wraps an express-session store's `set` (once per store object) so that a logged-out session is
 * never written back: the write is skipped when the id is buried in any sso-logout store that uses
 * this session store (one `logout()` per tenant or sub-app each has its own), and undone when a
 * logout buried it while the write was under way (a logout buries before it destroys, so one of the
 * two checks always sees it). When a store cannot be read, the write goes ahead: the app must keep
 * working, and `guard` still refuses a linked session of a revoked `sid`.
 */
export function protectFromWriteBack(sessionStore: SessionStoreLike, store: Store): void {
  const target = sessionStore as WrappedStore
  if (typeof target.set !== 'function') return
  const known = protectedBy.get(target)
  if (known) {
    known.add(store)
    return
  }
  const stores = new Set([store])
  protectedBy.set(target, stores)
  const write = target.set.bind(target)
  target.set = function setUnlessLoggedOut(sid, session, callback) {
    const done = callback ?? (() => undefined)
    const writeUnlessBuried = (buried: boolean | undefined): void => {
      if (buried) {
        debug('dropped the write of a logged-out session')
        return done()
      }
      write(sid, session, (err) => {
        if (err) return done(err)
        // A store did not answer a moment ago: asking again would hold the response for a second
        // client timeout while Redis is stuck.
        if (buried === undefined) return done()
        const late = buriedIn(stores, sid)
        if (late instanceof Promise) void late.then((b) => undoIfBuried(b))
        else undoIfBuried(late)
      })
    }
    const undoIfBuried = (late: boolean | undefined): void =>
      late ? target.destroy(sid, () => done()) : done()
    const buried = buriedIn(stores, sid)
    if (buried instanceof Promise) buried.then(writeUnlessBuried, done)
    else writeUnlessBuried(buried)
  }
}

/**
 * Whether the id is buried in any of the stores; `undefined` when one could not tell and none said
 * yes. Synchronous when every store answers synchronously (the memory store).
 */
function buriedIn(stores: ReadonlySet<Store>, sessionId: string): Awaitable<boolean | undefined> {
  const answers: Array<Awaitable<boolean | undefined>> = []
  for (const store of stores) answers.push(checked(store, sessionId))
  const all = settled(answers)
  return all instanceof Promise ? all.then(verdict) : verdict(all)
}

function verdict(answers: Array<boolean | undefined>): boolean | undefined {
  if (answers.includes(true)) return true
  return answers.includes(undefined) ? undefined : false
}

function checked(store: Store, sessionId: string): Awaitable<boolean | undefined> {
  try {
    // Fresh: the second check must see a logout another instance made during the write.
    const buried = store.isBuried(sessionId, { fresh: true })
    return buried instanceof Promise ? buried.catch(lookupFailed) : buried
  } catch (err) {
    return lookupFailed(err)
  }
}

function lookupFailed(err: unknown): undefined {
  debug('tombstone lookup failed: %O', err)
  return undefined
}
