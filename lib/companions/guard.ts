import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { JWTPayload } from 'jose'
import type { Config } from '../options/config.js'
import { verifyRequestToken } from '../request/identity.js'
import { LogoutError, asLogoutError } from '../errors.js'
import { noStore, prefersJson, sendError, sendJson, sendText } from '../request/respond.js'
import { clearCookies } from '../ending/browser.js'
import type { SessionLink, SessionRequest } from '../request/session.js'
import { destroyCurrent, sessionCookie, sessionLink, storedSessionId } from '../request/session.js'
import { bury } from '../ending/tombstones.js'
import type { Subject } from '../stores/contract.js'

const debug = createDebug('sso-logout:guard')

type Next = (err?: unknown) => void

/** A credential to check: its subject and the time it was issued (token) or linked (session), in ms. */
interface Credential {
  subject: Subject
  issuedAt: number
}

/**
 * Builds `guard`: refuses a request whose verified access token, or linked session, belongs to a
 * revoked `sid`/`sub` (API.md). A token issued after the revocation passes: identity providers
 * reuse `sid` values. A revoked linked session is destroyed on the spot.
 */
export function createGuard(config: Config) {
  return async function guard(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
    try {
      // No await runs unless something is really asynchronous (a token to verify, a Redis store):
      // with upstream claims and the memory store, guard decides and calls next() synchronously.
      const upstream = config.guard.claims?.(req)
      const token = upstream ? credentialOf(config, upstream) : await tokenCredential(config, req)
      const link = sessionLink(req as SessionRequest)
      const tokenRevoked = token ? isRevoked(config, token) : false
      if (tokenRevoked instanceof Promise ? await tokenRevoked : tokenRevoked) {
        // The session that carries this token belongs to the same logged-out subject: end it too,
        // or a browser keeping its token in the session would get 401 until the token expires.
        if (link && sameSubject(link, token!.subject))
          await endRevokedSession(config, req as SessionRequest, res)
        return refuse(req, res)
      }
      const linkRevoked = link ? isRevoked(config, linkCredential(link)) : false
      if (linkRevoked instanceof Promise ? await linkRevoked : linkRevoked) {
        await endRevokedSession(config, req as SessionRequest, res)
        return refuse(req, res)
      }
    } catch (err) {
      const error = asLogoutError('ERR_STORE', 'The revocation list could not be read', err, 503)
      config.logger.warn(`sso-logout: guard: ${error.code}: ${error.message}`)
      if (config.guard.failOpen) return next()
      noStore(res)
      sendError(
        req,
        res,
        new LogoutError(error.code, 'Session state is temporarily unavailable; try again shortly', {
          cause: error,
          status: 503,
        }),
      )
      return
    }
    // Outside the try: an error thrown downstream is the app's, not a store failure.
    next()
  }
}

async function tokenCredential(config: Config, req: IncomingMessage): Promise<Credential | undefined> {
  const claims = await verifiedClaims(config, req)
  return claims ? credentialOf(config, claims) : undefined
}

function credentialOf(config: Config, claims: JWTPayload): Credential | undefined {
  const sid = claims[config.verifier.sidClaim]
  const iss = typeof claims.iss === 'string' ? claims.iss : config.verifier.issuer
  if (iss === undefined) return undefined
  const subject: Subject = {
    iss,
    sid: typeof sid === 'string' ? sid : undefined,
    sub: typeof claims.sub === 'string' ? claims.sub : undefined,
  }
  // `iat` is optional (RFC 7519 §4.1.6); a token that does not say when it was issued cannot show
  // it came after the revocation, so it is treated as issued before it.
  const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : 0
  return subject.sid === undefined && subject.sub === undefined ? undefined : { subject, issuedAt }
}

async function verifiedClaims(config: Config, req: IncomingMessage) {
  const verification = await verifyRequestToken(config, req)
  if (verification?.error?.code === 'ERR_JWKS_UNAVAILABLE') throw verification.error
  // An unverifiable token is not guard's business: the app's own authentication refuses it.
  return verification?.token?.claims
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

async function endRevokedSession(config: Config, req: SessionRequest, res: ServerResponse): Promise<void> {
  const cookie = sessionCookie(req)
  debug('destroying a session of a revoked sid')
  const id = storedSessionId(req)
  const errors: LogoutError[] = []
  if (id !== undefined) await bury(config, [id], errors)
  for (const e of errors) config.logger.warn(`sso-logout: guard: ${e.code}: ${e.message}`)
  await destroyCurrent(req)
  // A link made after the logout took the sid's sessions (a concurrent request, another instance)
  // would otherwise keep naming this destroyed session in the index until it expires.
  if (id !== undefined) await forgetLink(config, id)
  if (cookie) clearCookies({ clearSiteData: undefined }, res, [cookie])
}

async function forgetLink(config: Config, sessionId: string): Promise<void> {
  try {
    await config.store.unlink(sessionId)
  } catch (err) {
    const error = asLogoutError('ERR_STORE', 'Removing the session link failed', err)
    config.logger.warn(`sso-logout: guard: ${error.code}: ${error.message}`)
  }
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  noStore(res)
  const description = 'The session has been logged out'
  res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`)
  if (prefersJson(req)) sendJson(res, 401, { error: 'invalid_token', error_description: description })
  else sendText(res, 401, `${description}\n`)
}
