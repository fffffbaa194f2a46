/** The OpenID Connect Front-Channel Logout 1.0 receiver: `GET path?iss=..&sid=..` in the OP's iframe. */
import type { ServerResponse } from 'node:http'
import createDebug from 'debug'
import { endBrowserSession } from '../ending/browser.js'
import { emit, handedOver } from '../ending/event.js'
import { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { FrontchannelConfig } from '../options/channels.js'
import type { RequestContext } from '../request/context.js'
import { noStore, queryOf, sendText } from '../request/respond.js'

const debug = createDebug('sso-logout:frontchannel')

const PAGE = '<!doctype html><meta charset="utf-8"><title>Logged out</title><p>Logged out.</p>\n'

type Target = { iss: string; sid: string }

/**
 * Builds the receiver: destroys the sessions linked to `sid` at the provider's issuer and the
 * browser's own session, clears cookies, and lets only the issuer's origin frame the answer.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: keycloak({ baseUrl: 'https://sso.example.com', realm: 'acme', clientId: 'app' }),
 *   frontchannel: { path: '/frontchannel-logout' },
 * }))
 * ```
 */
export function createFrontchannelRoute(config: Config, fc: FrontchannelConfig) {
  return async function handleFrontchannel(ctx: RequestContext, res: ServerResponse): Promise<void> {
    noStore(res)
    res.setHeader('Content-Security-Policy', fc.frameAncestors)
    // A helmet-style X-Frame-Options set earlier would stop the provider's iframe.
    res.removeHeader('X-Frame-Options')
    let target: Target | undefined
    try {
      target = targetOf(ctx, fc.issuer)
    } catch (err) {
      if (!(err instanceof LogoutError)) throw err
      debug('front-channel request refused: %s', err.message)
      return sendText(res, err.status, `${err.message}\n`)
    }
    if (target && fc.requireSession && !isLinkedTo(ctx, target)) {
      // Front-Channel Logout 1.0 §2: the RP may ignore iss/sid that do not match the browser's
      // session. An unauthenticated request must not end another browser's sessions, nor this
      // browser's unrelated one.
      debug('front-channel request ignored: iss/sid do not match this browser session')
      await emit(config, {
        reason: 'frontchannel',
        iss: target.iss,
        sid: target.sid,
        sessionsDestroyed: 0,
        provider: config.provider?.name,
        errors: [],
        notes: ['iss/sid do not match this browser session: ignored (frontchannel.requireSession)'],
      })
      return sendText(res, 200, PAGE, 'text/html')
    }
    await logOut(config, ctx, res, target)
  }
}

function isLinkedTo(ctx: RequestContext, target: Target): boolean {
  const link = ctx.link
  return link !== undefined && link.iss === target.iss && link.sid === target.sid
}

/** Front-Channel Logout 1.0 §2: `iss` and `sid` come together or not at all; `iss` must be ours. */
function targetOf(ctx: RequestContext, issuer: string): Target | undefined {
  const query = queryOf(ctx.req)
  const iss = query.getAll('iss')
  const sid = query.getAll('sid')
  if (iss.length === 0 && sid.length === 0) return undefined
  if (iss.length !== 1 || sid.length !== 1 || sid[0] === '')
    throw invalid('The request must carry both "iss" and "sid" once, or neither')
  if (iss[0] !== issuer) throw invalid('The "iss" parameter is not the configured issuer')
  return { iss: iss[0], sid: sid[0]! }
}

async function logOut(
  config: Config,
  ctx: RequestContext,
  res: ServerResponse,
  target: Target | undefined,
): Promise<void> {
  const link = ctx.link
  const local = await endBrowserSession(config, ctx, res, { subject: target, clear: 'all' })
  const errors = local.sessionStoreError ? [...local.errors, local.sessionStoreError] : local.errors
  await emit(config, {
    reason: 'frontchannel',
    iss: target?.iss ?? link?.iss,
    sid: target?.sid ?? link?.sid,
    sub: link?.sub,
    sessionsDestroyed: local.destroyed,
    ...handedOver(local.handedOver),
    provider: config.provider?.name,
    errors,
    notes: [],
  })
  if (errors.length > 0) return sendText(res, 500, 'The logout could not be completed.\n')
  sendText(res, 200, PAGE, 'text/html')
}

function invalid(message: string): LogoutError {
  return new LogoutError('ERR_FRONTCHANNEL_INVALID', message)
}
