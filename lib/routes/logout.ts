import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody } from '../request/body.js'
import type { Fields } from '../request/body.js'
import type { Config } from '../options/config.js'
import { emit, identify, verifyRequestToken } from '../request/identity.js'
import { isCrossSite } from '../request/csrf.js'
import { LogoutError } from '../errors.js'
import { noStore, prefersJson, queryOf, redirect, sendError, sendJson } from '../request/respond.js'
import { logoutLocally } from '../ending/browser.js'
import type { LogoutEvent } from '../options/types.js'
import { endSessionAtProvider } from '../providers/call.js'
import type { SessionRequest } from '../request/session.js'
import { currentSession } from '../request/session.js'

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
  const snapshot = config.provider ? { ...(currentSession(req as SessionRequest) ?? {}) } : {}
  const subject = who.iss === undefined ? undefined : { iss: who.iss, sid: who.sid, sub: who.sub }
  const { destroyed, errors, sessionStoreError } = await logoutLocally(
    config,
    req as SessionRequest,
    res,
    subject,
    config.everywhere,
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
