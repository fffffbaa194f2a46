/** express-session, read and driven without importing it: the session, its cookie, its store. */
import type { IncomingMessage } from 'node:http'
import { LogoutError } from '../errors.js'
import type { SessionStoreLike } from '../options/types.js'
import type { Subject } from '../stores/contract.js'
import type { RequestContext } from './context.js'
import type { CookieSpec } from './cookies.js'
import { isCookieName } from './cookies.js'

/** The field of `req.session` where the link to the IdP session is remembered. */
export const LINK_FIELD = 'ssoLogout'
/** The field of `req.session` naming a token that was checked and could not link (so it is not checked again). */
export const CHECKED_FIELD = 'ssoLogoutChecked'

/** What is remembered in the session once it is linked (so the token is not re-verified each request). */
export interface SessionLink extends Subject {
  /** Link time, ms. */
  at: number
  /** The fingerprint of the token that made the link: a different token is verified again. */
  tok?: string
}

/** An express-session session, as far as sso-logout uses it. */
export type Session = Record<string, unknown> & {
  destroy?: (callback: (err?: unknown) => void) => void
  save?: (callback?: (err?: unknown) => void) => void
  cookie?: {
    path?: string
    domain?: string
    secure?: boolean | 'auto'
    httpOnly?: boolean
    sameSite?: unknown
    partitioned?: boolean
  }
}

/** The express-session objects a request may carry. */
export interface SessionRequest extends IncomingMessage {
  session?: Session
  sessionID?: string
  sessionStore?: SessionStoreLike
}

const learnedStores = new WeakMap<object, SessionStoreLike>()

/**
 * The express-session store to destroy sessions in: `options.sessionStore`, else the one
 * express-session put on the request (`req.sessionStore`). The latter is remembered per middleware,
 * so `revoke()`, which has no request, destroys sessions in the store the app actually uses.
 */
export function sessionStoreFor(
  config: { sessionStore?: SessionStoreLike },
  ctx?: RequestContext,
): SessionStoreLike | undefined {
  if (config.sessionStore) return config.sessionStore
  const seen = ctx?.sessionStore
  if (seen) {
    learnedStores.set(config, seen)
    return seen
  }
  return learnedStores.get(config)
}

/** Destroys the request's own session (express-session clears `req.session`). */
export function destroyCurrent(ctx: RequestContext): Promise<void> {
  const session = ctx.session
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
export function sessionCookie(ctx: RequestContext): CookieSpec | undefined {
  const session = ctx.session
  const id = ctx.sessionIdOnRequest
  if (!session || id === undefined) return undefined
  const prefix = `s:${id}.`
  let name = 'connect.sid'
  for (const [cookieName, value] of ctx.cookieHeader()) {
    if (value.startsWith(prefix) && isCookieName(cookieName)) name = cookieName
  }
  const c = session.cookie ?? {}
  const sameSite =
    c.sameSite === true ? 'strict' : typeof c.sameSite === 'string' ? c.sameSite.toLowerCase() : undefined
  return {
    name,
    path: c.path ?? '/',
    domain: c.domain,
    secure: c.secure === true || (c.secure === 'auto' && isEncrypted(ctx.req)),
    httpOnly: c.httpOnly !== false,
    sameSite: sameSite === 'strict' || sameSite === 'lax' || sameSite === 'none' ? sameSite : undefined,
    // express-session 1.18+ sets `Partitioned` (CHIPS) when `cookie.partitioned` is true.
    partitioned: c.partitioned === true,
  }
}

function isEncrypted(req: IncomingMessage): boolean {
  return Boolean((req.socket as { encrypted?: boolean }).encrypted)
}
