// An option given as `undefined` (the key is there, its value is not) is usually `process.env.X`
// with X unset. A deployment setting whose absence changes what the IdP or the checks do is warned
// about once; a required one says the likely cause in its error; the rest pass as "not set".
import type * as Package from '../../lib/index.js'

type Lib = typeof Package

let lib: Lib
let warn: jest.SpyInstance
let unset: string | undefined

beforeEach(async () => {
  // What was warned about is module state: every test gets a fresh copy of the package.
  jest.resetModules()
  lib = await import('../../lib/index.js')
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
  delete process.env.SSO_LOGOUT_UNSET_FOR_TESTS
  unset = process.env.SSO_LOGOUT_UNSET_FOR_TESTS
})
afterEach(() => warn.mockRestore())

const ISSUER = 'https://id.example.com'
const likelyCause = (path: string) => `"${path}" is undefined; is an environment variable missing?`

describe('auth0.clientId given as undefined', () => {
  it('warns once with the option, the likely cause and what happens instead, and is not set', () => {
    const provider = lib.auth0({ domain: 'acme.eu.auth0.com', clientId: unset })
    lib.auth0({ domain: 'acme.eu.auth0.com', clientId: unset })
    expect(warn).toHaveBeenCalledTimes(1)
    const message = warn.mock.calls[0][0] as string
    expect(message).toContain(likelyCause('auth0.clientId'))
    expect(message).toContain("the tenant's Allowed Logout URLs instead of the application's")
    expect(provider.clientId).toBeUndefined()
  })

  it('says nothing when the option is left out', () => {
    expect(lib.auth0({ domain: 'acme.eu.auth0.com' }).clientId).toBeUndefined()
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('other deployment settings given as undefined warn once', () => {
  it.each<[string, (lib: Lib, unset: undefined) => unknown]>([
    ['workos.issuer', (l, u) => l.workos({ clientId: 'client_1', issuer: u })],
    ['workos.apiHostname', (l, u) => l.workos({ clientId: 'client_1', apiHostname: u })],
    ['descope.baseUrl', (l, u) => l.descope({ projectId: 'P2abc', baseUrl: u })],
    ['descope.cookieDomain', (l, u) => l.descope({ projectId: 'P2abc', cookieDomain: u })],
    ['descope.issuer', (l, u) => l.descope({ projectId: 'P2abc', issuer: u })],
    [
      'oidc.clientSecret',
      (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', clientSecret: u, revoke: ['refresh_token'] }),
    ],
    [
      'keycloak.clientSecret',
      (l, u) =>
        l.keycloak({
          baseUrl: ISSUER,
          realm: 'r',
          clientId: 'app',
          clientSecret: u,
          revoke: ['access_token'],
        }),
    ],
    ['oidc.endSessionEndpoint', (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', endSessionEndpoint: u })],
    ['oidc.revocationEndpoint', (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', revocationEndpoint: u })],
    [
      'okta.authorizationServerId',
      (l, u) => l.okta({ domain: 'acme.okta.com', clientId: 'app', authorizationServerId: u }),
    ],
    ['cognito.userPoolId', (l, u) => l.cognito({ domain: 'auth.example.com', clientId: 'c', userPoolId: u })],
  ])('%s', (path, build) => {
    build(lib, unset as undefined)
    build(lib, unset as undefined)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toContain(likelyCause(path))
  })
})

describe('settings whose absence changes nothing, or that are written in code, pass silently', () => {
  it.each<[string, (lib: Lib, unset: undefined) => unknown]>([
    // No revocation, so no client authentication to lose.
    [
      'oidc.clientSecret without revoke',
      (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', clientSecret: u }),
    ],
    ['oidc.uiLocales', (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', uiLocales: u })],
    ['oidc.idToken', (l, u) => l.oidc({ issuer: ISSUER, clientId: 'app', idToken: u })],
    ['auth0.federated', (l, u) => l.auth0({ domain: 'acme.eu.auth0.com', federated: u })],
    ['descope.timeout', (l, u) => l.descope({ projectId: 'P2abc', timeout: u })],
  ])('%s', (_name, build) => {
    build(lib, unset as undefined)
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('required settings given as undefined', () => {
  it.each<[string, (lib: Lib, unset: string) => unknown]>([
    ['auth0.domain', (l, u) => l.auth0({ domain: u })],
    ['workos.clientId', (l, u) => l.workos({ clientId: u })],
    ['descope.projectId', (l, u) => l.descope({ projectId: u })],
    ['oidc.issuer', (l, u) => l.oidc({ issuer: u, clientId: 'app' })],
    ['oidc.clientId', (l, u) => l.oidc({ issuer: ISSUER, clientId: u })],
    ['okta.clientId', (l, u) => l.okta({ domain: 'acme.okta.com', clientId: u })],
    ['keycloak.realm', (l, u) => l.keycloak({ baseUrl: ISSUER, realm: u, clientId: 'app' })],
    ['entra.tenant', (l, u) => l.entra({ tenant: u, clientId: 'app' })],
    ['cognito.clientId', (l, u) => l.cognito({ domain: 'auth.example.com', clientId: u })],
  ])('%s throws the option TypeError naming the likely cause', (path, build) => {
    let error: unknown
    try {
      build(lib, unset as string)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: `"${path}" must be a non-empty string; it is undefined: is an environment variable missing?`,
    })
  })

  it('left out, the error does not guess at a cause', () => {
    expect(() => lib.workos({} as never)).toThrow(/^"workos.clientId" must be a non-empty string$/)
  })
})
