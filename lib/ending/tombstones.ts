import createDebug from 'debug'
import type { Config } from '../options/config.js'
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { SessionStoreLike } from '../options/types.js'
import type { Store } from '../stores/contract.js'

const debug = createDebug('sso-logout:tombstone')

/**
 * Namespace of the tombstones in the revocation list. Issuers are https URLs (OpenID Connect Core
 * §2), so this URN can never collide with an IdP's `sid`; reusing `revoke`/`revokedAt` keeps every
 * `Store` implementation (memory, Redis, custom) working without a new method.
 */
const TOMBSTONE_ISSUER = 'urn:sso-logout:local-session'
/** Seconds a tombstone is kept: far longer than any request that was in flight at the logout. */
const TOMBSTONE_TTL = 86400

/** The express-session `Store.set` signature, as far as it is wrapped here. */
type SetFn = (sid: string, session: unknown, callback?: (err?: unknown) => void) => void
type GuardedStore = SessionStoreLike & { set?: SetFn }

const guarded = new WeakSet<object>()

/**
 * Records that local sessions were logged out, before they are destroyed. A request that was in
 * flight at the logout ends later, and express-session then writes its session back (`store.set`):
 * {@link guardSessionStore} drops such writes for buried ids. A store failure is added to `errors`
 * (reported in the logout event), never thrown: the sessions are still destroyed.
 *
 * @example
 * ```ts
 * await bury(config, [req.sessionID], errors)
 * await destroyCurrent(req)
 * ```
 */
export async function bury(
  config: Config,
  sessionIds: readonly string[],
  errors: LogoutError[],
): Promise<void> {
  const at = Date.now()
  try {
    await Promise.all(
      sessionIds.map((sid) => config.store.revoke({ iss: TOMBSTONE_ISSUER, sid }, at, TOMBSTONE_TTL)),
    )
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Recording the logged-out session ids failed', err))
  }
}

/** Whether `sessionId` was logged out within the last day. */
export async function isBuried(store: Store, sessionId: string): Promise<boolean> {
  return (await store.revokedAt({ iss: TOMBSTONE_ISSUER, sid: sessionId })) !== undefined
}

/**
 * Wraps an express-session store's `set` (once per store object) so that a logged-out session is
 * never written back: the write is skipped when the id is buried, and undone when a logout buried it
 * while the write was under way (the logout buries before it destroys, so one of the two checks
 * always sees it). When the sso-logout store cannot be read, the write goes ahead: the app must keep
 * working, and `guard` still refuses a linked session of a revoked `sid`.
 */
export function guardSessionStore(config: Config, sessionStore: SessionStoreLike): void {
  const store = sessionStore as GuardedStore
  if (guarded.has(store) || typeof store.set !== 'function') return
  guarded.add(store)
  const write = store.set.bind(store)
  store.set = function setUnlessLoggedOut(sid, session, callback) {
    const done = callback ?? (() => undefined)
    checked(config.store, sid).then((buried) => {
      if (buried) {
        debug('dropped the write of a logged-out session')
        return done()
      }
      write(sid, session, (err) => {
        if (err) return done(err)
        // The store did not answer a moment ago: asking again would hold the response for a second
        // client timeout while Redis is stuck.
        if (buried === undefined) return done()
        void checked(config.store, sid).then((late) => (late ? store.destroy(sid, () => done()) : done()))
      })
    }, done)
  }
}

/** Whether the id is buried, or `undefined` when the store could not tell. */
async function checked(store: Store, sessionId: string): Promise<boolean | undefined> {
  try {
    return await isBuried(store, sessionId)
  } catch (err) {
    debug('tombstone lookup failed: %O', err)
    return undefined
  }
}
