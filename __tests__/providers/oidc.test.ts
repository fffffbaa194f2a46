import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { oidc } from '../../lib/index.js'
import { STATE_COOKIE, checkLogoutState } from '../../lib/providers/state.js'
import { followLogout, hasOpSession, login, startOp, tokenRequest } from '../support/op.js'
import type { Op } from '../support/op.js'
import { endpointOf, makeContext, queryOf } from '../support/provider-context.js'

const RETURN_TO = 'https://app.example.test/goodbye'
const CLIENT = { clientId: 'app', clientSecret: 'app-secret', redirectUri: 'https://app.example.test/cb' }

let op: Op
beforeAll(async () => {
  op = await startOp({
    clients: [
      {
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        redirect_uris: [CLIENT.redirectUri],
        post_logout_redirect_uris: [RETURN_TO],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
  })
})
afterAll(() => op.stop())

function provider(extra: Record<string, unknown> = {}) {
  return oidc({ issuer: op.issuer, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, ...extra })
}

/** The request the OP's redirect brings back to `returnTo`, carrying the state cookie. */
function returnRequest(url: URL, stateCookie: string | undefined): IncomingMessage {
  const req = new IncomingMessage(new Socket())
  req.url = `${url.pathname}${url.search}`
  req.headers.cookie = stateCookie === undefined ? '' : `${STATE_COOKIE}=${stateCookie}`
  return req
}

describe('oidc against a real OpenID Provider', () => {
  it('takes JWKS and signing algorithms from discovery', async () => {
    await expect(provider().metadata()).resolves.toEqual({
      jwksUri: `${op.issuer}/jwks`,
      idTokenSigningAlgValues: ['RS256'],
    })
  })

  it('builds the RP-Initiated Logout URL from discovery', async () => {
    const context = makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': 'id.token.value' } })
    const result = await provider({ uiLocales: 'fr-CA fr' }).endSession(context)
    expect(endpointOf(result.redirect)).toBe(`${op.issuer}/session/end`)
    expect(queryOf(result.redirect)).toEqual({
      id_token_hint: 'id.token.value',
      client_id: CLIENT.clientId,
      post_logout_redirect_uri: RETURN_TO,
      state: context.cookies[0]?.value,
      ui_locales: 'fr-CA fr',
    })
    expect(result.errors).toEqual([])
  })

  it('keeps query parameters already on a configured end-session endpoint', async () => {
    const p = provider({ endSessionEndpoint: `${op.issuer}/session/end?tenant=acme&client_id=stale` })
    const result = await p.endSession(makeContext({ returnTo: RETURN_TO }))
    expect(queryOf(result.redirect)).toMatchObject({ tenant: 'acme', client_id: CLIENT.clientId })
  })

  it('full flow: the OP accepts the hint and redirect, returns the same state, and its session is gone', async () => {
    const user = await login(op, CLIENT)
    expect(await hasOpSession(op, user.jar, CLIENT)).toBe(true)
    const context = makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': user.idToken } })
    const result = await provider().endSession(context)
    const landing = await followLogout(op, user.jar, result.redirect!)
    expect(endpointOf(landing.url)).toBe(RETURN_TO)
    const state = context.cookies[0]?.value
    expect(queryOf(landing.url)).toEqual({ state })
    expect(checkLogoutState(returnRequest(landing.url, state))).toBe(true)
    expect(checkLogoutState(returnRequest(landing.url, 'another-state'))).toBe(false)
    expect(checkLogoutState(returnRequest(landing.url, undefined))).toBe(false)
    expect(await hasOpSession(op, user.jar, CLIENT)).toBe(false)
    expect(op.events).toContainEqual({ event: 'end_session.success' })
  })

  it('the OP refuses a post_logout_redirect_uri that is not registered (nothing is guessed)', async () => {
    const user = await login(op, CLIENT)
    const context = makeContext({
      returnTo: 'https://app.example.test/elsewhere',
      values: { 'session:idToken': user.idToken },
    })
    const result = await provider().endSession(context)
    const landing = await followLogout(op, user.jar, result.redirect!)
    expect(landing.status).toBe(400)
    expect(landing.body).toContain('post_logout_redirect_uri not registered')
  })

  it('holds the refresh-token revocation until the browser is back, then revokes it at the revocation endpoint', async () => {
    const user = await login(op, CLIENT)
    expect(user.refreshToken).toEqual(expect.any(String))
    const context = makeContext({
      returnTo: RETURN_TO,
      values: { 'session:refreshToken': user.refreshToken!, 'session:idToken': user.idToken },
    })
    const p = provider({ revoke: ['refresh_token'] })
    const result = await p.endSession(context)
    expect(result.errors).toEqual([])
    expect(result.notes).toEqual([])
    // Not revoked before the redirect: an OP that ends its session on revocation could then not end
    // it at end_session_endpoint, nor notify the other apps.
    const before = await tokenRequest(op, CLIENT, {
      grant_type: 'refresh_token',
      refresh_token: user.refreshToken!,
    })
    expect(before.status).toBe(200)
    expect(await hasOpSession(op, user.jar, CLIENT)).toBe(true)
    const done = await p.completeLogout!(result.pending!)
    expect(done.errors).toEqual([])
    const after = await tokenRequest(op, CLIENT, {
      grant_type: 'refresh_token',
      refresh_token: user.refreshToken!,
    })
    expect(after).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) })
  })

  it('reports a revocation the OP rejects (wrong client secret) without throwing', async () => {
    const user = await login(op, CLIENT)
    const context = makeContext({
      returnTo: RETURN_TO,
      values: { 'session:refreshToken': user.refreshToken! },
    })
    const p = provider({ revoke: ['refresh_token'], clientSecret: 'wrong' })
    const result = await p.endSession(context)
    expect(result.redirect).toBeInstanceOf(URL)
    const done = await p.completeLogout!(result.pending!)
    expect(done.errors).toHaveLength(1)
    expect(done.errors?.[0]).toMatchObject({
      code: 'ERR_PROVIDER_RESPONSE',
      message: 'refresh_token revocation answered HTTP 401 (invalid_client)',
    })
    const refresh = await tokenRequest(op, CLIENT, {
      grant_type: 'refresh_token',
      refresh_token: user.refreshToken!,
    })
    expect(refresh.status).toBe(200)
  })

  it('notes a token it was asked to revoke but could not find', async () => {
    const result = await provider({ revoke: ['refresh_token', 'access_token'] }).endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:idToken': 'an.id.token' } }),
    )
    expect(result.notes).toEqual([
      'no refresh_token found in session:refreshToken: not revoked',
      'no access_token found in header, cookie:access_token, session:accessToken: not revoked',
    ])
  })

  it('rejects a discovery document whose issuer differs', async () => {
    const p = oidc({ issuer: `${op.issuer}/`, clientId: 'app' })
    await expect(p.endSession(makeContext({ returnTo: RETURN_TO }))).rejects.toMatchObject({
      code: 'ERR_PROVIDER_DISCOVERY',
      status: 502,
      message: `OIDC discovery issuer mismatch: expected ${op.issuer}/`,
    })
  })
})

describe('oidc options', () => {
  it.each([
    ['missing issuer', { clientId: 'c' }, /"oidc.issuer" must be a non-empty string/],
    ['http issuer', { issuer: 'http://id.example.com', clientId: 'c' }, /"oidc.issuer" must be an https URL/],
    [
      'issuer with fragment',
      { issuer: 'https://id.example.com/#x', clientId: 'c' },
      /"oidc.issuer" must be an https URL/,
    ],
    ['missing clientId', { issuer: 'https://id.example.com' }, /"oidc.clientId" must be a non-empty string/],
    [
      'http end-session',
      { issuer: 'https://i.test', clientId: 'c', endSessionEndpoint: 'http://i.test/logout' },
      /"oidc.endSessionEndpoint" must be an https URL/,
    ],
    [
      'http revocation',
      { issuer: 'https://i.test', clientId: 'c', revocationEndpoint: 'http://i.test/r' },
      /"oidc.revocationEndpoint" must be an https URL/,
    ],
    [
      'revoke not a list',
      { issuer: 'https://i.test', clientId: 'c', revoke: 'refresh_token' },
      /"oidc.revoke" must be a list/,
    ],
    [
      'revoke repeated',
      { issuer: 'https://i.test', clientId: 'c', revoke: ['access_token', 'access_token'] },
      /"oidc.revoke" must be a list/,
    ],
    [
      'timeout too long',
      { issuer: 'https://i.test', clientId: 'c', timeout: 120_000 },
      /"oidc.timeout" must be a whole number/,
    ],
    [
      'logoutHint body',
      { issuer: 'https://i.test', clientId: 'c', logoutHint: 'body:x' },
      /"oidc.logoutHint" must be 'session:FIELD'/,
    ],
    [
      'typo',
      { issuer: 'https://i.test', clientId: 'c', endSessionEndpiont: 'x' },
      /did you mean "endSessionEndpoint"\?/,
    ],
  ])('%s throws a TypeError naming the option', (_name, options, message) => {
    expect(() => oidc(options as never)).toThrow(message)
    expect(() => oidc(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })
})
