import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import connect from 'connect'
import cookieParser from 'cookie-parser'
import express from 'express'
import express4 from 'express4'
import session from 'express-session'
import { logout } from '../../lib/index.js'
import type { LogoutEvent, LogoutMiddleware, LogoutOptions } from '../../lib/index.js'
import type { TestKey } from './jwt.js'
import { listen } from './serve.js'

export type Flavour = 'express5' | 'express4' | 'connect'
/** The matrix every route test runs under. */
export const FLAVOURS: Flavour[] = ['express5', 'express4', 'connect']
export const SECRET = 'test-session-secret'
export const ISSUER = 'https://idp.test/'
export const BASE_URL = 'https://app.test'

/** A custom provider for tests that construct the middleware and send it no request. */
export const unusedProvider = {
  name: 'idp',
  issuer: ISSUER,
  clientId: 'app',
  metadata: () => ({ jwksUri: 'https://idp.test/jwks' }),
  endSession: () => ({}),
}

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
  const { server, url, close } = await listen(app)
  const testApp: TestApp = {
    flavour,
    server,
    url,
    mw,
    sessionStore,
    errors,
    sessionIds: () => sessionIds(sessionStore),
    login: (token, sessionToken) =>
      login(`${url}${prefix}`, token, sessionToken, setup.sessionOptions?.name ?? 'connect.sid'),
    close: async () => {
      await close()
      await mw.store.close?.()
    },
  }
  open.push(testApp)
  return testApp
}

/** {@link createApp} with {@link localOptions} of `keys`, keeping every logout event it emits in `seen`. */
export async function recordingApp(
  flavour: Flavour,
  keys: TestKey[],
  extra: LogoutOptions = {},
): Promise<{ app: TestApp; seen: LogoutEvent[] }> {
  const seen: LogoutEvent[] = []
  const app = await createApp(flavour, localOptions(keys, { onLogout: (e) => void seen.push(e), ...extra }))
  return { app, seen }
}

/** Ids of the sessions an express-session store holds. */
export function sessionIds(store: session.Store): Promise<string[]> {
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
