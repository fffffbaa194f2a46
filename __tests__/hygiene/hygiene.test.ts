import { randomUUID } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import fc from 'fast-check'
import { auth0, logout, memoryStore, oidc } from '../../lib/index.js'
import type { LogoutMiddleware, LogoutOptions, Provider, Store } from '../../lib/index.js'
import { mint, nowSeconds as now, useTestKey } from '../support/jwt.js'
import { BACKCHANNEL_EVENT, testProvider } from '../support/logout-token.js'
import { propertyParams } from '../support/properties.js'
import { listen, serveApp } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

const ISSUER = 'https://idp.example.com/'
const BASE = 'https://app.example.com'

const key = useTestKey('ES256')
const servers: Listening[] = []

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

// The client is registered for ES256 ID tokens, so its logout tokens are pinned to ES256.
const idp: Provider = {
  ...testProvider({ idTokenSigningAlgValues: ['ES256'] }, { issuer: ISSUER, clientId: 'app' }),
  idTokenSigningAlg: 'ES256',
}

interface App {
  url: string
  middleware: LogoutMiddleware
}

async function startApp(options: LogoutOptions): Promise<App> {
  const middleware = logout(options)
  const app = express()
  app.use(session({ secret: 'hygiene-secret', resave: false, saveUninitialized: false }))
  app.use(middleware)
  app.get('/login', (req, res) => {
    ;(req.session as unknown as Record<string, unknown>).user = 'alice'
    res.end('ok')
  })
  app.get('/api', middleware.guard, (_req, res) => res.end('api ok'))
  const server = await serveApp(app)
  servers.push(server)
  return { url: server.url, middleware }
}

function fullOptions(extra: LogoutOptions = {}): LogoutOptions {
  return {
    provider: idp,
    baseURL: BASE,
    accessToken: { jwks: { keys: [key.jwk] } },
    returnTo: { allowed: ['/bye'] },
    backchannel: { path: '/backchannel' },
    frontchannel: { path: '/frontchannel' },
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  }
}

function logoutToken(claims: Record<string, unknown> = {}): Promise<string> {
  const base = { iss: ISSUER, aud: 'app', iat: now(), exp: now() + 120, jti: randomUUID(), sid: 's-1' }
  return mint(key, { ...base, events: { [BACKCHANNEL_EVENT]: {} }, ...claims }, { typ: 'logout+jwt' })
}

describe('Cache-Control: no-store on every logout, back-channel, front-channel and guard answer', () => {
  type Call = (app: App) => Promise<globalThis.Response>
  const post = (path: string, init: RequestInit = {}): Call => {
    return (app) => fetch(`${app.url}${path}`, { method: 'POST', redirect: 'manual', ...init })
  }
  const get = (path: string, init: RequestInit = {}): Call => {
    return (app) => fetch(`${app.url}${path}`, { redirect: 'manual', ...init })
  }
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  it.each<[string, number, Call]>([
    ['logout GET', 302, get('/logout', { headers: { 'sec-fetch-site': 'same-origin' } })],
    ['logout POST', 303, post('/logout')],
    ['logout JSON', 200, post('/logout', { headers: { accept: 'application/json' } })],
    [
      'logout, returnTo not allowed',
      400,
      get('/logout?returnTo=https://evil.example/', { headers: { 'sec-fetch-site': 'same-origin' } }),
    ],
    ['logout, cross-site POST', 403, post('/logout', { headers: { origin: 'https://evil.example' } })],
    ['logout, body too large', 413, post('/logout', { headers: form, body: `a=${'x'.repeat(20_000)}` })],
    [
      'back-channel, valid token',
      200,
      async (app) =>
        post('/backchannel', { headers: form, body: `logout_token=${await logoutToken()}` })(app),
    ],
    ['back-channel, invalid token', 400, post('/backchannel', { headers: form, body: 'logout_token=abc' })],
    ['back-channel, GET', 405, get('/backchannel')],
    [
      'back-channel, body too large',
      413,
      post('/backchannel', { headers: form, body: `logout_token=${'x'.repeat(20_000)}` }),
    ],
    [
      'front-channel, matching iss and sid',
      200,
      get(`/frontchannel?iss=${encodeURIComponent(ISSUER)}&sid=s-1`),
    ],
    ['front-channel, iss without sid', 400, get(`/frontchannel?iss=${encodeURIComponent(ISSUER)}`)],
    ['front-channel, POST', 405, post('/frontchannel')],
    [
      'guard, revoked token',
      401,
      async (app) => {
        const jwt = await mint(key, { iss: ISSUER, sid: 'guarded', iat: now() - 10, exp: now() + 600 })
        await app.middleware.revoke({ sid: 'guarded' })
        return get('/api', { headers: { authorization: `Bearer ${jwt}` } })(app)
      },
    ],
  ])('%s answers %d with no-store', async (_, status, call) => {
    const app = await startApp(fullOptions())
    const res = await call(app)
    await res.arrayBuffer()
    expect(res.status).toBe(status)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('guard answers 503 with no-store when the store is down', async () => {
    const store = memoryStore()
    store.revokedAt = () => Promise.reject(new Error('store down'))
    const app = await startApp(fullOptions({ store }))
    const jwt = await mint(key, { iss: ISSUER, sid: 'x', iat: now(), exp: now() + 600 })
    const res = await fetch(`${app.url}/api`, { headers: { authorization: `Bearer ${jwt}` } })
    expect(res.status).toBe(503)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})

describe('no CR/LF (nor any control character) ever reaches a response header', () => {
  const encodedControls = fc.constantFrom(
    '%0d%0a',
    '%0D%0A',
    '%0a',
    '%0d',
    '%00',
    '%7f',
    '%c2%85',
    '%e2%80%a8',
    '\t',
    ' ',
  )
  const piece = fc.oneof(
    encodedControls,
    fc.constantFrom('Set-Cookie:%20x=y', 'Location:%20https://evil.example', '/bye', 'a', '=', ';', ','),
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
  )
  const hostile = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''))

  it('holds for 1,000 hostile query, cookie and header values (providers that copy them into URLs)', async () => {
    const provider = auth0({
      domain: '127.0.0.1:9',
      clientId: 'abc',
      endpoint: 'oidc',
      idToken: 'cookie:id_token',
    })
    const plain = await startApp(fullOptions({ provider, backchannel: undefined, frontchannel: undefined }))
    const rp = oidc({
      issuer: 'http://127.0.0.1:9',
      clientId: 'app',
      endSessionEndpoint: 'http://127.0.0.1:9/end',
      idToken: 'cookie:id_token',
      logoutHint: 'cookie:hint',
    })
    const other = await startApp(
      fullOptions({ provider: rp, backchannel: undefined, frontchannel: undefined }),
    )
    const property = fc.asyncProperty(
      fc.constantFrom(plain, other),
      hostile,
      hostile,
      hostile,
      fc.constantFrom('GET', 'POST'),
      async (app, returnTo, cookieValue, headerValue, method) => {
        const cookie = ['id_token', 'hint', 'access_token', 'connect.sid', 'DSR']
          .map((name) => `${name}=${cookieValue}`)
          .join('; ')
        const res = await fetch(`${app.url}/logout?returnTo=${returnTo}`, {
          method,
          redirect: 'manual',
          headers: { cookie, authorization: `Bearer ${headerValue}`, accept: headerValue },
        })
        await res.arrayBuffer()
        expect(res.status).toBeLessThan(500)
        res.headers.forEach((value) => expect(value).toMatch(/^[\x20-\x7e]*$/))
        expect(res.headers.get('cache-control')).toBe('no-store')
      },
    )
    await fc.assert(property, propertyParams(1000))
    // A thousand real requests: Jest's default 5 s per test is for unit tests, and a shared CI
    // machine may take a minute over them.
  }, 120_000)
})

describe('logs at the default level carry no token, sid or session id', () => {
  function captureConsole(): { lines: string[]; restore: () => void } {
    const lines: string[] = []
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(
          args.map((a) => (a instanceof Error ? `${a.message} ${a.stack ?? ''}` : String(a))).join(' '),
        )
      }),
    )
    const write = process.stderr.write.bind(process.stderr)
    const stderr = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: unknown, ...rest: unknown[]) => {
        lines.push(String(chunk))
        return write(chunk as string, ...(rest as []))
      })
    return {
      lines,
      restore: () => {
        for (const spy of spies) spy.mockRestore()
        stderr.mockRestore()
      },
    }
  }

  /** The secrets of a run: every token, each token segment, every sid and session id. */
  function secretsOf(values: string[]): string[] {
    return values.flatMap((v) => [v, ...v.split('.').filter((part) => part.length >= 16)])
  }

  it('with the default console logger, through store outages, provider failures and invalid tokens', async () => {
    const { lines, restore } = captureConsole()
    let failing = false
    const inner = memoryStore()
    const store: Store = {
      ...inner,
      link: (...a) => (failing ? Promise.reject(new Error('store down')) : inner.link(...a)),
      take: (...a) => (failing ? Promise.reject(new Error('store down')) : inner.take(...a)),
      revoke: (...a) => (failing ? Promise.reject(new Error('store down')) : inner.revoke(...a)),
      revokedAt: (...a) => (failing ? Promise.reject(new Error('store down')) : inner.revokedAt(...a)),
      claimJti: (...a) => (failing ? Promise.reject(new Error('store down')) : inner.claimJti(...a)),
    }
    const broken = await listen((_req, res) => {
      res.writeHead(500)
      res.end('{"error":"down"}')
    })
    try {
      const provider = oidc({
        issuer: broken.url,
        clientId: 'app',
        revoke: ['refresh_token'],
        idToken: 'cookie:id_token',
        refreshToken: 'cookie:refresh',
      })
      const app = await startApp({
        provider,
        baseURL: BASE,
        accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER },
        backchannel: { path: '/backchannel', algorithms: ['ES256'] },
        store,
      })
      const sid = `sid-${randomUUID()}`
      const good = await mint(key, { iss: ISSUER, sid, sub: 'alice', iat: now(), exp: now() + 600 })
      const expired = await mint(key, { iss: ISSUER, sid, iat: now() - 3 * 86400, exp: now() - 2 * 86400 })
      const forged = `${good.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`
      const refresh = `refresh-${randomUUID()}`
      const idToken = await mint(key, { iss: ISSUER, sid, aud: 'app' })
      const login = await fetch(`${app.url}/login`, { headers: { authorization: `Bearer ${good}` } })
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!
      const sessionId = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!
      const cookies = `${cookie}; id_token=${idToken}; refresh=${refresh}`
      for (const token of [good, expired, forged]) {
        await fetch(`${app.url}/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: cookies, authorization: `Bearer ${token}` },
        })
        await fetch(`${app.url}/api`, { headers: { authorization: `Bearer ${token}` } })
      }
      const bad = await logoutToken({ aud: 'other', sid })
      failing = true
      for (const token of [good, forged]) {
        await fetch(`${app.url}/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: cookies, authorization: `Bearer ${token}` },
        })
        await fetch(`${app.url}/api`, { headers: { authorization: `Bearer ${token}` } })
        await fetch(`${app.url}/login`, { headers: { authorization: `Bearer ${token}` } })
      }
      for (const token of [bad, await logoutToken({ sid })]) {
        await fetch(`${app.url}/backchannel`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `logout_token=${token}`,
        })
      }
      expect(lines.length).toBeGreaterThan(0)
      const text = lines.join('\n')
      for (const secret of secretsOf([good, expired, forged, refresh, idToken, bad, sid, sessionId])) {
        expect(text).not.toContain(secret)
      }
    } finally {
      restore()
      await broken.close()
    }
  })
})
