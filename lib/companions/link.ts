/** `link()`: records which local session belongs to which IdP session, at login or on the first request. */
import type { IncomingMessage } from 'node:http'
import createDebug from 'debug'
import type { Config } from '../options/config.js'
import { contextOf } from '../request/context.js'
import type { RequestContext } from '../request/context.js'
import { firstToken } from '../request/identity.js'
import type { Session, SessionLink } from '../request/session.js'
import { CHECKED_FIELD, LINK_FIELD } from '../request/session.js'
import type { VerifiedToken } from '../tokens/access-token.js'
import { invalidArg } from '../options/check.js'
import { checkLinkInput, idTokenFieldOf, keepIdToken } from './link-input.js'
import type { LinkInput, LinkOptions } from './link-input.js'

export type { LinkInput, LinkOptions } from './link-input.js'

const debug = createDebug('sso-logout:link')

/**
 * Builds `link()`: `link(req, { idToken? })` verifies the request's token and links the request's
 * session to its `sid`/`sub`; `link({ sid?, sub?, iss?, sessionId | req, idToken? })` records a
 * link made elsewhere (at login, or for opaque access tokens). With `req`, the link is also
 * remembered in the session, so every route and `guard` see it, and `idToken` is kept where the
 * provider reads it for `id_token_hint`. Resolves to `true` when a link was recorded.
 */
export function createLink(config: Config) {
  return async function link(target: IncomingMessage | LinkInput, options?: LinkOptions): Promise<boolean> {
    if (isRequest(target)) {
      const ctx = contextOf(target, config.sessions)
      keepIdToken(config, ctx.session, options?.idToken, 'options.idToken')
      const linked = await linkRequest(config, ctx, true)
      if (linked) followRegeneration(config, ctx)
      return linked
    }
    const ctx = requestOf(target) ? contextOf(target.req, config.sessions) : undefined
    // A cookie-only session has no id to destroy by: the link is remembered in the session itself
    // (and guard refuses it once its sid is revoked), never in the index.
    const cookieOnly = checkedSession(target) ?? (ctx?.cookieOnly ? ctx.session : undefined)
    const input = checkLinkInput(target, config.verifier.issuer, cookieOnly !== undefined)
    const session = cookieOnly ?? ctx?.session
    keepIdToken(config, session, target.idToken, 'input.idToken')
    const at = Date.now()
    const { iss, sid, sub, sessionId } = input
    if (cookieOnly) {
      cookieOnly[LINK_FIELD] = { iss, sid, sub, at } satisfies SessionLink
      return true
    }
    await config.store.link(
      { iss, sid, sub, sessionId: sessionId!, at, service: config.service },
      config.retention,
    )
    if (session && ctx && ctx.sessionIdOnRequest === sessionId) {
      session[LINK_FIELD] = { iss, sid, sub, at } satisfies SessionLink
      followRegeneration(config, ctx)
    }
    return true
  }
}

/**
 * Links the request's session to its verified token. Called on every request by the middleware, so
 * it costs nothing for requests without a token and for sessions already linked with the token they
 * carry: the token itself is compared with the one that made the link (its signature tail, kept in
 * the session), and only a new token is verified. A new token of another `sid`/`sub` (a re-login or
 * an account switch that kept the session) moves the link, so the next logout of either IdP
 * session ends the right local one. Answers synchronously (no promise) when there is nothing to do.
 */
export function linkRequest(config: Config, ctx: RequestContext, force = false): boolean | Promise<boolean> {
  const session = ctx.session
  const sessionId = ctx.sessionIdOnRequest
  const jwt = firstToken(config, ctx)
  if (!session || jwt === undefined) return false
  const print = fingerprint(jwt)
  if (!force && (ctx.link?.tok === print || session[CHECKED_FIELD] === print)) return false
  if (ctx.cookieOnly) {
    // A cookie-only session the library just made up is empty: writing the link into it would
    // set a session cookie on every bearer-only API request. It is linked once the app keeps it.
    if (!force && !ctx.cookieSessionOnRequest) return false
    return linkWith(config, ctx, session, undefined, jwt)
  }
  if (sessionId === undefined) return false
  // express-session gives every request a session and stores it only when the app changes it
  // (saveUninitialized: false). Linking a fresh one here would store a session for every
  // bearer-only API request, and verifying its token would be wasted: it is linked when saved.
  if (!force && ctx.storedSessionId === undefined) return linkOnSave(config, ctx, session, sessionId, jwt)
  return linkWith(config, ctx, session, sessionId, jwt)
}

/** Verifies `jwt` (once per request) and links or re-links the session to it; `true` when the store was written. */
async function linkWith(
  config: Config,
  ctx: RequestContext,
  session: Session,
  sessionId: string | undefined,
  jwt: string,
): Promise<boolean> {
  const print = fingerprint(jwt)
  const token = (await ctx.verify(config.verifier, jwt)).token
  if (!token || token.expired || (token.sid === undefined && token.sub === undefined)) {
    // Remembered, so a token that cannot link is not verified again on every request.
    session[CHECKED_FIELD] = print
    return false
  }
  const existing = ctx.link
  if (existing && sameSession(existing, token)) {
    session[LINK_FIELD] = { ...existing, tok: print }
    return false
  }
  // A session is only as fresh as the token that proves it. Dated by the token's `iat`, a session
  // made from a token issued before a logout is refused by guard and taken by the next logout, even
  // when it is linked after that logout. Without `iat` a token cannot show it came after one.
  const at = Math.min(Date.now(), (token.iat ?? 0) * 1000)
  const record: SessionLink = { iss: token.iss, sid: token.sid, sub: token.sub, at, tok: print }
  // `link` replaces the session's earlier link in the index, so the old sid no longer names it. A
  // cookie-only session (no id) is not indexed: its link lives in the session alone.
  if (sessionId !== undefined) {
    await config.store.link(
      { iss: record.iss, sid: record.sid, sub: record.sub, at, sessionId, service: config.service },
      config.retention,
    )
  }
  session[LINK_FIELD] = record
  Reflect.deleteProperty(session, CHECKED_FIELD)
  debug(existing ? 're-linked a session to another IdP session' : 'linked a session')
  return true
}

/**
 * The last 22 characters of a token: for a JWS, the tail of its signature, which differs between
 * any two tokens an IdP signs. It only decides whether to verify again; it proves nothing.
 */
function fingerprint(jwt: string): string {
  return jwt.slice(-22)
}

type SaveCallback = (err?: unknown) => void

/**
 * Links a session express-session has not stored yet when the app saves it: express-session calls
 * `req.session.save()` at the end of a request that changed the session. A session the app never
 * saves is never linked, and its token never verified for it. The wrapper is non-enumerable, so it
 * is neither hashed nor stored.
 */
function linkOnSave(
  config: Config,
  ctx: RequestContext,
  session: Session,
  sessionId: string,
  jwt: string,
): false {
  const save = session.save
  if (typeof save !== 'function' || save.name === saveLinked.name) return false
  const original = save as (this: Session, callback?: SaveCallback) => void
  const define = (value: unknown) =>
    Object.defineProperty(session, 'save', { configurable: true, enumerable: false, writable: true, value })
  define(saveLinked)
  return false

  function saveLinked(callback?: SaveCallback): void {
    define(original)
    linkWith(config, ctx, session, sessionId, jwt).then(
      () => original.call(session, callback),
      (err: unknown) => {
        // Not remembered, so the next request tries again; the session itself is saved anyway.
        Reflect.deleteProperty(session, LINK_FIELD)
        config.logger.warn(
          `sso-logout: linking a session failed: ${err instanceof Error ? err.message : String(err)}`,
        )
        original.call(session, callback)
      },
    )
  }
}

type RegenerateFn = (this: Session, callback: SaveCallback) => void

/**
 * Moves a link made at login to the session that replaces this one later in the same request.
 * passport 0.6+ regenerates the session inside `req.login`, after the verify callback where the
 * login's tokens are: a link made there would name a session id destroyed a moment later, and the
 * logged-in session would be linked to nothing. The session's `regenerate()` is wrapped (once,
 * non-enumerable, so never stored) so the link and the ID token kept with it are copied to the new
 * session, the new id is linked and the old one unlinked, before the caller's callback runs.
 */
function followRegeneration(config: Config, ctx: RequestContext): void {
  const session = ctx.session
  const oldId = ctx.sessionIdOnRequest
  const regenerate = session?.regenerate
  if (!session || oldId === undefined || typeof regenerate !== 'function') return
  if (regenerate.name === regenerateLinked.name) return
  Object.defineProperty(session, 'regenerate', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: regenerateLinked,
  })

  function regenerateLinked(this: Session, callback: SaveCallback): void {
    const link = ctx.link
    const idTokenField = idTokenFieldOf(config)
    const idToken = idTokenField === undefined ? undefined : session![idTokenField]
    ;(regenerate as RegenerateFn).call(this, (err?: unknown) => {
      const fresh = ctx.session
      const newId = ctx.sessionIdOnRequest
      if (err || !link || !fresh || newId === undefined || newId === oldId) return callback(err)
      fresh[LINK_FIELD] = link
      if (idTokenField !== undefined && idToken !== undefined) fresh[idTokenField] ??= idToken
      const { iss, sid, sub, at } = link
      Promise.all([
        config.store.unlink(oldId!),
        config.store.link({ iss, sid, sub, at, sessionId: newId, service: config.service }, config.retention),
      ]).then(() => callback(), callback)
      debug('moved a login link to the regenerated session')
    })
  }
}

function sameSession(link: SessionLink, token: VerifiedToken): boolean {
  return link.iss === token.iss && link.sid === token.sid && link.sub === token.sub
}

function requestOf(input: LinkInput): input is LinkInput & { req: IncomingMessage } {
  return isRequest(input?.req)
}

/** `input.session`, a cookie-only session's data object, when given. */
function checkedSession(input: LinkInput): Session | undefined {
  const session = (input as { session?: unknown } | null)?.session
  if (session === undefined) return undefined
  if (typeof session !== 'object' || session === null || Array.isArray(session))
    throw invalidArg('input.session', "a cookie-only session's data object", session)
  return session as Session
}

function isRequest(value: unknown): value is IncomingMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'headers' in value &&
    typeof (value as IncomingMessage).headers === 'object'
  )
}
