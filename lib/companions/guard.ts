/** `guard`: refuses requests whose tokens or linked session belong to a logged-out `sid`/`sub`. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { JWTPayload } from 'jose'
import { endBrowserSession } from '../ending/browser.js'
import { settled } from '../ending/collect.js'
import { LogoutError, asLogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import { contextOf } from '../request/context.js'
import type { RequestContext } from '../request/context.js'
import { noStore, prefersJson, sendError, sendJson, sendText } from '../request/respond.js'
import type { SessionLink } from '../request/session.js'
import type { Subject } from '../stores/contract.js'
import { subjectOfClaims } from '../tokens/access-token.js'
import type { Verification } from '../tokens/access-token.js'

const debug = createDebug('sso-logout:guard')

type Next = (err?: unknown) => void

/** A credential to check: its subject, and when it was issued (token) or linked (session), in ms. */
interface Credential {
  subject: Subject
  issuedAt: number
  /** Milliseconds the issuer's clock may be ahead of ours: tokens carry the IdP's time, links ours. */
  slack: number
  fromSession: boolean
}

/** A store's answer: revoked or not, or `Error` when it could not tell. */
type Answer = boolean | Error

/**
 * Builds `guard`: refuses a request when any credential it can read, every token in
 * `accessToken.from` and the session's link, belongs to a revoked `sid`/`sub`. Checking only the
 * first would let a client shadow a logged-out cookie with a junk `Authorization` header while the
 * app authenticates from the cookie. A token issued after the revocation passes (identity providers
 * reuse `sid` values); a revoked linked session is destroyed on the spot.
 */
export function createGuard(config: Config) {
  return function guard(req: IncomingMessage, res: ServerResponse, next: Next): void | Promise<void> {
    const ctx = contextOf(req, config.sessions)
    let credentials: Credential[] | Promise<Credential[]>
    try {
      // Nothing waits unless something is really asynchronous (a token to verify, a Redis store):
      // with upstream claims and the memory store, guard decides and calls next() synchronously.
      const upstream = config.guard.claims?.(req)
      credentials = upstream ? credentialsOf(config, [upstream], true) : tokenCredentials(config, ctx)
    } catch (err) {
      return unavailable(config, req, res, next, err)
    }
    if (!(credentials instanceof Promise)) return check(config, ctx, res, next, credentials)
    return credentials.then(
      (found) => check(config, ctx, res, next, found),
      (err: unknown) => unavailable(config, req, res, next, err),
    )
  }
}

/** Asks the store about every credential (and the session's tombstone), then lets through or refuses. */
function check(
  config: Config,
  ctx: RequestContext,
  res: ServerResponse,
  next: Next,
  credentials: Credential[],
): void | Promise<void> {
  let all: Answer[] | Promise<Answer[]>
  try {
    const link = ctx.link
    if (link) credentials.push(linkCredential(link))
    const answers = judged(config, credentials)
    // A session a logout took from the index is buried, however it was linked (explicit link()
    // at login, opaque tokens): refused here even before its owner destroyed it.
    const sessionId = ctx.storedSessionId
    if (sessionId !== undefined) {
      credentials.push(buriedCredential(link))
      answers.push(isBuried(config, sessionId))
    }
    all = settled(answers)
  } catch (err) {
    return unavailable(config, ctx.req, res, next, err)
  }
  if (!(all instanceof Promise)) return decide(config, ctx, res, next, credentials, all)
  return all.then((answers) => decide(config, ctx, res, next, credentials, answers))
}

function decide(
  config: Config,
  ctx: RequestContext,
  res: ServerResponse,
  next: Next,
  credentials: Credential[],
  answers: Answer[],
): void | Promise<void> {
  let revoked: Credential | undefined
  try {
    revoked = firstRevoked(credentials, answers)
  } catch (err) {
    return unavailable(config, ctx.req, res, next, err)
  }
  if (!revoked) return next()
  // Known revoked: refused whatever happens next (failOpen is for "cannot tell", never this). The
  // session is ended when it is the revoked credential (its link, or its tombstone however it was
  // linked) or carries a token of the same subject.
  const link = ctx.link
  if (revoked.fromSession || (link !== undefined && sameSubject(link, revoked.subject))) {
    return endRevokedSession(config, ctx, res).then(() => refuse(ctx.req, res))
  }
  refuse(ctx.req, res)
}

/** Every distinct token of `accessToken.from`, verified (once per request each). */
function tokenCredentials(config: Config, ctx: RequestContext): Credential[] | Promise<Credential[]> {
  if (!config.verifier.enabled) return []
  const tokens = ctx.tokens(config.tokenSources)
  if (tokens.length === 0) return []
  if (tokens.length === 1) {
    return ctx.verify(config.verifier, tokens[0]!).then((v) => verifiedCredentials(config, [v]))
  }
  const verifications = Promise.all(tokens.map((t) => ctx.verify(config.verifier, t)))
  return verifications.then((all) => verifiedCredentials(config, all))
}

function verifiedCredentials(config: Config, verifications: Verification[]): Credential[] {
  const unavailableKeys = verifications.find((v) => v.error?.code === 'ERR_JWKS_UNAVAILABLE')
  if (unavailableKeys) throw unavailableKeys.error
  // An unverifiable token is not guard's business: the app's own authentication refuses it.
  const claimSets: JWTPayload[] = []
  for (const v of verifications) if (v.token) claimSets.push(v.token.claims)
  return credentialsOf(config, claimSets)
}

/**
 * Token credentials. The IdP dates a token with its clock and we date a logout with ours: with its
 * clock ahead, a token issued just before a logout carries a later `iat`. The lead measured from
 * the tokens it signed (at most `guard.clockTolerance`) is allowed for, so with clocks in step a
 * token issued after a logout (the IdP reused the `sid`) still passes.
 */
function credentialsOf(config: Config, claimSets: JWTPayload[], upstream = false): Credential[] {
  const out: Credential[] = []
  for (const claims of claimSets) {
    if (upstream && typeof claims.iat === 'number') config.verifier.clock.observe(claims.iat)
    const subject = subjectOfClaims(claims, config.verifier.sidClaim, config.verifier.issuer)
    if (subject.sid === undefined && subject.sub === undefined) continue
    // `iat` is optional (RFC 7519 §4.1.6); a token that does not say when it was issued cannot show
    // it came after the revocation, so it is treated as issued before it.
    const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : 0
    const slack = Math.min(config.guard.clockTolerance, config.verifier.clock.lead())
    out.push({ subject, issuedAt, slack, fromSession: false })
  }
  return out
}

function linkCredential(link: SessionLink): Credential {
  const subject = { iss: link.iss, sid: link.sid, sub: link.sub }
  // Links are dated by our clock (or by an `iat` no later than it), so they need no slack.
  return { subject, issuedAt: link.at, slack: 0, fromSession: true }
}

/** Stands for the session's own tombstone: its subject is the link's, when there is one. */
function buriedCredential(link: SessionLink | undefined): Credential {
  const subject = link ? { iss: link.iss, sid: link.sid, sub: link.sub } : { iss: '' }
  return { subject, issuedAt: 0, slack: 0, fromSession: true }
}

/**
 * The store's answers, judged: synchronously when the store answers synchronously (memory), a
 * promise otherwise (Redis). A failure, thrown or rejected, becomes an `Error` answer. Written out
 * for each question, without closures, because guard asks them on every request.
 */
function isBuried(config: Config, sessionId: string): Answer | Promise<Answer> {
  try {
    const buried = config.store.isBuried(sessionId)
    return buried instanceof Promise ? buried.catch(asError) : buried
  } catch (err) {
    return asError(err)
  }
}

/** A store's revocation time for one subject, or `Error` when it could not tell. */
type Lookup = number | undefined | Error | Promise<number | undefined | Error>

/**
 * Each credential judged against its subject's revocation. The store is asked once per distinct
 * subject: a session linked by the token it carries names the same `sid` and `sub`, and its link
 * and its token are then judged against one answer, each with its own date.
 */
function judged(config: Config, credentials: Credential[]): Array<Answer | Promise<Answer>> {
  const lookups: Lookup[] = []
  const answers: Array<Answer | Promise<Answer>> = []
  for (let i = 0; i < credentials.length; i++) {
    const credential = credentials[i]!
    const same = credentials.findIndex((c, j) => j < i && sameIds(c.subject, credential.subject))
    const lookup = same === -1 ? revokedAt(config, credential.subject) : lookups[same]!
    lookups.push(lookup)
    answers.push(judge(credential, lookup))
  }
  return answers
}

function revokedAt(config: Config, subject: Subject): Lookup {
  try {
    const at = config.store.revokedAt(subject)
    return at instanceof Promise ? at.catch(asError) : at
  } catch (err) {
    return asError(err)
  }
}

function judge(credential: Credential, lookup: Lookup): Answer | Promise<Answer> {
  if (lookup instanceof Promise) return lookup.then((at) => judge(credential, at) as Answer)
  return lookup instanceof Error ? lookup : revokedBefore(credential, lookup)
}

function sameIds(a: Subject, b: Subject): boolean {
  return a.iss === b.iss && a.sid === b.sid && a.sub === b.sub
}

function sameSubject(link: SessionLink, subject: Subject): boolean {
  if (link.iss !== subject.iss) return false
  return subject.sid !== undefined ? link.sid === subject.sid : link.sub === subject.sub
}

function revokedBefore(credential: Credential, revokedAt: number | undefined): boolean {
  // Same-millisecond ties count as revoked; `iat` has second precision, so a token minted in the
  // same second as the logout is refused too (the safe side of the ambiguity).
  return revokedAt !== undefined && credential.issuedAt <= revokedAt + credential.slack
}

/** The first revoked credential; throws the store's error when none is known revoked and one failed. */
function firstRevoked(credentials: Credential[], answers: Answer[]): Credential | undefined {
  const hit = answers.findIndex((a) => a === true)
  if (hit !== -1) return credentials[hit]
  const failure = answers.find((a): a is Error => a instanceof Error)
  if (failure) throw failure
  return undefined
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Ends this browser's session the way a logout would, but clears only the session cookie. */
async function endRevokedSession(config: Config, ctx: RequestContext, res: ServerResponse): Promise<void> {
  debug('destroying a session of a revoked sid')
  const ended = await endBrowserSession(config, ctx, res, { clear: 'session' })
  const errors = ended.sessionStoreError ? [...ended.errors, ended.sessionStoreError] : ended.errors
  for (const e of errors) config.logger.warn(`sso-logout: guard: ${e.code}: ${e.message}`)
}

/** The store (or the keys) could not tell: `503`, or through with `failOpen`. */
function unavailable(
  config: Config,
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
  err: unknown,
): void {
  const error = asLogoutError('ERR_STORE', 'The revocation list could not be read', err)
  config.logger.warn(`sso-logout: guard: ${error.code}: ${error.message}`)
  if (config.guard.failOpen) return next()
  noStore(res)
  const message = 'Session state is temporarily unavailable; try again shortly'
  sendError(req, res, new LogoutError(error.code, message, { cause: error }))
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  noStore(res)
  const description = 'The session has been logged out'
  res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`)
  if (prefersJson(req)) sendJson(res, 401, { error: 'invalid_token', error_description: description })
  else sendText(res, 401, `${description}\n`)
}
