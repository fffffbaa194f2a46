/** What `link()` accepts, checked at the call, and where it keeps the ID token it is given. */
import type { IncomingMessage } from 'node:http'
import { invalidArg, subjectArg } from '../options/check.js'
import type { Config } from '../options/config.js'
import type { Session } from '../request/session.js'

/** `link({ sid?, sub?, iss?, sessionId | req, idToken? })`: record a link made elsewhere (at login). */
export interface LinkInput {
  sid?: string | undefined
  sub?: string | undefined
  iss?: string | undefined
  /** The express-session id. Defaults to `req.sessionID` when `req` is given. */
  sessionId?: string | undefined
  /**
   * The login request: the link is then remembered in its session too, so every route and `guard`
   * see it without asking the store, and `idToken` can be kept in that session.
   */
  req?: IncomingMessage | undefined
  /**
   * A cookie-only session to remember the link in, when it is not yet on `req`: the session
   * express-openid-connect's `afterCallback` returns. A cookie-only session (this one, or
   * cookie-session's or express-openid-connect's on `req`) needs no `sessionId`: it is not indexed,
   * and `guard` refuses it once its `sid` is revoked.
   */
  session?: Record<string, unknown> | undefined
  /** The ID token of the login, kept where the provider reads `id_token_hint` (needs `req` or `session`). */
  idToken?: string | undefined
}

/** Options of `link(req, options)`. */
export interface LinkOptions {
  /** The ID token of the login, kept where the provider reads `id_token_hint`. */
  idToken?: string | undefined
}

/** The checked explicit form, with its issuer and session id resolved. */
export interface CheckedLinkInput {
  iss: string
  sid?: string
  sub?: string
  /** Absent only for a cookie-only session. */
  sessionId?: string
  req?: IncomingMessage
}

export function checkLinkInput(
  input: LinkInput,
  defaultIssuer: string | undefined,
  cookieOnly = false,
): CheckedLinkInput {
  if (typeof input !== 'object' || input === null)
    throw invalidArg('link(input)', 'a request or { sid, sub?, iss?, sessionId }', input)
  const req = input.req
  if (req !== undefined && (typeof req !== 'object' || req === null || !('headers' in req)))
    throw invalidArg('input.req', 'the request whose session is linked', req)
  if (cookieOnly && input.sessionId === undefined) return { ...subjectArg(input, defaultIssuer), req }
  const sessionId = input.sessionId ?? (req as { sessionID?: unknown } | undefined)?.sessionID
  if (typeof sessionId !== 'string' || sessionId.length === 0)
    throw invalidArg('input.sessionId', 'a non-empty string (or pass req, with a session)', input.sessionId)
  return { ...subjectArg(input, defaultIssuer), sessionId, req }
}

/**
 * Keeps `idToken` in the session at the field the provider reads it from (`idToken` option,
 * `'session:idToken'` by default), so RP-initiated logout can send `id_token_hint` (RP-Initiated
 * Logout 1.0 §2; Okta refuses a logout without it).
 */
export function keepIdToken(
  config: Config,
  session: Session | undefined,
  idToken: unknown,
  path: string,
): void {
  if (idToken === undefined) return
  if (typeof idToken !== 'string' || idToken.length === 0)
    throw invalidArg(path, 'a non-empty string', idToken)
  const field = idTokenFieldOf(config)
  if (field === undefined) {
    const source = idTokenSourceOf(config)
    throw invalidArg(path, `kept by the app: the provider reads it from ${source}, which link() cannot set`)
  }
  if (!session)
    throw invalidArg(
      path,
      'passed with a request that has a session (express-session, cookie-session or express-openid-connect before logout())',
    )
  session[field] = idToken
}

/** Where the provider reads the ID token for `id_token_hint`: `'session:idToken'` unless it says otherwise. */
function idTokenSourceOf(config: Config): string {
  return config.provider?.idTokenSource ?? 'session:idToken'
}

/** The session field the provider reads the ID token from, when it is a session field. */
export function idTokenFieldOf(config: Config): string | undefined {
  const source = idTokenSourceOf(config)
  return source.startsWith('session:') ? source.slice('session:'.length) : undefined
}
