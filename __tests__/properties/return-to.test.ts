import express from 'express'
import session from 'express-session'
import fc from 'fast-check'
import { auth0, logout, oidc, workos } from '../../lib/index.js'
import type { Provider } from '../../lib/index.js'
import { compileReturnTo } from '../../lib/request/return-to.js'
import { hostileReturnTo } from '../support/hostile-urls.js'
import { mint, nowSeconds as now, useTestKey } from '../support/jwt.js'
import { propertyParams } from '../support/properties.js'
import { serveApp } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

// A thousand HTTP round trips per property: generous on a loaded 2-core CI machine.
jest.setTimeout(240_000)

const BASE = 'https://app.example.com'
const ISSUER = 'https://idp.example.com/'
const ALLOWED = [
  '/bye',
  '/docs/*',
  'https://app.example.com/ok',
  'https://partner.example.org/back',
  'http://127.0.0.1:3000/x',
]
const ALLOWED_ORIGINS = new Set([
  'https://app.example.com',
  'https://partner.example.org',
  'http://127.0.0.1:3000',
])
/** Where an IdP logout URL carries the app's return target (SPEC.md §1, §5). */
const RETURN_PARAMS = ['returnTo', 'return_to', 'post_logout_redirect_uri']
const PRINTABLE = /^[\x21-\x7e]+$/

/** How a browser reads a `Location` sent in answer to `/logout` (WHATWG URL, relative to the request). */
function browserOrigin(location: string, requestUrl = `${BASE}/logout`): string {
  return new URL(location, requestUrl).origin
}

describe('returnTo policy (pure): a value is accepted only when it lands on an allowed origin', () => {
  const withBase = compileReturnTo({ allowed: ALLOWED, baseURL: new URL(BASE) })
  const withoutBase = compileReturnTo({ allowed: ALLOWED })

  function check(value: string): void {
    const a = withBase.resolve(value)
    if (a.ok) {
      expect(a.location).toMatch(PRINTABLE)
      expect(ALLOWED_ORIGINS.has(browserOrigin(a.location))).toBe(true)
      expect(a.url?.href).toBe(a.location)
    }
    const b = withoutBase.resolve(value)
    if (b.ok) {
      expect(b.location).toMatch(PRINTABLE)
      // Relative answers must stay on whatever origin the app runs on.
      const origin = browserOrigin(b.location, 'https://current.test/logout')
      expect(origin === 'https://current.test' || ALLOWED_ORIGINS.has(origin)).toBe(true)
    }
  }

  it('never accepts a value outside the allow-list (5,000 generated values)', () => {
    fc.assert(fc.property(hostileReturnTo, check), propertyParams(5000))
  })

  it.each([['/bye'], ['/docs/a/b'], ['https://partner.example.org/back'], ['/./bye'], ['/docs/../bye']])(
    'still accepts the allowed %s',
    (value) => {
      expect(withBase.resolve(value).ok).toBe(true)
    },
  )

  it.each([
    ['//evil.example'],
    ['/\\evil.example'],
    ['/.//evil.example'],
    ['/docs/..//evil.example'],
    ['https://app.example.com@evil.example/ok'],
    ['https://partner.example.org.evil.example/back'],
    ['http://2130706433:3000/x'],
    ['http://127.1:3000/x'],
    ['https://ａｐｐ.example.com/ok'],
    ['https://аpp.example.com/ok'],
    ['/bye\r\nSet-Cookie: a=b'],
    ['/bye%0d%0a'],
    ['HTTPS://partner.example.org/back'],
    [`/docs/${'a'.repeat(5000)}`],
  ])('refuses %s', (value) => {
    expect(withBase.resolve(value).ok).toBe(false)
  })
})

interface Target {
  name: string
  provider?: Provider
  /** Send a verified token carrying `sid` (WorkOS needs one to build its URL). */
  withToken: boolean
  /** The provider's origin: a Location there is the IdP redirect, whose return parameter is checked. */
  idpOrigin?: string
}

const TARGETS: Target[] = [
  { name: 'no provider', withToken: false },
  {
    name: 'auth0 v2',
    provider: auth0({ domain: '127.0.0.1:9', clientId: 'abc' }),
    withToken: false,
    idpOrigin: 'http://127.0.0.1:9',
  },
  {
    name: 'auth0 oidc',
    provider: auth0({ domain: '127.0.0.1:9', clientId: 'abc', endpoint: 'oidc' }),
    withToken: true,
    idpOrigin: 'http://127.0.0.1:9',
  },
  {
    name: 'workos',
    provider: workos({ clientId: 'client_1', apiHostname: '127.0.0.1:9' }),
    withToken: true,
    idpOrigin: 'http://127.0.0.1:9',
  },
  {
    name: 'oidc',
    provider: oidc({
      issuer: 'http://127.0.0.1:9',
      clientId: 'app',
      endSessionEndpoint: 'http://127.0.0.1:9/end',
    }),
    withToken: true,
    idpOrigin: 'http://127.0.0.1:9',
  },
]

describe('logout route over HTTP: no Location (or IdP return parameter) leaves the allow-list, never a 500', () => {
  const key = useTestKey('ES256')
  let token: string
  beforeAll(async () => {
    token = await mint(key, { iss: ISSUER, sid: 'idp-session', sub: 'user', iat: now(), exp: now() + 3600 })
  })

  async function listen(target: Target): Promise<Listening> {
    const app = express()
    app.use(session({ secret: 'property-secret', resave: false, saveUninitialized: false }))
    app.use(
      logout({
        provider: target.provider,
        baseURL: BASE,
        returnTo: { allowed: ALLOWED },
        accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER },
        logger: { warn: () => undefined, error: () => undefined },
      }),
    )
    return serveApp(app)
  }

  function checkLocation(target: Target, location: string): void {
    expect(location).toMatch(PRINTABLE)
    const url = new URL(location, `${BASE}/logout`)
    if (target.idpOrigin !== undefined && url.origin === target.idpOrigin) {
      for (const name of RETURN_PARAMS) {
        const back = url.searchParams.get(name)
        if (back !== null) expect(ALLOWED_ORIGINS.has(new URL(back).origin)).toBe(true)
      }
      return
    }
    expect(ALLOWED_ORIGINS.has(url.origin)).toBe(true)
  }

  it.each(TARGETS.map((t) => [t.name, t] as const))('%s', async (_, target) => {
    const server = await listen(target)
    const url = server.url
    try {
      const property = fc.asyncProperty(
        hostileReturnTo,
        fc.constantFrom('GET', 'POST'),
        async (value, method) => {
          const query = new URLSearchParams({ returnTo: value }).toString()
          const headers: Record<string, string> = target.withToken ? { authorization: `Bearer ${token}` } : {}
          // Node itself answers 431 to request heads over 16 KiB, before any middleware runs.
          const res =
            method === 'GET' && query.length < 12_000
              ? await fetch(`${url}/logout?${query}`, { headers, redirect: 'manual' })
              : await fetch(`${url}/logout`, {
                  method: 'POST',
                  headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
                  body: query,
                  redirect: 'manual',
                })
          await res.arrayBuffer()
          expect(res.status).toBeLessThan(500)
          expect(res.headers.get('cache-control')).toBe('no-store')
          const location = res.headers.get('location')
          if (res.status === 302 || res.status === 303) expect(location).not.toBeNull()
          if (location !== null) checkLocation(target, location)
        },
      )
      await fc.assert(property, propertyParams(1000))
    } finally {
      await server.close()
    }
  })
})
