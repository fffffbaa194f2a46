import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import type { NextFunction, Request, Response } from 'express'
import session from 'express-session'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { checkLogoutState, logout, oidc } from '../../lib/index'
import type { LinkInput, LogoutEvent, LogoutMiddleware, LogoutOptions, OidcOptions } from '../../lib/index'

/**
 * The relying party under test: an Express app with express-session (default cookie settings:
 * HttpOnly, no SameSite attribute, so browsers treat it as Lax) and sso-logout with its default
 * options plus the receivers' paths, signing users in with the authorization code flow.
 *
 * The client side of the login is written out here (discovery, PKCE, the token request with
 * client_secret_basic, ID token validation with jose) so that the test controls exactly what the
 * OP sees.
 */

export interface RpSetup {
  issuer: string
  clientId: string
  clientSecret: string
  /**
   * The client's registered `id_token_signed_response_alg`; the ID token is validated with it. When
   * set, it is also given to `oidc({ idTokenSigningAlg })`, the option that pins the logout-token
   * algorithm to it. Absent: RS256, the default of Core §3.1.3.7 and Dynamic Client Registration §2.
   */
  idTokenSigningAlg?: 'RS256' | 'ES256'
  /**
   * Where the app keeps the ID token after login: `'link'` hands it to
   * `link({ sid, sub, req, idToken })`; `'session'` keeps it by hand
   * (`req.session.idToken = idToken`, then `link({ sid, sub, req })`).
   */
  keepIdToken?: 'link' | 'session'
  /** Extra `oidc()` options (revoke, clientSecret, ...). */
  provider?: Partial<OidcOptions>
  /** Called with the token response at login; lets a test keep more (the refresh token). */
  onTokens?: (session: Record<string, unknown>, tokens: TokenResponse) => void
}

export interface TokenResponse {
  access_token: string
  token_type: string
  id_token: string
  refresh_token?: string
}

export interface Rp {
  url: string
  server: Server
  mw: LogoutMiddleware
  sessionStore: session.MemoryStore
  events: LogoutEvent[]
  /** Errors the app's routes or error handler saw. */
  errors: unknown[]
  /** URLs to register at the OP. */
  urls: {
    redirect: string
    postLogoutRedirect: string
    backchannel: string
    frontchannel: string
  }
  close(): Promise<void>
}

type AppSession = session.Session & Record<string, unknown>

/** An RP's server, listening but not yet serving: its URLs can be registered at an OP first. */
export interface ReservedRp {
  url: string
  urls: Rp['urls']
  /** Mounts the app; the server is closed again if that fails. */
  start(setup: RpSetup): Promise<Rp>
  close(): Promise<void>
}

export async function reserveRp(): Promise<ReservedRp> {
  // Listening first: the app's baseURL and the URLs registered at the OP need the port.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return {
    url,
    urls: urlsOf(url),
    close,
    async start(setup) {
      try {
        return await mountRp(server, url, setup)
      } catch (err) {
        await close()
        throw err
      }
    },
  }
}

export async function startRp(setup: RpSetup): Promise<Rp> {
  return (await reserveRp()).start(setup)
}

function urlsOf(url: string): Rp['urls'] {
  return {
    redirect: `${url}/callback`,
    postLogoutRedirect: `${url}/goodbye`,
    backchannel: `${url}/backchannel-logout`,
    frontchannel: `${url}/frontchannel-logout`,
  }
}

async function mountRp(server: Server, url: string, setup: RpSetup): Promise<Rp> {
  const alg = setup.idTokenSigningAlg ?? 'RS256'
  const discovery = await fetchDiscovery(setup.issuer)
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
  const events: LogoutEvent[] = []
  const errors: unknown[] = []
  const sessionStore = new session.MemoryStore()
  const urls = urlsOf(url)

  const providerOptions = {
    issuer: setup.issuer,
    clientId: setup.clientId,
    ...setup.provider,
    ...(setup.idTokenSigningAlg === undefined ? {} : { idTokenSigningAlg: setup.idTokenSigningAlg }),
  }
  const options: LogoutOptions = {
    // The cast lets this compile before and after `oidc()` gains `idTokenSigningAlg`.
    provider: oidc(providerOptions as OidcOptions),
    baseURL: url,
    returnTo: { allowed: ['/goodbye'], default: '/goodbye' },
    backchannel: { path: '/backchannel-logout' },
    frontchannel: { path: '/frontchannel-logout' },
    onLogout: (event) => void events.push(event),
    logger: { warn: () => undefined, error: (...args: unknown[]) => void errors.push(args) },
  }
  const mw = logout(options)

  const app = express()
  app.use(
    session({
      secret: randomBytes(16).toString('hex'),
      resave: false,
      saveUninitialized: false,
      store: sessionStore,
    }),
  )
  app.use(mw)

  app.get('/login', (req, res) => {
    const state = randomBytes(16).toString('base64url')
    const nonce = randomBytes(16).toString('base64url')
    const verifier = randomBytes(32).toString('base64url')
    ;(req.session as AppSession).login = { state, nonce, verifier }
    const authorize = new URL(discovery.authorization_endpoint)
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: setup.clientId,
      redirect_uri: urls.redirect,
      scope: 'openid',
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    res.redirect(authorize.href)
  })

  app.get('/callback', (req, res, next) => {
    void (async () => {
      const s = req.session as AppSession
      const pending = s.login as { state: string; nonce: string; verifier: string } | undefined
      if (!pending || req.query.state !== pending.state) return void res.status(400).send('bad state')
      const tokens = await tokenRequest(discovery.token_endpoint, setup, {
        grant_type: 'authorization_code',
        code: String(req.query.code),
        redirect_uri: urls.redirect,
        code_verifier: pending.verifier,
      })
      const { payload } = await jwtVerify(tokens.id_token, jwks, {
        issuer: setup.issuer,
        audience: setup.clientId,
        algorithms: [alg],
      })
      if (payload.nonce !== pending.nonce) return void res.status(400).send('bad nonce')
      delete s.login
      s.user = payload.sub
      setup.onTokens?.(s, tokens)
      // `req` lets link() keep the ID token in this session and remember the link there too.
      const link: LinkInput = { sid: payload.sid as string | undefined, sub: payload.sub, req }
      if ((setup.keepIdToken ?? 'link') === 'link') link.idToken = tokens.id_token
      else s.idToken = tokens.id_token
      await mw.link(link)
      res.json({ signedIn: payload.sub })
    })().catch(next)
  })

  app.get('/me', (req, res) => {
    res.json({ user: (req.session as AppSession).user ?? null })
  })

  app.get('/goodbye', (req, res) => {
    // Checking `state` on return (docs/providers.md): a state is good once, and only for this browser.
    if (!checkLogoutState(req, res)) return void res.status(400).send('Unexpected logout response')
    res.send('You are signed out.')
  })

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(err)
    res.status(500).send(`app error: ${err instanceof Error ? err.message : String(err)}`)
  })
  server.on('request', app)

  return {
    url,
    server,
    mw,
    sessionStore,
    events,
    errors,
    urls,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await mw.store.close?.()
    },
  }
}

interface Discovery {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
}

/** Discovery 1.0 §4: a trailing `/` of the issuer is removed before `/.well-known/...` is appended. */
async function fetchDiscovery(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
  const doc = (await response.json()) as Discovery
  if (doc.issuer !== issuer) throw new Error(`discovery issuer ${doc.issuer} is not ${issuer}`)
  return doc
}

/** A token request with client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded first). */
export async function tokenRequest(
  endpoint: string,
  client: { clientId: string; clientSecret: string },
  form: Record<string, string>,
): Promise<TokenResponse> {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  const credentials = Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString(
    'base64',
  )
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })
  const body = (await response.json()) as TokenResponse & { error?: string }
  if (response.status !== 200)
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`)
  return body
}
