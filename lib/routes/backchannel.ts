import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { resolveBackchannel } from '../options/channels.js'
import type { BackchannelConfig } from '../options/channels.js'
import { createLogoutTokenVerifier } from '../tokens/logout-token.js'
import type { LogoutClaims } from '../tokens/logout-token.js'
import { readBody } from '../request/body.js'
import type { Config } from '../options/config.js'
import { emit } from '../request/identity.js'
import { LogoutError, asLogoutError } from '../errors.js'
import { noStore, sendJson } from '../request/respond.js'
import { invalidate } from '../ending/subject.js'
import type { SessionRequest } from '../request/session.js'
import { sessionStoreFor } from '../request/session.js'

const debug = createDebug('sso-logout:backchannel')

/**
 * Builds the OIDC Back-Channel Logout receiver (SPEC.md §2): resolves its options and the token
 * validator once, and returns the route handler `buildRoutes` mounts on `POST backchannel.path`.
 * Throws a `TypeError` at construction when the options cannot work (no issuer, no client id).
 *
 * @example
 * ```ts
 * // Through logout(): the provider's issuer, JWKS and client id check the logout tokens.
 * app.use(logout({
 *   provider: oidc({ issuer: 'https://id.example.com', clientId: 'app' }),
 *   backchannel: { path: '/backchannel-logout' },
 *   sessionStore,
 * }))
 * ```
 */
export function createBackchannel(config: Config) {
  const bc = resolveBackchannel(config)
  const verify = createLogoutTokenVerifier(config, bc)

  return async function handleBackchannel(_config: Config, req: IncomingMessage, res: ServerResponse) {
    noStore(res)
    let claims: LogoutClaims
    try {
      claims = await verify(await logoutTokenOf(req, bc))
      await claimJti(config, bc, claims)
    } catch (err) {
      return refuse(config, res, err)
    }
    await logOut(config, req as SessionRequest, res, claims)
  }
}

/** BCL §2.5: exactly one `logout_token` in a form body; other form fields are ignored. */
async function logoutTokenOf(req: IncomingMessage, bc: BackchannelConfig): Promise<string> {
  const body = await readBody(req, bc.bodyLimit)
  if (body.type !== 'form')
    throw invalid('The request body must be application/x-www-form-urlencoded with a logout_token')
  const values = body.fields.logout_token ?? []
  if (values.length !== 1) throw invalid('The request must carry exactly one logout_token')
  const token = values[0]!
  // A body parser mounted before logout() applied its own limit: apply ours to the token too.
  if (token.length === 0 || token.length > bc.bodyLimit)
    throw invalid('The logout_token is empty or too long')
  return token
}

/** BCL §2.6 step 7, last: only a token that passed every other check consumes its `jti`. */
async function claimJti(config: Config, bc: BackchannelConfig, claims: LogoutClaims): Promise<void> {
  let first: boolean
  try {
    first = await config.store.claimJti(claims.iss, claims.jti, bc.replayTtl)
  } catch (err) {
    throw asLogoutError('ERR_STORE', 'The replay cache could not be updated', err, 500)
  }
  if (!first)
    throw new LogoutError('ERR_LOGOUT_TOKEN_REPLAYED', 'The logout token was already received', {
      status: 400,
    })
}

/**
 * BCL §2.7: ends the `sid` (or, with `sub` alone, every session of the user) at this issuer only.
 * Sessions linked after the token's `iat` survive: the provider reused the `sid` for a new login.
 */
async function logOut(config: Config, req: SessionRequest, res: ServerResponse, claims: LogoutClaims) {
  const sessionStore = sessionStoreFor(config, req)
  const at = Math.min(claims.iat * 1000 + 999, Date.now())
  const result = await invalidate(
    config,
    { iss: claims.iss, sid: claims.sid, sub: claims.sub },
    { at, linkedBefore: at, bySub: claims.sid === undefined, sessionStore },
  )
  const notes = sessionStore
    ? []
    : [
        'No session store: linked sessions were revoked (guard refuses them) but not destroyed; ' +
          'pass options.sessionStore, or mount express-session before logout()',
      ]
  await emit(config, {
    reason: 'backchannel',
    iss: claims.iss,
    sid: claims.sid,
    sub: claims.sub,
    jti: claims.jti,
    sessionsDestroyed: result.destroyed.length,
    provider: config.provider?.name,
    errors: result.errors,
    notes,
  })
  debug('logout token accepted: %d session(s) destroyed', result.destroyed.length)
  // A failed logout answers 500 so the provider retries later (BCL §2.8 allows any non-200); the
  // jti is given back first, or the retry would be refused as a replay.
  if (result.errors.length > 0) {
    await releaseJti(config, claims)
    return applicationError(res, 'The logout could not be completed')
  }
  res.statusCode = 200
  res.setHeader('Content-Length', 0)
  res.end()
}

async function releaseJti(config: Config, claims: LogoutClaims): Promise<void> {
  try {
    await config.store.releaseJti(claims.iss, claims.jti)
  } catch (err) {
    // The store that just failed may still be down: the retry is then refused as a replay, but the
    // revocation was recorded first, so guard already refuses the logged-out sessions.
    config.logger.warn(`sso-logout: backchannel logout: releasing the token id failed: ${String(err)}`)
  }
}

/** BCL §2.8: `400` with an OAuth-style error body; outages are `503`/`500` so the provider retries. */
async function refuse(config: Config, res: ServerResponse, err: unknown): Promise<void> {
  const error =
    err instanceof LogoutError
      ? err
      : asLogoutError('ERR_STORE', 'The logout token could not be handled', err)
  debug('logout token refused: %s (%s)', error.code, error.message)
  if (error.status < 500) {
    return sendJson(res, error.status, { error: 'invalid_request', error_description: error.message })
  }
  if (error.status === 503) {
    config.logger.warn(`sso-logout: backchannel logout: ${error.code}: ${error.message}`)
    res.setHeader('Retry-After', 30)
    return sendJson(res, 503, { error: 'temporarily_unavailable', error_description: error.message })
  }
  await emit(config, {
    reason: 'backchannel',
    sessionsDestroyed: 0,
    provider: config.provider?.name,
    errors: [error],
    notes: [],
  })
  applicationError(res, error.message)
}

function applicationError(res: ServerResponse, description: string): void {
  sendJson(res, 500, { error: 'application_error', error_description: description })
}

function invalid(message: string): LogoutError {
  return new LogoutError('ERR_LOGOUT_TOKEN_INVALID', message, { status: 400 })
}
