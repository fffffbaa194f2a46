import { entra, keycloak, okta } from '../../lib/index.js'
import { STATE_COOKIE } from '../../lib/providers/state.js'
import { endpointOf, makeContext, queryOf } from '../support/provider-context.js'

const RETURN_TO = 'https://app.example.com/goodbye?from=logout'
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln'

describe('okta', () => {
  it('sends the browser to the custom authorization server logout with id_token_hint, redirect and state', async () => {
    const provider = okta({ domain: 'acme.okta.com', authorizationServerId: 'default', clientId: '0oa1' })
    const context = makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': ID_TOKEN } })
    const result = await provider.endSession(context)
    expect(endpointOf(result.redirect)).toBe('https://acme.okta.com/oauth2/default/v1/logout')
    const state = context.cookies[0]?.value
    expect(queryOf(result.redirect)).toEqual({
      id_token_hint: ID_TOKEN,
      post_logout_redirect_uri: RETURN_TO,
      state,
    })
    expect(context.cookies).toEqual([
      {
        name: STATE_COOKIE,
        value: expect.stringMatching(/^[\w-]{32}$/),
        spec: { path: '/', httpOnly: true, sameSite: 'lax', secure: true, maxAge: 600 },
      },
    ])
    expect(provider.issuer).toBe('https://acme.okta.com/oauth2/default')
    expect(await provider.metadata()).toEqual({
      jwksUri: 'https://acme.okta.com/oauth2/default/v1/keys',
    })
  })

  it('uses the org authorization server paths without authorizationServerId', async () => {
    const provider = okta({ domain: 'acme.okta.com', clientId: '0oa1', idToken: 'cookie:id_token' })
    const result = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'cookie:id_token': ID_TOKEN } }),
    )
    expect(endpointOf(result.redirect)).toBe('https://acme.okta.com/oauth2/v1/logout')
    expect(provider.issuer).toBe('https://acme.okta.com')
    expect(await provider.metadata()).toEqual({ jwksUri: 'https://acme.okta.com/oauth2/v1/keys' })
  })

  it('does not send the user to an Okta error page when there is no ID token', async () => {
    const provider = okta({ domain: 'acme.okta.com', clientId: '0oa1' })
    const context = makeContext({ returnTo: RETURN_TO, sid: 'sid-1' })
    const result = await provider.endSession(context)
    expect(result.redirect).toBeUndefined()
    expect(result.notes).toEqual([
      'no ID token in session:idToken: Okta requires id_token_hint, so the Okta session was not ended',
    ])
    expect(context.cookies).toEqual([])
  })
})

describe('keycloak', () => {
  it('always sends client_id with the redirect, and the hint when there is one', async () => {
    const provider = keycloak({
      baseUrl: 'https://sso.example.com/auth',
      realm: 'acme corp',
      clientId: 'web',
    })
    const withHint = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': ID_TOKEN } }),
    )
    expect(endpointOf(withHint.redirect)).toBe(
      'https://sso.example.com/auth/realms/acme%20corp/protocol/openid-connect/logout',
    )
    expect(queryOf(withHint.redirect)).toEqual({
      id_token_hint: ID_TOKEN,
      client_id: 'web',
      post_logout_redirect_uri: RETURN_TO,
      state: expect.any(String),
    })
    const withoutHint = await provider.endSession(makeContext({ returnTo: RETURN_TO }))
    expect(queryOf(withoutHint.redirect)).toEqual({
      client_id: 'web',
      post_logout_redirect_uri: RETURN_TO,
      state: expect.any(String),
    })
    expect(provider.issuer).toBe('https://sso.example.com/auth/realms/acme%20corp')
    expect(await provider.metadata()).toEqual({
      jwksUri: 'https://sso.example.com/auth/realms/acme%20corp/protocol/openid-connect/certs',
    })
  })

  it('passes ui_locales through', async () => {
    const provider = keycloak({
      baseUrl: 'https://sso.example.com',
      realm: 'acme',
      clientId: 'web',
      uiLocales: 'de en',
    })
    const result = await provider.endSession(makeContext({ returnTo: RETURN_TO }))
    expect(queryOf(result.redirect).ui_locales).toBe('de en')
  })
})

describe('entra', () => {
  it('sends the browser to the tenant logout endpoint with id_token_hint and the redirect', async () => {
    const provider = entra({ tenant: 'contoso.onmicrosoft.com', clientId: 'app-1' })
    const result = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': ID_TOKEN } }),
    )
    expect(endpointOf(result.redirect)).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/logout',
    )
    expect(queryOf(result.redirect)).toEqual({
      id_token_hint: ID_TOKEN,
      post_logout_redirect_uri: RETURN_TO,
      state: expect.any(String),
    })
    expect(provider.issuer).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0')
    expect(await provider.metadata()).toEqual({
      jwksUri: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys',
    })
  })

  it('sends logout_hint from the configured source', async () => {
    const provider = entra({ tenant: 'common', clientId: 'app-1', logoutHint: 'session:loginHint' })
    const result = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:loginHint': 'lh-1' } }),
    )
    expect(queryOf(result.redirect).logout_hint).toBe('lh-1')
  })
})

describe('preset options', () => {
  it.each([
    [
      'okta without domain',
      () => okta({ clientId: 'c' } as never),
      /"okta.domain" must be a non-empty string/,
    ],
    [
      'okta with a URL domain',
      () => okta({ domain: 'https://acme.okta.com', clientId: 'c' }),
      /"okta.domain" must be a host/,
    ],
    [
      'okta typo',
      () => okta({ domain: 'a.okta.com', clientId: 'c', authorisationServerId: 'x' } as never),
      /did you mean "authorizationServerId"/,
    ],
    [
      'keycloak http base',
      () => keycloak({ baseUrl: 'http://sso.example.com', realm: 'r', clientId: 'c' }),
      /"keycloak.baseUrl" must be an https URL/,
    ],
    [
      'keycloak typo',
      () => keycloak({ baseUrl: 'https://s.test', realm: 'r', clientid: 'c' } as never),
      /"keycloak.clientid" is not a known option; did you mean "clientId"/,
    ],
    [
      'entra revoke',
      () => entra({ tenant: 't', clientId: 'c', revoke: ['refresh_token'] } as never),
      /"entra.revoke" is not a known option/,
    ],
    [
      'entra tenant path',
      () => entra({ tenant: '../evil', clientId: 'c' }),
      /"entra.tenant" must be a tenant id/,
    ],
    [
      'bad revoke list',
      () => okta({ domain: 'a.okta.com', clientId: 'c', revoke: ['id_token'] as never }),
      /"okta.revoke" must be a list/,
    ],
    [
      'bad idToken source',
      () => okta({ domain: 'a.okta.com', clientId: 'c', idToken: 'header' }),
      /"okta.idToken" must be 'session:FIELD' or 'cookie:NAME'/,
    ],
  ])('%s throws a TypeError naming the option', (_name, build, message) => {
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
    expect(build).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })
})
