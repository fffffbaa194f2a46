import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { readBody } from './body.js'
import type { Fields } from './body.js'
import type { Config } from './config.js'
import { emit, identify, verifyRequestToken } from './context.js'
import type { Identity } from './context.js'
import { appendSetCookie, serializeCookie } from './cookies.js'
import type { CookieSpec } from './cookies.js'
import { isCrossSite } from './csrf.js'
import { LogoutError, asLogoutError } from './errors.js'
import { noStore, prefersJson, queryOf, redirect, sendError, sendJson } from './http.js'
import { invalidate } from './invalidate.js'
import type { LogoutEvent } from './options.js'
import { endSessionAtProvider } from './provider-call.js'
import type { SessionRequest } from './session.js'
import { currentSession, destroyCurrent, sessionCookie, sessionStoreFor, storedSessionId } from './session.js'
import { bury } from './tombstone.js'

const debug = createDebug('sso-logout:route')

type Next = (err?: unknown) => void

/**
 * The logout route (API.md "Behaviour on the logout route"): gate, validate, verify, invalidate
 * locally, clear cookies, end the IdP session, answer. Nothing is destroyed before the request
 * has passed the CSRF gate and the `returnTo` check.
 */
export async function handleLogout(
  config: Config,
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
): Promise<void> {
  noStore(res)
  if (isCrossSite(req, config.trustedOrigins)) {
    return sendError(
      req,
      res,
      new LogoutError('ERR_CROSS_SITE_REQUEST', 'Cross-site logout requests are refused', { status: 403 }),
    )
  }
  const body = req.method === 'POST' ? (await readBody(req, config.bodyLimit)).fields : undefined
  const returnTo = config.returnTo.resolve(returnToValue(req, body))
  if (!returnTo.ok) {
    return sendError(
      req,
      res,
      new LogoutError('ERR_RETURN_TO_NOT_ALLOWED', returnTo.message, { status: 400 }),
    )
  }
  const who = identify(req, await verifyRequestToken(config, req, body))
  const snapshot = { ...(currentSession(req as SessionRequest) ?? {}) }
  const { destroyed, errors, sessionStoreError } = await logoutLocally(
    config,
    req as SessionRequest,
    res,
    who,
  )

  const provider = await endSessionAtProvider(config, { req, res, who, snapshot, returnTo: returnTo.url })
  errors.push(...provider.errors)
  const event: LogoutEvent = {
    reason: 'user',
    iss: who.iss,
    sid: who.sid,
    sub: who.sub,
    sessionsDestroyed: destroyed,
    provider: config.provider?.name,
    errors,
    notes: provider.notes,
  }
  await emit(config, event)
  if (sessionStoreError) return next(sessionStoreError)
  if (provider.failure) return sendError(req, res, provider.failure)
  const location = provider.redirect?.href ?? returnTo.location
  if (prefersJson(req)) return sendJson(res, 200, { loggedOut: true, redirectTo: location })
  redirect(res, req.method === 'POST' ? 303 : 302, location)
}

function returnToValue(req: IncomingMessage, body: Fields | undefined): string | undefined {
  const fromQuery = queryOf(req).getAll('returnTo')
  const values = fromQuery.length > 0 ? fromQuery : (body?.returnTo ?? [])
  // A repeated parameter is ambiguous (which one would a proxy or the IdP see?): the policy refuses
  // anything that is not a single string.
  return (values.length > 1 ? values : values[0]) as string | undefined
}

interface LocalOutcome {
  destroyed: number
  errors: LogoutError[]
  sessionStoreError?: LogoutError
}

async function logoutLocally(
  config: Config,
  req: SessionRequest,
  res: ServerResponse,
  who: Identity,
): Promise<LocalOutcome> {
  const cookies = cookiesToClear(config, req)
  const currentId = storedSessionId(req)
  const sessionStore = sessionStoreFor(config, req)
  const now = Date.now()
  // Tombstone the current id before it is destroyed (a request of this session still in flight must
  // not write it back) and drop its link, concurrently with the index work: a stuck store then costs
  // one client timeout, not one per command.
  const ownErrors: LogoutError[] = []
  const ending =
    currentId === undefined
      ? undefined
      : Promise.all([bury(config, [currentId], ownErrors), forget(config, currentId, ownErrors)])
  const linked =
    who.iss !== undefined
      ? await invalidate(
          config,
          { iss: who.iss, sid: who.sid, sub: who.sub },
          {
            at: now,
            linkedBefore: now,
            bySub: config.everywhere,
            sessionStore,
          },
        )
      : { destroyed: [], errors: [] }
  let sessionStoreError = linked.errors.find((e) => e.code === 'ERR_SESSION_STORE')
  const errors = linked.errors.filter((e) => e.code !== 'ERR_SESSION_STORE')
  await ending
  errors.push(...ownErrors)
  try {
    await destroyCurrent(req)
  } catch (err) {
    sessionStoreError ??= asLogoutError('ERR_SESSION_STORE', 'Destroying the current session failed', err)
  }
  clearCookies(config, res, cookies)
  const destroyed = new Set(linked.destroyed)
  if (currentId !== undefined) destroyed.add(currentId)
  debug('local logout: %d session(s)', destroyed.size)
  return { destroyed: destroyed.size, errors, sessionStoreError }
}

async function forget(config: Config, sessionId: string, errors: LogoutError[]): Promise<void> {
  try {
    await config.store.unlink(sessionId)
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Removing the session link failed', err))
  }
}

function cookiesToClear(config: Config, req: SessionRequest): CookieSpec[] {
  const session = config.clearSessionCookie ? sessionCookie(req) : undefined
  return session ? [...config.cookies, session] : config.cookies
}

/** Deletes each cookie with the Path/Domain it was set with (RFC 6265bis §3.1) and sends Clear-Site-Data. */
export function clearCookies(config: Config, res: ServerResponse, cookies: CookieSpec[]): void {
  appendSetCookie(
    res,
    cookies.map((c) => serializeCookie(c, '', 'expired')),
  )
  if (config.clearSiteData) res.setHeader('Clear-Site-Data', config.clearSiteData)
}
