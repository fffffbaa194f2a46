import { descope } from '../../lib/index.js'
import { refusedHost } from '../support/serve.js'
import { startStandIn } from '../support/stand-ins.js'
import type { StandIn } from '../support/stand-ins.js'
import { makeContext } from '../support/provider-context.js'

const PROJECT = 'P2test'
const REFRESH = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJVMSJ9.cmVmcmVzaA'

let idp: StandIn
beforeAll(async () => {
  idp = await startStandIn('descope', { projectId: PROJECT })
})
afterAll(() => idp.close())
beforeEach(() => {
  idp.mode = 'ok'
})

function provider(extra: Record<string, unknown> = {}) {
  return descope({ projectId: PROJECT, baseUrl: idp.origin, timeout: 3000, ...extra })
}

describe('descope', () => {
  it('POSTs /v1/auth/logout with Bearer projectId:refreshJwt and {} and lets the route redirect', async () => {
    const context = makeContext({ returnTo: 'https://app.example.com/', values: { 'cookie:DSR': REFRESH } })
    const before = idp.requests.length
    await expect(provider().endSession(context)).resolves.toEqual({})
    expect(idp.requests.length).toBe(before + 1)
    const request = idp.requests.at(-1)!
    expect(request).toMatchObject({ method: 'POST', path: '/v1/auth/logout', search: '', body: '{}' })
    expect(request.headers.authorization).toBe(`Bearer ${PROJECT}:${REFRESH}`)
    expect(request.headers['content-type']).toBe('application/json')
    expect(context.reads).toEqual(['cookie:DSR'])
  })

  it('uses /v1/auth/logoutall with all: true, and the configured refresh token source', async () => {
    const context = makeContext({ values: { 'session:descopeRefresh': REFRESH } })
    await expect(
      provider({ all: true, refreshToken: 'session:descopeRefresh' }).endSession(context),
    ).resolves.toEqual({})
    expect(idp.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/auth/logoutall', body: '{}' })
    expect(idp.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROJECT}:${REFRESH}`)
  })

  it('without a refresh token it makes no call and says so', async () => {
    const before = idp.requests.length
    await expect(provider().endSession(makeContext())).resolves.toEqual({
      notes: ['no Descope refresh token in cookie:DSR: the Descope session was not ended'],
    })
    expect(idp.requests.length).toBe(before)
  })

  it('clears DS and DSR, and supplies the project issuer and JWKS', () => {
    const p = descope({ projectId: PROJECT, cookieDomain: 'example.com' })
    expect(p.cookies).toEqual([
      { name: 'DS', path: '/', domain: 'example.com' },
      { name: 'DSR', path: '/', domain: 'example.com' },
    ])
    expect(p.issuer).toBe(`https://api.descope.com/${PROJECT}`)
    expect(p.metadata()).toEqual({ jwksUri: `https://api.descope.com/v2/keys/${PROJECT}` })
    expect(p.needsAbsoluteReturnTo).toBeFalsy()
    expect(descope({ projectId: PROJECT, issuer: PROJECT }).issuer).toBe(PROJECT)
  })

  it.each([
    ['upstream 500', '500', 'ERR_PROVIDER_RESPONSE', 'Descope logout answered HTTP 500'],
    ['timeout', 'hang', 'ERR_PROVIDER_REQUEST', 'Descope logout request timed out after 300 ms'],
    [
      'malformed body',
      'malformed',
      'ERR_PROVIDER_RESPONSE',
      'Descope logout answered a body that is not JSON',
    ],
  ] as const)('%s is returned as an error, never thrown', async (_name, mode, code, message) => {
    idp.mode = mode
    const started = Date.now()
    const result = await provider({ timeout: 300 }).endSession(
      makeContext({ values: { 'cookie:DSR': REFRESH } }),
    )
    expect(Date.now() - started).toBeLessThan(3000)
    expect(result.redirect).toBeUndefined()
    expect(result.errors).toHaveLength(1)
    expect(result.errors?.[0]).toMatchObject({ name: 'LogoutError', code, message, status: 502 })
  })

  it('a refused connection is returned as ERR_PROVIDER_REQUEST', async () => {
    const p = descope({ projectId: PROJECT, baseUrl: `http://${await refusedHost()}` })
    const result = await p.endSession(makeContext({ values: { 'cookie:DSR': REFRESH } }))
    expect(result.errors?.[0]).toMatchObject({
      code: 'ERR_PROVIDER_REQUEST',
      message: 'Descope logout request could not be sent',
    })
    expect(result.errors?.[0]?.cause).toMatchObject({ message: 'fetch failed' })
  })

  it('a refresh token Descope rejects (401) is reported', async () => {
    const p = descope({ projectId: 'P2other', baseUrl: idp.origin })
    const result = await p.endSession(makeContext({ values: { 'cookie:DSR': REFRESH } }))
    expect(result.errors?.[0]).toMatchObject({
      code: 'ERR_PROVIDER_RESPONSE',
      message: 'Descope logout answered HTTP 401',
    })
  })

  it.each([
    ['missing projectId', {}, /"descope.projectId" must be a non-empty string/],
    [
      'http baseUrl',
      { projectId: 'P', baseUrl: 'http://api.descope.com' },
      /"descope.baseUrl" must be an https URL/,
    ],
    [
      'baseUrl with path',
      { projectId: 'P', baseUrl: 'https://api.descope.com/v1' },
      /"descope.baseUrl" must be an origin/,
    ],
    ['zero timeout', { projectId: 'P', timeout: 0 }, /"descope.timeout" must be a whole number/],
    [
      'refreshToken header',
      { projectId: 'P', refreshToken: 'header' },
      /"descope.refreshToken" must be 'session:FIELD'/,
    ],
    ['typo', { projectId: 'P', baseURL: 'https://x.test' }, /did you mean "baseUrl"\?/],
  ])('%s throws a TypeError naming the option', (_name, options, message) => {
    expect(() => descope(options as never)).toThrow(message)
    expect(() => descope(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    )
  })
})
