import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import connect from 'connect'
import cookieParser from 'cookie-parser'
import express from 'express'
import express4 from 'express4'
import session from 'express-session'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import { logout } from '../../lib/middleware.js'
import type { LogoutMiddleware } from '../../lib/middleware.js'
import type { LogoutOptions } from '../../lib/options/types.js'

export type Flavour = 'express5' | 'express4' | 'connect'
/** The matrix every route test runs under. */
export const FLAVOURS: Flavour[] = ['express5', 'express4', 'connect']
export const SECRET = 'test-session-secret'
export const ISSUER = 'https://idp.test/'
export const BASE_URL = 'https://app.test'

/** Options most tests start from: a local JWKS of `keys`, the test issuer, `baseURL`, `/bye` allowed. */
export function localOptions(keys: TestKey[], extra: LogoutOptions = {}): LogoutOptions {
  return {
    baseURL: BASE_URL,
    returnTo: { allowed: ['/bye'] },
    ...extra,
    accessToken: { jwks: { keys: keys.map((k) => k.jwk) }, issuer: ISSUER, ...extra.accessToken },
  }
}

const open: TestApp[] = []

/** Closes every app {@link createApp} opened; call from `afterEach`. */
export async function closeApps(): Promise<void> {
  await Promise.all(open.splice(0).map((app) => app.close()))
}

export interface AppSetup {
  /** Mount express-session (with a MemoryStore unless `sessionStore` is given). Defaults to `true`. */
  session?: boolean
  /** Where the middleware is mounted (`app.use(mount, mw)`). Defaults to `/`. */
  mount?: string
  /**
   * Mount `express.urlencoded()` and `express.json()` (`true`), or `express.json()` alone (`'json'`),
   * before the middleware (Express flavours only).
   */
  parsers?: boolean | 'json'
  sessionStore?: session.Store
  /** Path prefix of the app's own routes (`/app` -> `/app/login`), for a session cookie with a Path. */
  prefix?: string
  /** express-session options (`name`, `cookie`). */
  sessionOptions?: Partial<session.SessionOptions>
}

export interface TestApp {
  flavour: Flavour
  server: Server
  /** `http://127.0.0.1:PORT` */
  url: string
  mw: LogoutMiddleware
  sessionStore: session.Store
  /** Errors that reached the app's error handler (the app answers them with 500). */
  errors: unknown[]
  /** Ids of the sessions in the session store. */
  sessionIds(): Promise<string[]>
  /**
   * Creates a session (linked to `token` when one is given, by the middleware's automatic linking);
   * `sessionToken` is kept in `req.session.accessToken`. Returns its Cookie header and id.
   */
  login(token?: string, sessionToken?: string): Promise<{ cookie: string; id: string }>
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain')
  res.end(text)
}

type Req = IncomingMessage & { session?: session.Session & Record<string, unknown>; sessionID?: string }

/** The app's own routes, written against node:http only so Connect runs them unchanged. */
function appRoutes(mw: LogoutMiddleware) {
  return {
    login(req: Req, res: ServerResponse): void {
      req.session!.user = 'someone'
      // `?accessToken=` keeps a token in the session, the way apps do after an OIDC login.
      const kept = new URL(req.url ?? '/', 'http://localhost').searchParams.get('accessToken')
      if (kept) req.session!.accessToken = kept
      send(res, 200, JSON.stringify({ id: req.sessionID }))
    },
    link(req: Req, res: ServerResponse): void {
      req.session!.user = 'someone'
      mw.link(req).then(
        (linked) => send(res, 200, JSON.stringify({ id: req.sessionID, linked })),
        (err: unknown) => send(res, 500, String(err)),
      )
    },
    api(req: Req, res: ServerResponse): void {
      mw.guard(req, res, () => send(res, 200, 'api ok'))
    },
    fallback(req: IncomingMessage, res: ServerResponse): void {
      send(res, 200, `app:${req.method ?? ''} ${req.url ?? ''}`)
    },
  }
}

/**
 * One app of the matrix on 127.0.0.1, port 0: cookie-parser, express-session, the logout middleware,
 * `GET /login`, `GET /api` behind `mw.guard`, `GET /link` calling `mw.link(req)`, and a catch-all that answers `app:METHOD URL`, so a
 * request the middleware handed to `next()` is recognisable.
 */
export async function createApp(
  flavour: Flavour,
  options: LogoutOptions = {},
  setup: AppSetup = {},
): Promise<TestApp> {
  const mw = logout(options)
  const sessionStore = setup.sessionStore ?? new session.MemoryStore()
  const errors: unknown[] = []
  const routes = appRoutes(mw)
  // The three flavours share `use([path], handler)`; nothing else of their APIs is used here.
  const app = (flavour === 'connect'
    ? connect()
    : flavour === 'express4'
      ? express4()
      : express()) as unknown as {
    use(...args: unknown[]): void
  } & RequestListener
  app.use(cookieParser())
  if (setup.session !== false) {
    app.use(
      session({
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        store: sessionStore,
        ...setup.sessionOptions,
      }),
    )
  }
  if (setup.parsers && flavour !== 'connect') {
    const lib = flavour === 'express4' ? express4 : express
    if (setup.parsers === true) app.use(lib.urlencoded({ extended: false }))
    app.use(lib.json())
  }
  app.use(setup.mount ?? '/', mw)
  const prefix = setup.prefix ?? ''
  app.use(`${prefix}/login`, routes.login)
  app.use(`${prefix}/api`, routes.api)
  app.use(`${prefix}/link`, routes.link)
  app.use(routes.fallback)
  app.use((err: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    errors.push(err)
    send(res, 500, `app error: ${(err as { code?: string }).code ?? String(err)}`)
  })
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const testApp: TestApp = {
    flavour,
    server,
    url,
    mw,
    sessionStore,
    errors,
    sessionIds: () => storedIds(sessionStore),
    login: (token, sessionToken) =>
      login(`${url}${prefix}`, token, sessionToken, setup.sessionOptions?.name ?? 'connect.sid'),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await mw.store.close?.()
    },
  }
  open.push(testApp)
  return testApp
}

function storedIds(store: session.Store): Promise<string[]> {
  return new Promise((resolve, reject) =>
    store.all!((err, sessions) => (err ? reject(err) : resolve(Object.keys(sessions ?? {})))),
  )
}

async function login(
  url: string,
  token: string | undefined,
  sessionToken: string | undefined,
  cookieName: string,
) {
  const query = sessionToken ? `?accessToken=${sessionToken}` : ''
  const response = await fetch(`${url}/login${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  const { id } = (await response.json()) as { id: string }
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${cookieName}=`))
  if (!setCookie) throw new Error(`no ${cookieName} cookie was set`)
  return { cookie: setCookie.split(';')[0]!, id }
}

export type TestAlg = 'RS256' | 'ES256' | 'EdDSA'

/** A signing key generated for this run, with its public JWK (kid and alg set). */
export interface TestKey {
  alg: TestAlg
  kid: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  jwk: JWK
}

export async function generateKey(alg: TestAlg = 'RS256', kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicKey, jwk }
}

export interface MintOptions {
  alg: string
  key: CryptoKey | Uint8Array
  kid?: string
  /** Extra or overriding protected-header fields. */
  header?: Record<string, unknown>
  /** Leave `iat` out (it is optional in a JWT). */
  omitIat?: boolean
}

/** Signs `claims`; `iat` defaults to now (unless `omitIat`) and `exp` to an hour later unless the claims set them. */
export async function mintToken(claims: JWTPayload, options: MintOptions): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.alg,
    ...(options.kid === undefined ? {} : { kid: options.kid }),
    ...options.header,
  })
  if (claims.iat === undefined && !options.omitIat) jwt.setIssuedAt()
  if (claims.exp === undefined) jwt.setExpirationTime('1h')
  return jwt.sign(options.key)
}

/** Mints with a {@link TestKey}. */
export function signWith(key: TestKey, claims: JWTPayload): Promise<string> {
  return mintToken(claims, { alg: key.alg, key: key.privateKey, kid: key.kid })
}

export interface JwksServer {
  /** The JWKS URL. */
  url: string
  /** How many times the key set was fetched. */
  fetches: number
  /** The keys served; replace to rotate. */
  keys: TestKey[]
  close(): Promise<void>
}

/** A local JWKS endpoint on 127.0.0.1, port 0, counting its fetches. */
export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const jwks: JwksServer = { url: '', fetches: 0, keys, close: async () => undefined }
  const server = createServer((req, res) => {
    jwks.fetches += 1
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ keys: jwks.keys.map((k) => k.jwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  jwks.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  jwks.close = async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return jwks
}

export interface ClearedAttrs {
  path?: string
  domain?: string
  secure?: boolean
  sameSite?: 'Strict' | 'Lax' | 'None'
  httpOnly?: boolean
}

/** Parses every `Set-Cookie` of a supertest/fetch response into name -> attributes (lower-cased keys). */
export function setCookies(headers: Record<string, unknown>): Map<string, Map<string, string>> {
  const raw = headers['set-cookie']
  const list = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)]
  const out = new Map<string, Map<string, string>>()
  for (const line of list) {
    const [pair = '', ...attrs] = line.split(';').map((p) => p.trim())
    const eq = pair.indexOf('=')
    const map = new Map([['value', pair.slice(eq + 1)]])
    for (const attr of attrs) {
      const at = attr.indexOf('=')
      map.set((at === -1 ? attr : attr.slice(0, at)).toLowerCase(), at === -1 ? '' : attr.slice(at + 1))
    }
    out.set(pair.slice(0, eq), map)
  }
  return out
}

/** Asserts `name` is deleted (empty, expired) with exactly the given Path/Domain/Secure/SameSite. */
export function expectClearedCookie(
  res: { headers: Record<string, unknown> },
  name: string,
  attrs: ClearedAttrs = {},
): void {
  const cookie = setCookies(res.headers).get(name)
  expect(cookie).toBeDefined()
  const get = (key: string) => cookie!.get(key)
  expect(get('value')).toBe('')
  expect(get('max-age') === '0' || new Date(get('expires') ?? '').getTime() <= Date.now()).toBe(true)
  expect(get('path')).toBe(attrs.path ?? '/')
  expect(get('domain')).toBe(attrs.domain)
  expect(cookie!.has('secure')).toBe(attrs.secure ?? false)
  expect(get('samesite')?.toLowerCase()).toBe(attrs.sameSite?.toLowerCase())
  if (attrs.httpOnly !== undefined) expect(cookie!.has('httponly')).toBe(attrs.httpOnly)
}
