/** The OpenID Connect Back-Channel Logout 1.0 receiver: `POST path` with a logout token, from the OP. */
import type { ServerResponse } from 'node:http'
import createDebug from 'debug'
import { emit, handedOver } from '../ending/event.js'
import { invalidate } from '../ending/subject.js'
import { LogoutError, asLogoutError } from '../errors.js'
import type { BackchannelConfig } from '../options/channels.js'
import type { Config } from '../options/config.js'
import { readBody } from '../request/body.js'
import type { Body } from '../request/body.js'
import type { RequestContext } from '../request/context.js'
import { noStore, sendJson } from '../request/respond.js'
import { sessionStoreFor } from '../request/session.js'
import { createLogoutTokenVerifier } from '../tokens/logout-token.js'
import type { LogoutClaims } from '../tokens/logout-token.js'
import type { Awaitable } from '../stores/contract.js'

const debug = createDebug('sso-logout:backchannel')

/**
 * Builds the receiver: the token validator is made once, and the handler is mounted on
 * `POST backchannel.path`.
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
export function createBackchannelRoute(config: Config, bc: BackchannelConfig) {
  const verify = createLogoutTokenVerifier(config, bc)

  return async function handleBackchannel(ctx: RequestContext, res: ServerResponse): Promise<void> {
    noStore(res)
    let claims: LogoutClaims
    try {
      claims = await verify(logoutTokenOf(await readBody(ctx.req, bc.bodyLimit), bc))
      const claimed = claimJti(config, bc, claims)
      if (claimed instanceof Promise) await claimed
    } catch (err) {
      return refuse(config, res, err)
    }
    await logOut(config, ctx, res, claims)
  }
}

/** Back-Channel Logout 1.0 §2.5: exactly one `logout_token` in a form body; other form fields are ignored. */
function logoutTokenOf(body: Body, bc: BackchannelConfig): string {
  if (body.type !== 'form')
    throw invalid('The request body must be application/x-www-form-urlencoded with a logout_token')
  const values = body.values('logout_token')
  if (values.length !== 1) throw invalid('The request must carry exactly one logout_token')
  const token = values[0]!
  // A body parser mounted before logout() applied its own limit: apply ours to the token too.
  if (token.length === 0 || token.length > bc.bodyLimit)
    throw invalid('The logout_token is empty or too long')
  return token
}

/**
 * Back-Channel Logout 1.0 §2.6 step 7, last: only a token that passed every other check consumes
 * its `jti`. Synchronous when the store is.
 */
function claimJti(config: Config, bc: BackchannelConfig, claims: LogoutClaims): void | Promise<void> {
  let first: Awaitable<boolean>
  try {
    first = config.store.claimJti(claims.iss, claims.jti, bc.replayTtl)
  } catch (err) {
    throw storeFailure(err)
  }
  if (!(first instanceof Promise)) return checkFirst(first)
  return first.then(checkFirst, (err: unknown) => {
    throw storeFailure(err)
  })
}

function checkFirst(first: boolean): void {
  if (!first) throw new LogoutError('ERR_LOGOUT_TOKEN_REPLAYED', 'The logout token was already received')
}

function storeFailure(err: unknown): LogoutError {
  return asLogoutError('ERR_STORE', 'The replay cache could not be updated', err)
}

/**
 * Back-Channel Logout 1.0 §2.7: ends the `sid` (or, with `sub` alone, every session of the user) at this issuer only.
 * Sessions linked after the token's `iat` survive: the provider reused the `sid` for a new login.
 */
async function logOut(config: Config, ctx: RequestContext, res: ServerResponse, claims: LogoutClaims) {
  const sessionStore = sessionStoreFor(config, ctx)
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
  const emitted = emit(config, {
    reason: 'backchannel',
    iss: claims.iss,
    sid: claims.sid,
    sub: claims.sub,
    jti: claims.jti,
    sessionsDestroyed: result.destroyed.length,
    ...handedOver(result.handedOver.length),
    provider: config.provider?.name,
    errors: result.errors,
    notes,
  })
  if (emitted instanceof Promise) await emitted
  if (debug.enabled) debug('logout token accepted: %d session(s) destroyed', result.destroyed.length)
  // A failed logout answers 500 so the provider retries later (§2.8 allows any non-200); the
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

/**
 * Back-Channel Logout 1.0 §2.8, derived from the error's code: a token we refuse is `400` (or the
 * status of its code, such as `413`); keys we could not load are `503` with `Retry-After`, since
 * the token may be valid; any other failure of ours is `500`, so the provider retries later.
 */
async function refuse(config: Config, res: ServerResponse, err: unknown): Promise<void> {
  const error =
    err instanceof LogoutError
      ? err
      : asLogoutError('ERR_STORE', 'The logout token could not be handled', err)
  debug('logout token refused: %s (%s)', error.code, error.message)
  if (error.status < 500) {
    return sendJson(res, error.status, { error: 'invalid_request', error_description: error.message })
  }
  if (error.code === 'ERR_JWKS_UNAVAILABLE') {
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
  return new LogoutError('ERR_LOGOUT_TOKEN_INVALID', message)
}
