/** What one request carries (cookies, session, credentials), read from `req` here and nowhere else. */
import type { IncomingMessage } from 'node:http'
import type { Verification, Verifier } from '../tokens/access-token.js'
import type { Fields } from './body.js'
import { parseCookieHeader } from './cookies.js'
import type { Session, SessionConfig, SessionKind, SessionLink, SessionRequest } from './session.js'
import { LINK_FIELD, isCookieSession } from './session.js'
import type { SessionStoreLike } from '../options/types.js'
import type { Source } from './sources.js'

const contexts = new WeakMap<IncomingMessage, RequestContext>()

/**
 * The one {@link RequestContext} of `req`: the middleware, `guard` and `link(req)` all see the same
 * value, so cookies are parsed and each token is verified at most once per request. `sessions`
 * (from the options) says where express-openid-connect keeps its session, when it is the login
 * session; the first middleware to see the request with it decides.
 */
export function contextOf(req: IncomingMessage, sessions?: SessionConfig): RequestContext {
  let ctx = contexts.get(req)
  if (!ctx) contexts.set(req, (ctx = new RequestContext(req as SessionRequest)))
  if (sessions?.appSession !== undefined) ctx.appSession ??= sessions.appSession
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
  /** The `Authorization` header last parsed, and the bearer token it carried. */
  private bearerHeader: string | undefined
  private bearerToken: string | undefined
  /**
   * The first verification of the request, by verifier and token, and any others in a map made
   * when a second one is asked for: most requests carry one token, checked by one verifier.
   */
  private firstVerifier: Verifier | undefined
  private firstToken: string | undefined
  private firstVerification: Promise<Verification> | undefined
  private verified: Map<Verifier, Map<string, Promise<Verification>>> | undefined

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

  /** The request property express-openid-connect keeps its session in, when it is the login session. */
  appSession: string | undefined

  /**
   * Which library made the request's session, each told by its own shape: express-openid-connect's
   * session at `req[appSession]` when the options name it; else `req.session` of express-session
   * (it has `destroy()`) or of cookie-session ({@link isCookieSession}). Anything else on
   * `req.session` is not a session sso-logout knows how to end, so it is not one.
   */
  get sessionKind(): SessionKind | undefined {
    if (this.appSession !== undefined) {
      const s = (this.req as unknown as Record<string, unknown>)[this.appSession]
      return s && typeof s === 'object' ? 'express-openid-connect' : undefined
    }
    const s = this.req.session
    if (!s || typeof s !== 'object') return undefined
    if (typeof s.destroy === 'function') return 'express-session'
    return isCookieSession(this.req, s) ? 'cookie-session' : undefined
  }

  /** The login session's data (express-session's, cookie-session's or express-openid-connect's). */
  get session(): Session | undefined {
    const kind = this.sessionKind
    if (kind === undefined) return undefined
    const s =
      kind === 'express-openid-connect'
        ? (this.req as unknown as Record<string, unknown>)[this.appSession!]
        : this.req.session
    return s as Session
  }

  /** Whether the session lives in the browser's cookie only, with no id a logout elsewhere could destroy. */
  get cookieOnly(): boolean {
    const kind = this.sessionKind
    return kind === 'cookie-session' || kind === 'express-openid-connect'
  }

  /**
   * Whether the request came with a cookie-only session (rather than one its library just made up,
   * empty): cookie-session's `isNew` is false, express-openid-connect's session has content.
   */
  get cookieSessionOnRequest(): boolean {
    const kind = this.sessionKind
    if (kind === 'cookie-session') return this.req.session!.isNew === false
    if (kind === 'express-openid-connect') return Object.keys(this.session!).length > 0
    return false
  }

  /** `req.sessionID`, as express-session set it for the current session. */
  get sessionIdOnRequest(): string | undefined {
    return this.sessionKind === 'express-session' ? this.req.sessionID : undefined
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
    // The signed id as express-session writes it (`s:` percent-encoded) found in the raw header
    // answers without parsing every cookie: a client can send only an id it knows, and the only id
    // it can know is the one its cookie carried (an id made up on this request is new to it).
    if (this.req.headers.cookie?.includes(`s%3A${id}.`)) return id
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
        return this.bearer()
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

  /**
   * The `Authorization` header's bearer token. Linking and guard both read it: it is parsed once
   * per value of the header, so a middleware that rewrites the header in between is still seen.
   */
  private bearer(): string | undefined {
    const header = this.req.headers.authorization
    if (header !== this.bearerHeader) {
      this.bearerHeader = header
      this.bearerToken = bearer(header)
    }
    return this.bearerToken
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
    if (this.firstVerification === undefined) {
      this.firstVerifier = verifier
      this.firstToken = token
      return (this.firstVerification = verifier.verify(token))
    }
    if (verifier === this.firstVerifier && token === this.firstToken) return this.firstVerification
    this.verified ??= new Map()
    let byToken = this.verified.get(verifier)
    if (!byToken) this.verified.set(verifier, (byToken = new Map()))
    let verification = byToken.get(token)
    if (!verification) byToken.set(token, (verification = verifier.verify(token)))
    return verification
  }
}

/** RFC 6750 §2.1: the scheme, one or more spaces, a b64token; spaces after it are tolerated. */
const BEARER = /^Bearer +[A-Za-z0-9\-._~+/]+=* *$/i

function bearer(header: string | undefined): string | undefined {
  // Tested, then cut out, so no match array is made for a header read on every request.
  return header && BEARER.test(header) ? header.slice(6).trim() : undefined
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
