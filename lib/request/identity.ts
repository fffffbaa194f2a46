/** Who a request belongs to: its first verified access token, else its session's remembered link. */
import { collect } from '../ending/collect.js'
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { LinkRecord, Subject } from '../stores/contract.js'
import type { Verification, VerifiedToken } from '../tokens/access-token.js'
import type { RequestContext } from './context.js'

/** Who a request belongs to: a verified token and/or a linked session. */
export interface Identity extends Partial<Subject> {
  token?: VerifiedToken
  /** Why no token counted (missing, invalid, keys unavailable), for the event and debugging. */
  tokenError?: LogoutError
}

/**
 * Finds the first token in `accessToken.from` and verifies it (once per request, whoever asks). A
 * token that fails contributes nothing.
 */
export function verifyRequestToken(config: Config, ctx: RequestContext): Promise<Verification> | undefined {
  const jwt = firstToken(config, ctx)
  return jwt === undefined ? undefined : ctx.verify(config.verifier, jwt)
}

/** The first token of `accessToken.from`, unverified (none when no key could verify it). */
export function firstToken(config: Config, ctx: RequestContext): string | undefined {
  if (!config.verifier.enabled) return undefined
  for (const source of config.tokenSources) {
    const jwt = ctx.read(source)
    if (jwt !== undefined) return jwt
  }
  return undefined
}

/** Combines the verified token with the session's remembered link (made from a verified token too). */
export function identify(ctx: RequestContext, verification: Verification | undefined): Identity {
  const link = ctx.link
  const token = verification?.token
  return {
    token,
    iss: token?.iss ?? link?.iss,
    sid: token?.sid ?? link?.sid,
    sub: token?.sub ?? link?.sub,
    tokenError: verification?.error,
  }
}

/** The subject an identity names, when it names one at a known issuer. */
export function subjectOf(who: Identity): Subject | undefined {
  return who.iss === undefined ? undefined : { iss: who.iss, sid: who.sid, sub: who.sub }
}

/**
 * Completes an identity that neither a token nor the session named with the store's link of the
 * browser's stored session at the issuer this middleware serves: an explicit `link({ sid, sessionId })` at login (opaque tokens) writes
 * nothing into the session. A store failure leaves the identity as it was and is reported.
 */
export function withStoredLink(
  config: Config,
  ctx: RequestContext,
  who: Identity,
  errors: LogoutError[],
): Identity | Promise<Identity> {
  const { store } = config
  const iss = config.verifier.issuer
  // A token or the session named the subject (the usual logout): nothing to look up.
  if (who.iss !== undefined || iss === undefined || store.linkOf === undefined) return who
  const sessionId = ctx.storedSessionId
  if (sessionId === undefined) return who
  const complete = (link: LinkRecord | undefined): Identity =>
    link ? { ...who, iss: link.iss, sid: link.sid, sub: link.sub } : who
  const message = 'Reading the session link failed'
  const found = collect(() => store.linkOf!(sessionId, iss), undefined, errors, message)
  return found instanceof Promise ? found.then(complete) : complete(found)
}
