/** The logout route: gate, validate, verify, end the sessions, clear cookies, end the IdP session, answer. */
import type { ServerResponse } from 'node:http'
import { emit, handedOver } from '../ending/event.js'
import { endBrowserSession } from '../ending/browser.js'
import { keepPending } from '../ending/pending.js'
import { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { LogoutEvent } from '../options/types.js'
import { endSessionAtProvider } from '../providers/call.js'
import { readBody } from '../request/body.js'
import type { Fields } from '../request/body.js'
import type { RequestContext } from '../request/context.js'
import { judgeRequest } from '../request/csrf.js'
import { identify, subjectOf, verifyRequestToken, withStoredLink } from '../request/identity.js'
import { noStore, prefersJson, queryValues, redirect, sendError, sendJson } from '../request/respond.js'
import { askToConfirm } from './confirm.js'
import type { Next } from './route.js'

/**
 * Builds the logout route (README "What happens on /logout"). Nothing is destroyed before the
 * request has passed the CSRF gate and the `returnTo` check.
 */
export function createLogoutRoute(config: Config) {
  const refusedReturnTo = {
    title: 'You were not logged out',
    text: 'This logout asked to go on to an address this site does not send anyone to, so nothing was changed.',
    home: config.baseURL?.href ?? '/',
  }
  return async function handleLogout(ctx: RequestContext, res: ServerResponse, next: Next): Promise<void> {
    const { req } = ctx
    noStore(res)
    const verdict = judgeRequest(req, config.trustedOrigins)
    if (verdict === 'cross-site') {
      const refused = new LogoutError('ERR_CROSS_SITE_REQUEST', 'Cross-site logout requests are refused')
      return sendError(req, res, refused)
    }
    if (verdict === 'unproven' && !config.allowUnverifiedGet) return askToConfirm(req, res)
    if (req.method === 'POST') ctx.body = (await readBody(req, config.bodyLimit)).fields
    const returnTo = config.returnTo.resolve(returnToValue(ctx, ctx.body))
    if (!returnTo.ok) {
      const refused = new LogoutError('ERR_RETURN_TO_NOT_ALLOWED', returnTo.message)
      return sendError(req, res, refused, refusedReturnTo)
    }
    const lookupErrors: LogoutError[] = []
    const verified = identify(ctx, await verifyRequestToken(config, ctx))
    const found = withStoredLink(config, ctx, verified, lookupErrors)
    const who = found instanceof Promise ? await found : found
    // The provider reads the ID token and refresh token from the session, which is destroyed first.
    const snapshot = config.provider ? { ...(ctx.session ?? {}) } : {}
    const local = await endBrowserSession(config, ctx, res, {
      subject: subjectOf(who),
      bySub: config.everywhere,
      clear: 'all',
    })
    const ending = endSessionAtProvider(config, { ctx, res, who, snapshot, returnTo })
    const provider = ending instanceof Promise ? await ending : ending
    if (provider.pending) await keepPending(config, provider.pending, provider.errors)
    const event: LogoutEvent = {
      reason: 'user',
      iss: who.iss,
      sid: who.sid,
      sub: who.sub,
      sessionsDestroyed: local.destroyed,
      ...handedOver(local.handedOver),
      provider: config.provider?.name,
      errors: [...lookupErrors, ...local.errors, ...provider.errors],
      notes: provider.notes,
    }
    const emitted = emit(config, event)
    if (emitted instanceof Promise) await emitted
    if (local.sessionStoreError) return next(local.sessionStoreError)
    if (provider.failure) return sendError(req, res, provider.failure)
    const location = provider.redirect?.href ?? returnTo.location
    if (prefersJson(req)) return sendJson(res, 200, { loggedOut: true, redirectTo: location })
    redirect(res, req.method === 'POST' ? 303 : 302, location)
  }
}

function returnToValue(ctx: RequestContext, body: Fields | undefined): string | undefined {
  const fromQuery = queryValues(ctx.req, 'returnTo')
  const values = fromQuery.length > 0 ? fromQuery : (body?.returnTo ?? [])
  // A repeated parameter is ambiguous (which one would a proxy or the IdP see?): the policy refuses
  // anything that is not a single string.
  return (values.length > 1 ? values : values[0]) as string | undefined
}
