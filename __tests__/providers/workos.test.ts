import { workos } from '../../lib/index.js'
import { startStandIn } from '../support/stand-ins.js'
import type { StandIn } from '../support/stand-ins.js'
import { endpointOf, makeContext, queryOf } from '../support/provider-context.js'

const RETURN_TO = 'https://app.example.com/'
const SID = 'session_01HQSXZGF8FHF7A9ZZFCW4387R'

let idp: StandIn
beforeAll(async () => {
  idp = await startStandIn('workos', { allowedLogoutUrls: [RETURN_TO] })
})
afterAll(() => idp.close())

describe('workos', () => {
  it('redirects to sessions/logout with the verified sid and return_to, and WorkOS sends the user back', async () => {
    const provider = workos({ clientId: 'client_123', apiHostname: idp.host })
    const result = await provider.endSession(makeContext({ returnTo: RETURN_TO, sid: SID }))
    expect(endpointOf(result.redirect)).toBe(`${idp.origin}/user_management/sessions/logout`)
    expect(queryOf(result.redirect)).toEqual({ session_id: SID, return_to: RETURN_TO })
    const response = await fetch(result.redirect!, { redirect: 'manual' })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe(RETURN_TO)
    expect(idp.requests.at(-1)).toMatchObject({
      method: 'GET',
      query: { session_id: SID, return_to: RETURN_TO },
    })
  })

  it('without a verified sid it does not redirect to WorkOS and says why', async () => {
    const provider = workos({ clientId: 'client_123', apiHostname: idp.host })
    const before = idp.requests.length
    const result = await provider.endSession(makeContext({ returnTo: RETURN_TO }))
    expect(result).toEqual({ notes: ['no verified sid: the WorkOS session was not ended'] })
    expect(idp.requests.length).toBe(before)
  })

  it('a sid with reserved characters is encoded, never spliced into the URL', async () => {
    const provider = workos({ clientId: 'client_123', apiHostname: idp.host })
    const result = await provider.endSession(
      makeContext({ returnTo: RETURN_TO, sid: 'a&return_to=https://evil.test/#x' }),
    )
    expect(queryOf(result.redirect)).toEqual({
      session_id: 'a&return_to=https://evil.test/#x',
      return_to: RETURN_TO,
    })
    expect(result.redirect?.hash).toBe('')
  })

  it('defaults to api.workos.com and the per-client JWKS, with no issuer unless one is given', () => {
    const provider = workos({ clientId: 'client_123' })
    expect(provider.metadata()).toEqual({ jwksUri: 'https://api.workos.com/sso/jwks/client_123' })
    expect(provider.issuer).toBeUndefined()
    const pinned = workos({
      clientId: 'client_123',
      issuer: 'https://api.workos.com/user_management/client_123',
    })
    expect(pinned.issuer).toBe('https://api.workos.com/user_management/client_123')
  })

  it.each([
    ['missing clientId', {}, /"workos.clientId" must be a non-empty string/],
    [
      'hostname with scheme',
      { clientId: 'c', apiHostname: 'https://api.workos.com' },
      /"workos.apiHostname" must be a host name/,
    ],
    [
      'http issuer',
      { clientId: 'c', issuer: 'http://api.workos.com' },
      /"workos.issuer" must be an https URL/,
    ],
    ['typo', { clientId: 'c', apiHost: 'x' }, /did you mean "apiHostname"\?/],
  ])('%s throws a TypeError naming the option', (_name, options, message) => {
    expect(() => workos(options as never)).toThrow(message)
    expect(() => workos(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })
})
