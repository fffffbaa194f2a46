import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { Config } from '../options/config.js'
import { emit } from '../request/identity.js'
import { LogoutError } from '../errors.js'
import { noStore, queryOf, sendText } from '../request/respond.js'
import { logoutLocally } from '../ending/browser.js'
import type { SessionRequest } from '../request/session.js'
import { sessionLink } from '../request/session.js'
import * as v from '../options/check.js'

const debug = createDebug('sso-logout:frontchannel')

const PAGE = '<!doctype html><meta charset="utf-8"><title>Logged out</title><p>Logged out.</p>\n'

/**
 * Builds the OIDC Front-Channel Logout receiver (SPEC.md §3): `GET path?iss=..&sid=..`, loaded by
 * the provider in an iframe. Destroys the sessions linked to `sid` at the provider's issuer and the
 * browser's own session, clears cookies, and lets only the issuer's origin frame the answer.
 * Throws a `TypeError` at construction when no issuer is configured.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: keycloak({ baseUrl: 'https://sso.example.com', realm: 'acme', clientId: 'app' }),
 *   frontchannel: { path: '/frontchannel-logout' },
 * }))
 * ```
 */
export function createFrontchannel(config: Config) {
  const issuer = config.verifier.issuer
  if (issuer === undefined)
    throw v.invalidArg(
      'options.frontchannel',
      'used with a provider (or accessToken.issuer) that names the issuer',
    )
  const path = v.pathOption(config.frontchannel?.path, 'options.frontchannel.path')
  if (path === config.path || path === config.backchannel?.path)
    throw v.invalidArg(
      'options.frontchannel.path',
      'different from options.path and options.backchannel.path',
    )
  if (!URL.canParse(issuer))
    throw v.invalidArg('options.frontchannel', 'used with an issuer that is a URL', issuer)
  // Only the provider may frame this page (FCL §2 renders it in an iframe); nobody else.
  const frameAncestors = `frame-ancestors ${new URL(issuer).origin}`
  const requireSession = v.booleanOption(
    config.frontchannel?.requireSession,
    'options.frontchannel.requireSession',
    true,
  )

  return async function handleFrontchannel(_config: Config, req: IncomingMessage, res: ServerResponse) {
    noStore(res)
    res.setHeader('Content-Security-Policy', frameAncestors)
    // A helmet-style X-Frame-Options set earlier would stop the provider's iframe.
    res.removeHeader('X-Frame-Options')
    let target: { iss: string; sid: string } | undefined
    try {
      target = targetOf(req, issuer)
    } catch (err) {
      if (!(err instanceof LogoutError)) throw err
      debug('front-channel request refused: %s', err.message)
      return sendText(res, err.status, `${err.message}\n`)
    }
    if (target && requireSession && !isLinkedTo(req as SessionRequest, target)) {
      // FCL §2: the RP may ignore iss/sid that do not match the browser's session. An unauthenticated
      // request must not end another browser's sessions, nor this browser's unrelated one.
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
    await logOut(config, req as SessionRequest, res, target)
  }
}

function isLinkedTo(req: SessionRequest, target: { iss: string; sid: string }): boolean {
  const link = sessionLink(req)
  return link !== undefined && link.iss === target.iss && link.sid === target.sid
}

/** FCL §2: `iss` and `sid` come together or not at all; `iss` must be our provider's. */
function targetOf(req: IncomingMessage, issuer: string): { iss: string; sid: string } | undefined {
  const query = queryOf(req)
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
  req: SessionRequest,
  res: ServerResponse,
  target: { iss: string; sid: string } | undefined,
): Promise<void> {
  const link = sessionLink(req)
  const local = await logoutLocally(config, req, res, target, false)
  const errors = local.sessionStoreError ? [...local.errors, local.sessionStoreError] : local.errors
  await emit(config, {
    reason: 'frontchannel',
    iss: target?.iss ?? link?.iss,
    sid: target?.sid ?? link?.sid,
    sub: link?.sub,
    sessionsDestroyed: local.destroyed,
    provider: config.provider?.name,
    errors,
    notes: [],
  })
  if (errors.length > 0) return sendText(res, 500, 'The logout could not be completed.\n')
  sendText(res, 200, PAGE, 'text/html')
}

function invalid(message: string): LogoutError {
  return new LogoutError('ERR_FRONTCHANNEL_INVALID', message, { status: 400 })
}
