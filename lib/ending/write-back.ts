/** Keeps express-session from writing back a session that a logout ended while a request was in flight. */
import createDebug from 'debug'
import type { SessionStoreLike } from '../options/types.js'
import type { Store } from '../stores/contract.js'

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
    buriedIn(stores, sid).then((buried) => {
      if (buried) {
        debug('dropped the write of a logged-out session')
        return done()
      }
      write(sid, session, (err) => {
        if (err) return done(err)
        // A store did not answer a moment ago: asking again would hold the response for a second
        // client timeout while Redis is stuck.
        if (buried === undefined) return done()
        void buriedIn(stores, sid).then((late) => (late ? target.destroy(sid, () => done()) : done()))
      })
    }, done)
  }
}

/** Whether the id is buried in any of the stores; `undefined` when one could not tell and none said yes. */
async function buriedIn(stores: ReadonlySet<Store>, sessionId: string): Promise<boolean | undefined> {
  const answers = await Promise.all([...stores].map((store) => checked(store, sessionId)))
  if (answers.includes(true)) return true
  return answers.includes(undefined) ? undefined : false
}

async function checked(store: Store, sessionId: string): Promise<boolean | undefined> {
  try {
    // Fresh: the second check must see a logout another instance made during the write.
    return await store.isBuried(sessionId, { fresh: true })
  } catch (err) {
    debug('tombstone lookup failed: %O', err)
    return undefined
  }
}
