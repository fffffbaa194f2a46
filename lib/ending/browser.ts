import type { ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { Config } from '../options/config.js'
import { appendSetCookie, serializeCookie } from '../request/cookies.js'
import type { CookieSpec } from '../request/cookies.js'
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import { invalidate } from './subject.js'
import type { SessionRequest } from '../request/session.js'
import { destroyCurrent, sessionCookie, sessionStoreFor, storedSessionId } from '../request/session.js'
import type { Subject } from '../stores/contract.js'
import { bury } from './tombstones.js'

const debug = createDebug('sso-logout:local')

/** What logging a browser out locally did. */
export interface LocalLogout {
  /** Sessions destroyed: the browser's own (when it was stored) and every linked one. */
  destroyed: number
  /** Store failures (and linked-session failures) that did not stop the logout. */
  errors: LogoutError[]
  /** The browser's own session could not be destroyed. */
  sessionStoreError?: LogoutError
}

/**
 * Logs the requesting browser out locally, shared by the logout route and the front-channel
 * receiver: ends `subject` (revocation, linked sessions) when given, buries and destroys the
 * browser's own session, and clears its cookies with the attributes they were set with.
 */
export async function logoutLocally(
  config: Config,
  req: SessionRequest,
  res: ServerResponse,
  subject: Subject | undefined,
  bySub: boolean,
): Promise<LocalLogout> {
  const sessionCookieSpec = config.clearSessionCookie ? sessionCookie(req) : undefined
  const ownId = storedSessionId(req)
  const errors: LogoutError[] = []
  const now = Date.now()
  // The own id is buried (a request of this session still in flight must not write it back) while
  // the index work runs: a stuck store then costs one client timeout, not one per command.
  const burying = ownId === undefined ? undefined : bury(config, [ownId], errors)
  const linked = subject
    ? await invalidate(config, subject, {
        at: now,
        linkedBefore: now,
        bySub,
        sessionStore: sessionStoreFor(config, req),
        ownSessionId: ownId,
      })
    : { destroyed: [], errors: [], tookOwn: false }
  await burying
  let sessionStoreError = linked.errors.find((e) => e.code === 'ERR_SESSION_STORE')
  errors.push(...linked.errors.filter((e) => e !== sessionStoreError))
  // A session linked to another sid (or never linked) still has its own link to drop; skip it when
  // the store just failed, rather than wait for it to fail again.
  if (ownId !== undefined && !linked.tookOwn && errors.length === 0) await forget(config, ownId, errors)
  try {
    await destroyCurrent(req)
  } catch (err) {
    sessionStoreError ??= asLogoutError('ERR_SESSION_STORE', 'Destroying the current session failed', err)
  }
  const cleared = sessionCookieSpec ? [serializeCookie(sessionCookieSpec, '', 'expired')] : []
  appendSetCookie(res, config.clearedCookies.length === 0 ? cleared : [...config.clearedCookies, ...cleared])
  if (config.clearSiteData) res.setHeader('Clear-Site-Data', config.clearSiteData)
  const destroyed = linked.destroyed.length + (ownId === undefined ? 0 : 1)
  debug('local logout: %d session(s)', destroyed)
  return { destroyed, errors, sessionStoreError }
}

async function forget(config: Config, sessionId: string, errors: LogoutError[]): Promise<void> {
  try {
    await config.store.unlink(sessionId)
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Removing the session link failed', err))
  }
}

/** Deletes each cookie with the Path/Domain it was set with (RFC 6265bis §3.1) and sends Clear-Site-Data. */
export function clearCookies(
  config: Pick<Config, 'clearSiteData'>,
  res: ServerResponse,
  cookies: CookieSpec[],
): void {
  appendSetCookie(
    res,
    cookies.map((c) => serializeCookie(c, '', 'expired')),
  )
  if (config.clearSiteData) res.setHeader('Clear-Site-Data', config.clearSiteData)
}
