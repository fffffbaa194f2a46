import { cognito } from '../../lib/index.js'
import { endpointOf, makeContext, queryOf } from '../support/provider-context.js'

const RETURN_TO = 'https://app.example.com/goodbye?from=logout'
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln'

describe('cognito', () => {
  it('builds /logout with client_id and logout_uri, not OIDC parameters', async () => {
    const provider = cognito({
      domain: 'auth.example.com',
      clientId: '1h2j3k',
      userPoolId: 'eu-west-1_AbC123',
    })
    const result = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': ID_TOKEN } }),
    )
    expect(endpointOf(result.redirect)).toBe('https://auth.example.com/logout')
    expect(queryOf(result.redirect)).toEqual({ client_id: '1h2j3k', logout_uri: RETURN_TO })
    expect(provider.issuer).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123')
    expect(await provider.metadata()).toEqual({
      jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
    })
  })

  it('has no issuer without a user pool id', async () => {
    const provider = cognito({ domain: 'acme.auth.us-east-1.amazoncognito.com', clientId: 'c' })
    expect(provider.issuer).toBeUndefined()
    expect(await provider.metadata()).toEqual({ jwksUri: undefined })
  })
})

describe('cognito options', () => {
  it.each([
    [
      'cognito pool id',
      () => cognito({ domain: 'a.test', clientId: 'c', userPoolId: 'nope' }),
      /"cognito.userPoolId" must look like/,
    ],
  ])('%s throws a TypeError naming the option', (_name, build, message) => {
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
    expect(build).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })
})
