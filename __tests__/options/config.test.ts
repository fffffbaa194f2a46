import { generateKeyPairSync } from 'node:crypto'
import { logout, memoryStore } from '../../lib/index.js'
import type { LogoutOptions } from '../../lib/index.js'

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const publicJwk = publicKey.export({ format: 'jwk' })
const privateJwk = privateKey.export({ format: 'jwk' })

function thrown(options: unknown): TypeError & { code?: string } {
  try {
    const mw = logout(options as LogoutOptions)
    void mw.store.close?.()
  } catch (err) {
    return err as TypeError & { code?: string }
  }
  throw new Error('expected logout() to throw')
}

function expectOptionError(options: unknown, name: string, hint?: string): void {
  const error = thrown(options)
  expect(error).toBeInstanceOf(TypeError)
  expect(error.code).toBe('ERR_INVALID_ARG_VALUE')
  expect(error.message).toContain(`"${name}"`)
  if (hint) expect(error.message).toContain(`did you mean "${hint}"?`)
}

describe('logout() options', () => {
  it.each<[unknown, string, string]>([
    [{ retrunTo: {} }, 'options.retrunTo', 'returnTo'],
    [{ basURL: 'https://app.test' }, 'options.basURL', 'baseURL'],
    [{ cookie: [] }, 'options.cookie', 'cookies'],
    [{ onlogout: () => undefined }, 'options.onlogout', 'onLogout'],
    [{ accessToken: { audiance: 'x' } }, 'options.accessToken.audiance', 'audience'],
    [{ accessToken: { jkws: 'https://x.test/jwks' } }, 'options.accessToken.jkws', 'jwks'],
    [{ returnTo: { alowed: [] } }, 'options.returnTo.alowed', 'allowed'],
    [{ guard: { failopen: true } }, 'options.guard.failopen', 'failOpen'],
    [{ cookies: [{ name: 'a', domian: 'x' }] }, 'options.cookies[0].domian', 'domain'],
  ])('refuses the unknown key in %j with a did-you-mean hint', (options, name, hint) => {
    expectOptionError(options, name, hint)
  })

  it('lists the known options when nothing is close', () => {
    const error = thrown({ zzzzzzzz: 1 })
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE')
    expect(error.message).toMatch(
      /"options\.zzzzzzzz" is not a known option; known options: provider, path, /,
    )
  })

  it.each<[string, unknown]>([
    ['options', 'x'],
    ['options', [1]],
    ['options.provider', {}],
    ['options.provider', 'auth0'],
    ['options.path', 'logout'],
    ['options.path', 5],
    ['options.path', '/logout?x=1'],
    ['options.path', '/log out'],
    ['options.methods', 'GET'],
    ['options.methods', []],
    ['options.methods[0]', ['PUT']],
    ['options.methods[1]', ['GET', 'get']],
    ['options.baseURL', 5],
    ['options.baseURL', 'app.test'],
    ['options.baseURL', 'ftp://app.test'],
    ['options.baseURL', 'http://app.test'],
    ['options.baseURL', 'https://app.test/path'],
    ['options.baseURL', 'https://app.test/?q'],
    ['options.baseURL', 'https://user:pw@app.test'],
    ['options.accessToken', 'x'],
    ['options.returnTo', 'x'],
    ['options.returnTo.allowed', '/bye'],
    ['options.returnTo.allowed[0]', [5]],
    ['options.returnTo.allowed[1]', ['/bye', '//evil.example']],
    ['options.returnTo.allowed[0]', ['javascript:alert(1)']],
    ['options.returnTo.default', 'https:evil.example'],
    ['options.returnTo.default', 5],
    ['options.sessionStore', {}],
    ['options.sessionStore', 'memory'],
    ['options.store', {}],
    ['options.store', { ...memoryStore({ sweepInterval: 3600 }), take: undefined }],
    ['options.cookies', 'connect.sid'],
    ['options.cookies[0]', [5]],
    ['options.cookies[0].name', [{ name: 'a b' }]],
    ['options.cookies[0].name', [{ name: '' }]],
    ['options.cookies[1].path', ['ok', { name: 'a', path: '/a;b' }]],
    ['options.cookies[0].domain', [{ name: 'a', domain: 'a b' }]],
    ['options.cookies[0]', [{ name: '__Host-a', domain: 'app.test' }]],
    ['options.cookies[0]', [{ name: '__Host-a', path: '/x' }]],
    ['options.cookies[0].sameSite', [{ name: 'a', sameSite: 'Strict' }]],
    ['options.cookies[0].secure', [{ name: 'a', secure: 'yes' }]],
    ['options.cookies[0].httpOnly', [{ name: 'a', httpOnly: 1 }]],
    ['options.clearSiteData', 'cookies'],
    ['options.clearSiteData[0]', ['everything']],
    ['options.clearSiteData[1]', ['cookies', '"cache"']],
    ['options.onLogout', 'log'],
    ['options.everywhere', 'yes'],
    ['options.retention', 0],
    ['options.retention', '14d'],
    ['options.retention', Number.NaN],
    ['options.guard', true],
    ['options.guard.failOpen', 'no'],
    ['options.guard.claims', {}],
    ['options.logger', {}],
    ['options.logger', { warn: () => undefined }],
  ])('refuses a bad %s (%p)', (name, value) => {
    const path = name.replace(/^options\.?/, '').split(/[.[]/)[0] ?? ''
    const options = path === '' ? value : { [path]: nest(name, value) }
    expectOptionError(options, name)
  })

  it.each<[string, Record<string, unknown>]>([
    ['options.accessToken.from', { from: 'header' }],
    ['options.accessToken.from[0]', { from: ['query:token'] }],
    ['options.accessToken.from[1]', { from: ['header', 'cookie:'] }],
    ['options.accessToken.from[0]', { from: ['Header'] }],
    ['options.accessToken.jwks', { jwks: 'http://idp.example/jwks' }],
    ['options.accessToken.jwks', { jwks: 'not a url' }],
    ['options.accessToken.jwks', { jwks: { keys: 'x' } }],
    ['options.accessToken.jwks', { jwks: { keys: [privateJwk] } }],
    ['options.accessToken.jwks', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }],
    ['options.accessToken.key', { key: 'secret' }],
    ['options.accessToken.key', { key: new Uint8Array(16) }],
    ['options.accessToken.key', { key: privateKey }],
    ['options.accessToken.key', { key: privateJwk }],
    ['options.accessToken.key', { key: publicJwk, jwks: { keys: [publicJwk] } }],
    ['options.accessToken.issuer', { issuer: 5 }],
    ['options.accessToken.issuer', { issuer: '' }],
    ['options.accessToken.audience', { audience: 5 }],
    ['options.accessToken.audience[1]', { audience: ['a', 5] }],
    ['options.accessToken.algorithms', { algorithms: 'RS256' }],
    ['options.accessToken.algorithms', { algorithms: [] }],
    ['options.accessToken.algorithms[0]', { algorithms: ['none'] }],
    ['options.accessToken.algorithms[0]', { algorithms: ['HS256'] }],
    ['options.accessToken.algorithms[0]', { algorithms: ['RS256'], key: new Uint8Array(32) }],
    ['options.accessToken.sidClaim', { sidClaim: 5 }],
    ['options.accessToken.expiredGrace', { expiredGrace: -1 }],
    ['options.accessToken.expiredGrace', { expiredGrace: '1d' }],
    ['options.accessToken.expiredGrace', { expiredGrace: Infinity }],
    ['options.accessToken.clockTolerance', { clockTolerance: -5 }],
    ['options.accessToken.maxLength', { maxLength: 10 }],
  ])('refuses a bad %s (%p)', (name, accessToken) => {
    expectOptionError({ accessToken }, name)
  })

  it('refuses a provider that needs an absolute returnTo without baseURL', () => {
    const provider = {
      name: 'strict',
      needsAbsoluteReturnTo: true,
      metadata: async () => ({}),
      endSession: async () => ({}),
    }
    expectOptionError({ provider }, 'options.baseURL')
  })

  it('quotes the option and carries what was expected and received as cause', () => {
    const error = thrown({ methods: ['GET', 'DELETE'] })
    expect(error.message).toBe('"options.methods[1]" must be "GET" or "POST"')
    expect(error.cause).toEqual({ expected: '"GET" or "POST"', received: 'DELETE' })
  })

  it('accepts every documented option', () => {
    const mw = logout({
      path: '/signout',
      methods: ['POST'],
      baseURL: 'https://app.test',
      accessToken: {
        from: ['header', 'cookie:at', 'session:accessToken', 'body:access_token'],
        jwks: { keys: [publicJwk as never] },
        issuer: 'https://idp.test/',
        audience: ['https://api.test'],
        algorithms: ['ES256'],
        sidClaim: 'sid',
        expiredGrace: 3600,
      },
      returnTo: { allowed: ['/bye', 'https://app.test/docs/*'], default: '/bye' },
      sessionStore: { destroy: (_id, cb) => cb?.() },
      store: memoryStore({ sweepInterval: 3600 }),
      cookies: ['at', { name: '__Host-x', secure: true }],
      clearSiteData: ['cookies'],
      onLogout: () => undefined,
      everywhere: true,
      retention: 86400,
      guard: { failOpen: true, claims: () => undefined },
      logger: console,
    })
    expect(typeof mw).toBe('function')
    expect(mw.name).toBe('logoutMiddleware')
    void mw.store.close?.()
  })
})

/** Builds `{ a: { b: value } }` from `options.a.b`, stopping at the first array index. */
function nest(name: string, value: unknown): unknown {
  const parts = name
    .replace(/^options\./, '')
    .split('[')[0]!
    .split('.')
  return parts.slice(1).reduceRight<unknown>((inner, part) => ({ [part]: inner }), value)
}
