/** Ends the requesting browser's session: the one path of the logout route, the front-channel and guard. */
import type { ServerResponse } from 'node:http'
import createDebug from 'debug'
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { RequestContext } from '../request/context.js'
import { appendSetCookie, deletionOf } from '../request/cookies.js'
import type { CookieSpec } from '../request/cookies.js'
import { destroyCurrent, sessionCookie, sessionStoreFor } from '../request/session.js'
import type { Subject } from '../stores/contract.js'
import { collect } from './collect.js'
import { invalidate } from './subject.js'
import { bury } from './tombstones.js'

const debug = createDebug('sso-logout:local')

/** What ending a browser's session did. */
export interface BrowserLogout {
  /** Sessions destroyed: the browser's own (when it was stored) and every linked one. */
  destroyed: number
  /** Other services' sessions handed to them to destroy. */
  handedOver: number
  /** Store failures (and linked-session failures) that did not stop the logout. */
  errors: LogoutError[]
  /** The browser's own session could not be destroyed. */
  sessionStoreError?: LogoutError
}

/** What else to end with the browser's session, and which cookies to clear. */
export interface BrowserLogoutOptions {
  /** The IdP session (or user) to end everywhere too: revocation and every linked session. */
  subject?: Subject
  /** Also end every session of `subject.sub`. */
  bySub?: boolean
  /**
   * `'all'`: the configured cookies, the session cookie and `Clear-Site-Data` (a logout).
   * `'session'`: the session cookie only (`guard` ending a session it found logged out).
   */
  clear: 'all' | 'session'
}

/**
 * Ends the browser's own session: buries it (a request of this session still in flight must not
 * write it back), ends `subject` when given, drops the session's link, destroys the session, and
 * clears cookies with the attributes they were set with.
 */
export async function endBrowserSession(
  config: Config,
  ctx: RequestContext,
  res: ServerResponse,
  options: BrowserLogoutOptions,
): Promise<BrowserLogout> {
  const cookie = config.clearSessionCookie || options.clear === 'session' ? sessionCookie(ctx) : undefined
  const ownId = ctx.storedSessionId
  // A cookie-only session that came with the request ends here too; one its library just made up does not count.
  const ownCookieSession = ctx.cookieSessionOnRequest
  const errors: LogoutError[] = []
  const now = Date.now()
  const invalidation = options.subject
    ? invalidate(config, options.subject, {
        at: now,
        linkedBefore: now,
        bySub: options.bySub ?? false,
        sessionStore: sessionStoreFor(config, ctx),
        ownSessionId: ownId,
      })
    : { destroyed: [], handedOver: [], errors: [], tookOwn: false, ownBuried: false }
  const linked = invalidation instanceof Promise ? await invalidation : invalidation
  // The own id is buried before anything is destroyed. The take buries every session it takes in
  // the step that takes it (TakeQuery.bury), the own one among them when it is linked to the
  // subject (the usual logout), so a tombstone written here too would be a second write of the same
  // key, one more Redis command per logout: it is written only for an own session the take did not
  // bury (no subject, linked to another sid, never linked, a take that failed or a store that does
  // not bury). After a failed take that is a second wait on a stuck store; the tombstone is worth
  // it, since on a Redis Cluster its slot may be on a master that still answers.
  if (ownId !== undefined && !linked.ownBuried) {
    const buried = bury(config, [ownId], errors)
    if (buried instanceof Promise) await buried
  }
  let sessionStoreError = linked.errors.find((e) => e.code === 'ERR_SESSION_STORE')
  errors.push(...linked.errors.filter((e) => e !== sessionStoreError))
  // A session linked to another sid (or never linked) still has its own link to drop; skip it when
  // the store just failed, rather than wait for it to fail again.
  if (ownId !== undefined && !linked.tookOwn && errors.length === 0) {
    const forgotten = collect(
      () => config.store.unlink(ownId),
      undefined,
      errors,
      'Removing the session link failed',
    )
    if (forgotten instanceof Promise) await forgotten
  }
  try {
    await destroyCurrent(ctx)
  } catch (err) {
    sessionStoreError ??= asLogoutError('ERR_SESSION_STORE', 'Destroying the current session failed', err)
  }
  clearCookies(config, res, options.clear, cookie)
  const destroyed = linked.destroyed.length + (ownId !== undefined || ownCookieSession ? 1 : 0)
  if (debug.enabled) debug('local logout: %d session(s)', destroyed)
  return { destroyed, handedOver: linked.handedOver.length, errors, sessionStoreError }
}

/** Deletes each cookie with the Path/Domain it was set with (RFC 6265bis §3.1) and sends Clear-Site-Data. */
function clearCookies(
  config: Config,
  res: ServerResponse,
  clear: BrowserLogoutOptions['clear'],
  session: CookieSpec | undefined,
): void {
  const cleared = session ? [deletionOf(session)] : []
  if (clear === 'session') return appendSetCookie(res, cleared)
  appendSetCookie(res, config.clearedCookies.length === 0 ? cleared : [...config.clearedCookies, ...cleared])
  if (config.clearSiteData) res.setHeader('Clear-Site-Data', config.clearSiteData)
}
