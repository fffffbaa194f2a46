/** `guard`: refuses requests whose token or linked session belongs to a logged-out `sid`/`sub`. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { JWTPayload } from 'jose'
import { endBrowserSession } from '../ending/browser.js'
import { LogoutError, asLogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import { contextOf } from '../request/context.js'
import type { RequestContext } from '../request/context.js'
import { verifyRequestToken } from '../request/identity.js'
import { noStore, prefersJson, sendError, sendJson, sendText } from '../request/respond.js'
import type { SessionLink } from '../request/session.js'
import type { Subject } from '../stores/contract.js'
import { subjectOfClaims } from '../tokens/access-token.js'

const debug = createDebug('sso-logout:guard')

type Next = (err?: unknown) => void

/** A credential to check: its subject and the time it was issued (token) or linked (session), in ms. */
interface Credential {
  subject: Subject
  issuedAt: number
}

/**
 * Builds `guard`: refuses a request whose verified access token, or linked session, belongs to a
 * revoked `sid`/`sub`. A token issued after the revocation passes: identity providers reuse `sid`
 * values. A revoked linked session is destroyed on the spot.
 */
export function createGuard(config: Config) {
  return async function guard(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
    const ctx = contextOf(req)
    try {
      // No await runs unless something is really asynchronous (a token to verify, a Redis store):
      // with upstream claims and the memory store, guard decides and calls next() synchronously.
      const upstream = config.guard.claims?.(req)
      const token = upstream ? credentialOf(config, upstream) : await tokenCredential(config, ctx)
      const link = ctx.link
      const tokenRevoked = token ? isRevoked(config, token) : false
      if (tokenRevoked instanceof Promise ? await tokenRevoked : tokenRevoked) {
        // The session that carries this token belongs to the same logged-out subject: end it too,
        // or a browser keeping its token in the session would get 401 until the token expires.
        if (link && sameSubject(link, token!.subject)) await endRevokedSession(config, ctx, res)
        return refuse(req, res)
      }
      const linkRevoked = link ? isRevoked(config, linkCredential(link)) : false
      if (linkRevoked instanceof Promise ? await linkRevoked : linkRevoked) {
        await endRevokedSession(config, ctx, res)
        return refuse(req, res)
      }
    } catch (err) {
      const error = asLogoutError('ERR_STORE', 'The revocation list could not be read', err)
      config.logger.warn(`sso-logout: guard: ${error.code}: ${error.message}`)
      if (config.guard.failOpen) return next()
      noStore(res)
      sendError(
        req,
        res,
        new LogoutError(error.code, 'Session state is temporarily unavailable; try again shortly', {
          cause: error,
        }),
      )
      return
    }
    // Outside the try: an error thrown downstream is the app's, not a store failure.
    next()
  }
}

async function tokenCredential(config: Config, ctx: RequestContext): Promise<Credential | undefined> {
  const verification = await verifyRequestToken(config, ctx)
  if (verification?.error?.code === 'ERR_JWKS_UNAVAILABLE') throw verification.error
  // An unverifiable token is not guard's business: the app's own authentication refuses it.
  const claims = verification?.token?.claims
  return claims ? credentialOf(config, claims) : undefined
}

function credentialOf(config: Config, claims: JWTPayload): Credential | undefined {
  const subject = subjectOfClaims(claims, config.verifier.sidClaim, config.verifier.issuer)
  if (subject.sid === undefined && subject.sub === undefined) return undefined
  // `iat` is optional (RFC 7519 §4.1.6); a token that does not say when it was issued cannot show
  // it came after the revocation, so it is treated as issued before it.
  const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : 0
  return { subject, issuedAt }
}

function sameSubject(link: SessionLink, subject: Subject): boolean {
  if (link.iss !== subject.iss) return false
  return subject.sid !== undefined ? link.sid === subject.sid : link.sub === subject.sub
}

function linkCredential(link: SessionLink): Credential {
  return { subject: { iss: link.iss, sid: link.sid, sub: link.sub }, issuedAt: link.at }
}

/** Synchronous when the store answers synchronously (memory), a promise otherwise (Redis). */
function isRevoked(config: Config, credential: Credential): boolean | Promise<boolean> {
  const answer = config.store.revokedAt(credential.subject)
  return answer instanceof Promise
    ? answer.then((revokedAt) => revokedBefore(credential, revokedAt))
    : revokedBefore(credential, answer)
}

function revokedBefore(credential: Credential, revokedAt: number | undefined): boolean {
  // Same-millisecond ties count as revoked; `iat` has second precision, so a token minted in the
  // same second as the logout is refused too (the safe side of the ambiguity).
  return revokedAt !== undefined && credential.issuedAt <= revokedAt
}

/** Ends this browser's session the way a logout would, but clears only the session cookie. */
async function endRevokedSession(config: Config, ctx: RequestContext, res: ServerResponse): Promise<void> {
  debug('destroying a session of a revoked sid')
  const ended = await endBrowserSession(config, ctx, res, { clear: 'session' })
  if (ended.sessionStoreError) throw ended.sessionStoreError
  for (const e of ended.errors) config.logger.warn(`sso-logout: guard: ${e.code}: ${e.message}`)
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  noStore(res)
  const description = 'The session has been logged out'
  res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`)
  if (prefersJson(req)) sendJson(res, 401, { error: 'invalid_token', error_description: description })
  else sendText(res, 401, `${description}\n`)
}
