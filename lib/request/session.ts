import type { IncomingMessage } from 'node:http'
import type { CookieSpec } from './cookies.js'
import { isCookieName, parseCookieHeader } from './cookies.js'
import { LogoutError } from '../errors.js'
import type { SessionStoreLike } from '../options/types.js'

/** The field of `req.session` where the link to the IdP session is remembered. */
export const LINK_FIELD = 'ssoLogout'

/** What is remembered in the session once it is linked (so the token is not re-verified each request). */
export interface SessionLink {
  iss: string
  sid?: string
  sub?: string
  /** Link time, ms. */
  at: number
}

/** The express-session objects a request may carry, read without importing express-session. */
export interface SessionRequest extends IncomingMessage {
  session?: Record<string, unknown> & {
    destroy?: (callback: (err?: unknown) => void) => void
    cookie?: {
      path?: string
      domain?: string
      secure?: boolean | 'auto'
      httpOnly?: boolean
      sameSite?: unknown
    }
  }
  sessionID?: string
  sessionStore?: SessionStoreLike
}

export function currentSession(req: SessionRequest): SessionRequest['session'] | undefined {
  const s = req.session
  return s && typeof s === 'object' && typeof s.destroy === 'function' ? s : undefined
}

export function sessionLink(req: SessionRequest): SessionLink | undefined {
  const link = currentSession(req)?.[LINK_FIELD] as SessionLink | undefined
  return link && typeof link === 'object' && typeof link.iss === 'string' && typeof link.at === 'number'
    ? link
    : undefined
}

/**
 * The id of the request's session when that session came from the store. express-session gives
 * every request a session, and a fresh one (never saved) must not count as destroyed. A stored
 * session is one whose id the request's cookie carried, signed as `s:<id>.<signature>`; when the
 * cookie named an unknown id, express-session generated a new id and the cookie no longer matches.
 */
const parsedCookies = new WeakMap<IncomingMessage, Map<string, string>>()

/** The request's cookies, parsed once per request however many helpers ask. */
function cookiesOf(req: IncomingMessage): Map<string, string> {
  let cookies = parsedCookies.get(req)
  if (!cookies) {
    cookies = parseCookieHeader(req.headers.cookie)
    parsedCookies.set(req, cookies)
  }
  return cookies
}

export function storedSessionId(req: SessionRequest): string | undefined {
  if (!currentSession(req) || !req.sessionID) return undefined
  const prefix = `s:${req.sessionID}.`
  for (const value of cookiesOf(req).values()) {
    if (value.startsWith(prefix)) return req.sessionID
  }
  return undefined
}

const learnedStores = new WeakMap<object, SessionStoreLike>()

/**
 * The express-session store to destroy sessions in: `options.sessionStore`, else the one
 * express-session put on the request (`req.sessionStore`). The latter is remembered per middleware,
 * so `revoke()`, which has no request, destroys sessions in the store the app actually uses.
 */
export function sessionStoreFor(
  config: { sessionStore?: SessionStoreLike },
  req?: SessionRequest,
): SessionStoreLike | undefined {
  if (config.sessionStore) return config.sessionStore
  const seen = req?.sessionStore
  if (seen && typeof seen.destroy === 'function') {
    learnedStores.set(config, seen)
    return seen
  }
  return learnedStores.get(config)
}

/** Destroys the request's own session (express-session clears `req.session`). */
export function destroyCurrent(req: SessionRequest): Promise<void> {
  const session = currentSession(req)
  if (!session) return Promise.resolve()
  return new Promise((resolve, reject) => {
    session.destroy!((err) => (err ? reject(sessionStoreError(err)) : resolve()))
  })
}

/** Destroys sessions by id in an express-session store; resolves to the number of ids handled. */
export async function destroyIds(store: SessionStoreLike, ids: readonly string[]): Promise<number> {
  await Promise.all(
    ids.map(
      (id) =>
        new Promise<void>((resolve, reject) => {
          store.destroy(id, (err?: unknown) => (err ? reject(sessionStoreError(err)) : resolve()))
        }),
    ),
  )
  return ids.length
}

function sessionStoreError(err: unknown): LogoutError {
  return new LogoutError('ERR_SESSION_STORE', 'The session store could not destroy a session', { cause: err })
}

/**
 * express-session's cookie, described so it can be cleared with the attributes it was set with.
 * express-session does not expose its cookie name; it is found as the cookie whose signed value
 * carries this session's id (`s:<id>.<signature>`), falling back to the default `connect.sid`.
 */
export function sessionCookie(req: SessionRequest): CookieSpec | undefined {
  const session = currentSession(req)
  if (!session || !req.sessionID) return undefined
  const prefix = `s:${req.sessionID}.`
  let name = 'connect.sid'
  for (const [cookieName, value] of cookiesOf(req)) {
    if (value.startsWith(prefix) && isCookieName(cookieName)) name = cookieName
  }
  const c = session.cookie ?? {}
  const sameSite =
    c.sameSite === true ? 'strict' : typeof c.sameSite === 'string' ? c.sameSite.toLowerCase() : undefined
  return {
    name,
    path: c.path ?? '/',
    domain: c.domain,
    secure: c.secure === true || (c.secure === 'auto' && isEncrypted(req)),
    httpOnly: c.httpOnly !== false,
    sameSite: sameSite === 'strict' || sameSite === 'lax' || sameSite === 'none' ? sameSite : undefined,
  }
}

function isEncrypted(req: IncomingMessage): boolean {
  return Boolean((req.socket as { encrypted?: boolean }).encrypted)
}
