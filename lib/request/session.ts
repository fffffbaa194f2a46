/**
 * The login session, read and driven without importing its library: express-session (its session,
 * cookie and store), and the two cookie-only libraries, cookie-session and express-openid-connect.
 */
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

/**
 * Which library made the request's session. express-session keeps sessions in a store, so they can
 * be destroyed by id from any request; cookie-session and express-openid-connect (without its
 * `session.store`) keep the whole session in the browser's cookie, so a logout elsewhere cannot
 * reach them: they are ended when they next come through `guard` or the logout route.
 */
export type SessionKind = 'express-session' | 'cookie-session' | 'express-openid-connect'

/** Where express-openid-connect keeps its session on the request (its `session.name`), when it is the login session. */
export interface SessionConfig {
  appSession?: string
}

/** An express-session session (or a cookie-only session's data), as far as sso-logout uses it. */
export type Session = Record<string, unknown> & {
  destroy?: (callback: (err?: unknown) => void) => void
  save?: (callback?: (err?: unknown) => void) => void
  regenerate?: (callback: (err?: unknown) => void) => void
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
  session?: Session | null
  sessionID?: string
  sessionStore?: SessionStoreLike
  /** Set by cookie-session on every request it handles. */
  sessionOptions?: unknown
}

/**
 * cookie-session's session, told apart by what cookie-session documents and express-session lacks:
 * it sets `req.sessionOptions` on every request, and its session has the `isNew` and `isPopulated`
 * flags (and no `destroy()`: it ends by `req.session = null`).
 */
export function isCookieSession(req: SessionRequest, session: Session): boolean {
  return (
    typeof req.sessionOptions === 'object' &&
    req.sessionOptions !== null &&
    typeof session.isNew === 'boolean' &&
    typeof session.isPopulated === 'boolean'
  )
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
    // Written only when it changes: the middleware asks on every request.
    if (learnedStores.get(config) !== seen) learnedStores.set(config, seen)
    return seen
  }
  return learnedStores.get(config)
}

/**
 * Ends the request's own session. express-session destroys it in its store (and clears
 * `req.session`). A cookie-only session is dropped the way its library documents, and the library
 * then deletes its own cookies, with the name and attributes it set them with, as the response
 * goes out: cookie-session on `req.session = null` (the cookie and its `.sig`),
 * express-openid-connect on `req.appSession = undefined` (every `appSession` and `appSession.N`
 * chunk, and the store entry when it has a `session.store`).
 */
export function destroyCurrent(ctx: RequestContext): Promise<void> {
  const session = ctx.session
  if (!session) return Promise.resolve()
  const kind = ctx.sessionKind
  if (kind === 'cookie-session') {
    ctx.req.session = null
    return Promise.resolve()
  }
  if (kind === 'express-openid-connect') {
    ;(ctx.req as unknown as Record<string, unknown>)[ctx.appSession!] = undefined
    return Promise.resolve()
  }
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
