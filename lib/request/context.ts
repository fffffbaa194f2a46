/** What one request carries (cookies, session, credentials), read from `req` here and nowhere else. */
import type { IncomingMessage } from 'node:http'
import type { Verification, Verifier } from '../tokens/access-token.js'
import type { Fields } from './body.js'
import { parseCookieHeader } from './cookies.js'
import type { Session, SessionLink, SessionRequest } from './session.js'
import { LINK_FIELD } from './session.js'
import type { SessionStoreLike } from '../options/types.js'
import type { Source } from './sources.js'

const contexts = new WeakMap<IncomingMessage, RequestContext>()

/**
 * The one {@link RequestContext} of `req`: the middleware, `guard` and `link(req)` all see the same
 * value, so cookies are parsed and each token is verified at most once per request.
 */
export function contextOf(req: IncomingMessage): RequestContext {
  let ctx = contexts.get(req)
  if (!ctx) contexts.set(req, (ctx = new RequestContext(req as SessionRequest)))
  return ctx
}

/**
 * A request as sso-logout reads it. The session is read live, not copied: express-session (and
 * passport's login) may replace `req.session` during the request, and a copy would then name a
 * session that no longer exists.
 */
export class RequestContext {
  /** The form or JSON fields of the logout route's body, once read. */
  body: Fields | undefined
  private parsedCookies: Map<string, string> | undefined
  private readonly verified = new Map<Verifier, Map<string, Promise<Verification>>>()

  constructor(readonly req: SessionRequest) {}

  /** The request's cookies (cookie-parser's `req.cookies` first), parsed once. */
  cookie(name: string): string | undefined {
    const parsed = (this.req as { cookies?: unknown }).cookies
    if (parsed && typeof parsed === 'object') {
      const value = (parsed as Record<string, unknown>)[name]
      if (typeof value === 'string') return nonEmpty(value)
    }
    return nonEmpty(this.cookieHeader().get(name))
  }

  /** Every cookie of the `Cookie` header, first occurrence of a name wins. */
  cookieHeader(): Map<string, string> {
    this.parsedCookies ??= parseCookieHeader(this.req.headers.cookie)
    return this.parsedCookies
  }

  /** The express-session session, when one is on the request. */
  get session(): Session | undefined {
    const s = this.req.session
    return s && typeof s === 'object' && typeof s.destroy === 'function' ? s : undefined
  }

  /** `req.sessionID`, as express-session set it for the current session. */
  get sessionIdOnRequest(): string | undefined {
    return this.session ? this.req.sessionID : undefined
  }

  /**
   * The id of the request's session when that session came from the store. express-session gives
   * every request a session, and a fresh one (never saved) must not count as destroyed. A stored
   * session is one whose id the request's cookie carried, signed as `s:<id>.<signature>`; when the
   * cookie named an unknown id, express-session generated a new id and the cookie no longer matches.
   */
  get storedSessionId(): string | undefined {
    const id = this.sessionIdOnRequest
    if (id === undefined) return undefined
    const prefix = `s:${id}.`
    for (const value of this.cookieHeader().values()) if (value.startsWith(prefix)) return id
    return undefined
  }

  /** The link to the IdP session remembered in the session, when it is well formed. */
  get link(): SessionLink | undefined {
    const link = this.session?.[LINK_FIELD] as SessionLink | undefined
    return link && typeof link === 'object' && typeof link.iss === 'string' && typeof link.at === 'number'
      ? link
      : undefined
  }

  /** express-session's store, as it put it on the request. */
  get sessionStore(): SessionStoreLike | undefined {
    const store = this.req.sessionStore
    return store && typeof store.destroy === 'function' ? store : undefined
  }

  /** Reads one credential source; only non-empty strings count. */
  read(source: Source, session: Record<string, unknown> | undefined = this.session): string | undefined {
    switch (source.kind) {
      case 'header':
        return bearer(this.req.headers.authorization)
      case 'cookie':
        return this.cookie(source.name)
      case 'session':
        return nonEmpty(session?.[source.field])
      case 'body': {
        const values = this.body?.[source.field]
        return values?.length === 1 ? nonEmpty(values[0]) : undefined
      }
    }
  }

  /** The distinct tokens found in `sources`, in their order. */
  tokens(sources: readonly Source[]): string[] {
    const found: string[] = []
    for (const source of sources) {
      const value = this.read(source)
      if (value !== undefined && !found.includes(value)) found.push(value)
    }
    return found
  }

  /** Verifies `token` with `verifier`, once per request whoever asks (linking, guard, the route). */
  verify(verifier: Verifier, token: string): Promise<Verification> {
    let byToken = this.verified.get(verifier)
    if (!byToken) this.verified.set(verifier, (byToken = new Map()))
    let verification = byToken.get(token)
    if (!verification) byToken.set(token, (verification = verifier.verify(token)))
    return verification
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  return match?.[1]
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
