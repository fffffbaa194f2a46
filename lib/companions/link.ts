/** `link()`: records which local session belongs to which IdP session, at login or on the first request. */
import type { IncomingMessage } from 'node:http'
import createDebug from 'debug'
import { invalidArg, subjectArg } from '../options/check.js'
import type { Config } from '../options/config.js'
import { contextOf } from '../request/context.js'
import type { RequestContext } from '../request/context.js'
import { verifyRequestToken } from '../request/identity.js'
import type { Session, SessionLink } from '../request/session.js'
import { LINK_FIELD } from '../request/session.js'
import type { VerifiedToken } from '../tokens/access-token.js'

const debug = createDebug('sso-logout:link')

/** `link({ sid, sub?, iss?, sessionId })`: record a link made elsewhere (for example at login). */
export interface LinkInput {
  sid?: string
  sub?: string
  iss?: string
  sessionId: string
}

/**
 * Builds `link()`. With a request it verifies the request's token and links the request's
 * express-session session to the token's `sid`/`sub`, remembering it in the session so later
 * requests do not verify again. Resolves to `true` when a link was recorded.
 */
export function createLink(config: Config) {
  return async function link(target: IncomingMessage | LinkInput): Promise<boolean> {
    if (isRequest(target)) return linkRequest(config, contextOf(target), true)
    const input = checkInput(target, config.verifier.issuer)
    await config.store.link({ ...input, at: Date.now() }, config.retention)
    return true
  }
}

/**
 * Links the request's session to its verified token when it is not linked yet. Called on every
 * request by the middleware, so it does nothing (and costs nothing) for sessions already linked
 * or requests that carry no token.
 */
export async function linkRequest(config: Config, ctx: RequestContext, force = false): Promise<boolean> {
  const session = ctx.session
  const sessionId = ctx.sessionIdOnRequest
  if (!session || sessionId === undefined) return false
  const existing = ctx.link
  if (existing && !force) return false
  // express-session gives every request a session and stores it only when the app changes it
  // (saveUninitialized: false). Linking a fresh one here would store a session for every
  // bearer-only API request; it is linked when the app saves it instead.
  const fresh = !force && ctx.storedSessionId === undefined
  const token = (await verifyRequestToken(config, ctx))?.token
  if (!token || token.expired || (token.sid === undefined && token.sub === undefined)) return false
  if (existing && sameSession(existing, token)) return false
  // A session is only as fresh as the token that proves it. Dated by the token's `iat`, a session
  // made from a token issued before a logout is refused by guard and taken by the next logout, even
  // when it is linked after that logout. Without `iat` a token cannot show it came after one.
  const at = Math.min(Date.now(), (token.iat ?? 0) * 1000)
  const record: SessionLink = { iss: token.iss, sid: token.sid, sub: token.sub, at }
  if (fresh) return linkOnSave(config, session, record, sessionId)
  await config.store.link({ ...record, sessionId }, config.retention)
  session[LINK_FIELD] = record
  debug('linked a session')
  return true
}

type SaveCallback = (err?: unknown) => void

/**
 * Links a session express-session has not stored yet when the app saves it: express-session calls
 * `req.session.save()` at the end of a request that changed the session. A session the app never
 * saves is never linked. The wrapper is non-enumerable, so it is neither hashed nor stored.
 */
function linkOnSave(config: Config, session: Session, record: SessionLink, sessionId: string): false {
  const save = session.save
  if (typeof save !== 'function' || save.name === saveLinked.name) return false
  const original = save as (this: Session, callback?: SaveCallback) => void
  const define = (value: unknown) =>
    Object.defineProperty(session, 'save', { configurable: true, enumerable: false, writable: true, value })
  define(saveLinked)
  return false

  function saveLinked(callback?: SaveCallback): void {
    define(original)
    session[LINK_FIELD] = record
    Promise.resolve(config.store.link({ ...record, sessionId }, config.retention)).then(
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

function sameSession(link: SessionLink, token: VerifiedToken): boolean {
  return link.iss === token.iss && link.sid === token.sid && link.sub === token.sub
}

function isRequest(value: unknown): value is IncomingMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'headers' in value &&
    typeof (value as IncomingMessage).headers === 'object'
  )
}

function checkInput(
  input: LinkInput,
  defaultIssuer: string | undefined,
): Required<Omit<LinkInput, 'sid' | 'sub'>> & LinkInput {
  if (typeof input !== 'object' || input === null)
    throw invalidArg('link(input)', 'a request or { sid, sub?, iss?, sessionId }', input)
  if (typeof input.sessionId !== 'string' || input.sessionId.length === 0)
    throw invalidArg('input.sessionId', 'a non-empty string', input.sessionId)
  return { ...subjectArg(input, defaultIssuer), sessionId: input.sessionId }
}
