import { auth0 } from '../../lib/index.js'
import { STATE_COOKIE } from '../../lib/providers/state.js'
import { startStandIn } from '../support/stand-ins.js'
import type { StandIn } from '../support/stand-ins.js'
import { endpointOf, makeContext, queryOf } from '../support/provider-context.js'

const RETURN_TO = 'https://app.example.com/'
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSIsInNpZCI6InMxIn0.c2ln'

let idp: StandIn
beforeAll(async () => {
  idp = await startStandIn('auth0', { allowedLogoutUrls: [RETURN_TO] })
})
afterAll(() => idp.close())

/** Follows the redirect to the stand-in the way a browser would (one hop), and reports where it goes next. */
async function visit(url: URL | undefined): Promise<{ status: number; location: string | null }> {
  if (!url) throw new Error('expected a redirect')
  const response = await fetch(url, { redirect: 'manual' })
  return { status: response.status, location: response.headers.get('location') }
}

describe('auth0 v2', () => {
  it('redirects to /v2/logout with returnTo and client_id, and Auth0 sends the user back', async () => {
    const provider = auth0({ domain: idp.host, clientId: 'abc123' })
    const result = await provider.endSession(makeContext({ returnTo: RETURN_TO, sid: 's1' }))
    expect(endpointOf(result.redirect)).toBe(`${idp.origin}/v2/logout`)
    expect(queryOf(result.redirect)).toEqual({ returnTo: RETURN_TO, client_id: 'abc123' })
    expect(result.errors).toBeUndefined()
    await expect(visit(result.redirect)).resolves.toEqual({ status: 302, location: RETURN_TO })
    expect(idp.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/v2/logout',
      query: { returnTo: RETURN_TO },
    })
  })

  it('adds federated as a flag with no value and never an id_token_hint', async () => {
    const provider = auth0({ domain: idp.host, federated: true })
    const context = makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': ID_TOKEN } })
    const result = await provider.endSession(context)
    expect(result.redirect?.search).toBe(`?returnTo=${encodeURIComponent(RETURN_TO)}&federated`)
    expect(context.reads).toEqual([])
    await visit(result.redirect)
    expect(idp.requests.at(-1)?.search).toBe(`?returnTo=${encodeURIComponent(RETURN_TO)}&federated`)
  })

  it('leaves returnTo out when the route has none (Auth0 then uses the first Allowed Logout URL)', async () => {
    const result = await auth0({ domain: idp.host, clientId: 'abc123' }).endSession(makeContext())
    expect(queryOf(result.redirect)).toEqual({ client_id: 'abc123' })
  })

  it('a returnTo Auth0 does not allow is refused by Auth0, not silently changed', async () => {
    const result = await auth0({ domain: idp.host }).endSession(
      makeContext({ returnTo: 'https://evil.test/' }),
    )
    expect(queryOf(result.redirect)).toEqual({ returnTo: 'https://evil.test/' })
    await expect(visit(result.redirect)).resolves.toEqual({ status: 400, location: null })
  })

  it('supplies https issuer and JWKS defaults for a real tenant domain', () => {
    const provider = auth0({ domain: 'acme.eu.auth0.com', clientId: 'abc123' })
    expect(provider.issuer).toBe('https://acme.eu.auth0.com/')
    expect(provider.clientId).toBe('abc123')
    expect(provider.needsAbsoluteReturnTo).toBe(true)
    expect(provider.metadata()).toEqual({ jwksUri: 'https://acme.eu.auth0.com/.well-known/jwks.json' })
  })
})

describe('auth0 oidc', () => {
  it('sends id_token_hint, post_logout_redirect_uri and state, and Auth0 returns the same state', async () => {
    const provider = auth0({ domain: idp.host, clientId: 'abc123', endpoint: 'oidc' })
    const context = makeContext({ returnTo: RETURN_TO, sid: 's1', values: { 'session:idToken': ID_TOKEN } })
    const result = await provider.endSession(context)
    const state = context.cookies[0]?.value
    expect(context.cookies[0]?.name).toBe(STATE_COOKIE)
    expect(endpointOf(result.redirect)).toBe(`${idp.origin}/oidc/logout`)
    expect(queryOf(result.redirect)).toEqual({
      id_token_hint: ID_TOKEN,
      post_logout_redirect_uri: RETURN_TO,
      state,
    })
    const back = await visit(result.redirect)
    expect(back.status).toBe(302)
    expect(new URL(back.location!).searchParams.get('state')).toBe(state)
  })

  it('falls back to logout_hint (the verified sid) + client_id without an ID token', async () => {
    const provider = auth0({ domain: idp.host, clientId: 'abc123', endpoint: 'oidc', idToken: 'cookie:id' })
    const context = makeContext({ returnTo: RETURN_TO, sid: 's1' })
    const result = await provider.endSession(context)
    expect(context.reads).toEqual(['cookie:id'])
    expect(queryOf(result.redirect)).toEqual({
      logout_hint: 's1',
      client_id: 'abc123',
      post_logout_redirect_uri: RETURN_TO,
      state: context.cookies[0]?.value,
    })
    await expect(visit(result.redirect)).resolves.toMatchObject({ status: 302 })
  })

  it('says so in notes when it has neither an ID token nor a sid', async () => {
    const provider = auth0({ domain: idp.host, clientId: 'abc123', endpoint: 'oidc', federated: true })
    const result = await provider.endSession(makeContext({ returnTo: RETURN_TO }))
    expect(result.notes).toEqual(['no ID token and no verified sid: Auth0 may ask the user to confirm'])
    expect(queryOf(result.redirect)).toMatchObject({ client_id: 'abc123', federated: '' })
  })
})

describe('auth0 options', () => {
  it.each([
    ['missing domain', {}, /"auth0.domain" must be a non-empty string/],
    ['domain with scheme', { domain: 'https://acme.auth0.com' }, /"auth0.domain" must be a host name/],
    ['domain with path', { domain: 'acme.auth0.com/evil' }, /"auth0.domain" must be a host name/],
    ['domain with userinfo', { domain: 'user@acme.auth0.com' }, /"auth0.domain" must be a host name/],
    [
      'empty clientId',
      { domain: 'a.auth0.com', clientId: '' },
      /"auth0.clientId" must be a non-empty string/,
    ],
    [
      'federated not boolean',
      { domain: 'a.auth0.com', federated: 'yes' },
      /"auth0.federated" must be a boolean/,
    ],
    [
      'unknown endpoint',
      { domain: 'a.auth0.com', endpoint: 'v3' },
      /"auth0.endpoint" must be one of 'v2', 'oidc'/,
    ],
    [
      'idToken with v2',
      { domain: 'a.auth0.com', idToken: 'session:idToken' },
      /only used with endpoint 'oidc'/,
    ],
    [
      'typo',
      { domain: 'a.auth0.com', clientID: 'x' },
      /"auth0.clientID" is not a known option; did you mean "clientId"\?/,
    ],
    ['not an object', null, /"auth0" options must be an object/],
  ])('%s throws a TypeError naming the option', (_name, options, message) => {
    const build = () => auth0(options as never)
    expect(build).toThrow(message)
    expect(build).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }))
  })
})
