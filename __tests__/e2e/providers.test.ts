import cookieParser from 'cookie-parser'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { auth0, descope, logout, oidc, workos } from '../../lib/index.js'
import type { LogoutEvent, LogoutOptions } from '../../lib/index.js'
import { STATE_COOKIE, checkLogoutState } from '../../lib/providers/state.js'
import { followLogout, hasOpSession, login, startOp, tokenRequest } from '../support/op.js'
import type { Op } from '../support/op.js'
import { refusedHost } from '../support/serve.js'
import { startStandIn } from '../support/stand-ins.js'
import type { StandIn } from '../support/stand-ins.js'
import { mint, useTestKey } from '../support/jwt.js'

const BASE_URL = 'https://app.example.com'
const RETURN_TO = 'https://app.example.com/'

interface TestApp {
  agent: ReturnType<typeof request.agent>
  events: LogoutEvent[]
  logs: string[]
  sessions: session.MemoryStore
}

/** An Express 5 app with sessions, a `/session` route that stores what a login would, and the logout route. */
function appWith(options: LogoutOptions): TestApp {
  const events: LogoutEvent[] = []
  const logs: string[] = []
  const logger = {
    warn: (line: string) => void logs.push(line),
    error: (line: string) => void logs.push(line),
  }
  const sessions = new session.MemoryStore()
  const app = express()
  app.use(cookieParser())
  app.use(session({ secret: 'provider-e2e', resave: false, saveUninitialized: false, store: sessions }))
  app.use(express.json())
  app.post('/session', (req, res) => {
    Object.assign(req.session, req.body as Record<string, string>)
    res.json({ id: req.sessionID })
  })
  app.use(logout({ baseURL: BASE_URL, logger, ...options, onLogout: (event) => void events.push(event) }))
  app.get('/goodbye', (req, res) => res.send(checkLogoutState(req, res) ? 'state ok' : 'state bad'))
  return { agent: request.agent(app), events, logs, sessions }
}

function sessionCount(store: session.MemoryStore): Promise<number> {
  return new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n ?? 0))))
}

function cookieCleared(setCookie: string[] | undefined, name: string): boolean {
  return (setCookie ?? []).some((c) => c.startsWith(`${name}=;`) && /Max-Age=0/.test(c))
}

const key = useTestKey('RS256')

describe('auth0 v2 through the logout route', () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn('auth0', { allowedLogoutUrls: [RETURN_TO] })
  })
  afterAll(() => idp.close())

  it('destroys the session and sends the browser to /v2/logout, which returns it to returnTo', async () => {
    const provider = auth0({ domain: idp.host, clientId: 'abc123' })
    const app = appWith({ provider, accessToken: { jwks: { keys: [key.jwk] } } })
    await app.agent.post('/session').send({ user: 'u1' }).expect(200)
    const token = await mint(key, { iss: provider.issuer, sub: 'auth0|u1', sid: 'a0-sid' })
    const response = await app.agent
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('authorization', `Bearer ${token}`)
      .expect(302)
    const location = new URL(response.headers.location!)
    expect(`${location.origin}${location.pathname}`).toBe(`${idp.origin}/v2/logout`)
    expect(Object.fromEntries(location.searchParams)).toEqual({ returnTo: RETURN_TO, client_id: 'abc123' })
    expect(await sessionCount(app.sessions)).toBe(0)
    expect(app.events).toEqual([
      expect.objectContaining({
        reason: 'user',
        provider: 'auth0',
        sid: 'a0-sid',
        sessionsDestroyed: 1,
        errors: [],
      }),
    ])
    const atAuth0 = await fetch(location, { redirect: 'manual' })
    expect([atAuth0.status, atAuth0.headers.get('location')]).toEqual([302, RETURN_TO])
  })
})

describe('workos through the logout route', () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn('workos', { allowedLogoutUrls: [RETURN_TO] })
  })
  afterAll(() => idp.close())

  it('sends the verified sid to WorkOS', async () => {
    const provider = workos({ clientId: 'client_1', apiHostname: idp.host, issuer: 'https://api.workos.com' })
    const app = appWith({ provider, accessToken: { jwks: { keys: [key.jwk] } } })
    const token = await mint(key, { iss: 'https://api.workos.com', sub: 'user_1', sid: 'session_01' })
    const response = await app.agent
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('authorization', `Bearer ${token}`)
      .expect(302)
    const location = new URL(response.headers.location!)
    expect(`${location.origin}${location.pathname}`).toBe(`${idp.origin}/user_management/sessions/logout`)
    expect(Object.fromEntries(location.searchParams)).toEqual({
      session_id: 'session_01',
      return_to: RETURN_TO,
    })
    const atWorkos = await fetch(location, { redirect: 'manual' })
    expect(atWorkos.headers.get('location')).toBe(RETURN_TO)
  })

  it('without a verified sid logs out locally, redirects to returnTo and says why', async () => {
    const provider = workos({ clientId: 'client_1', apiHostname: idp.host })
    const app = appWith({ provider, accessToken: { jwks: { keys: [key.jwk] } } })
    await app.agent.post('/session').send({ user: 'u1' }).expect(200)
    const response = await app.agent.get('/logout').set('Sec-Fetch-Site', 'same-origin').expect(302)
    expect(response.headers.location).toBe(RETURN_TO)
    expect(await sessionCount(app.sessions)).toBe(0)
    expect(app.events[0]?.notes).toEqual(['no verified sid: the WorkOS session was not ended'])
  })
})

describe('descope through the logout route', () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn('descope', { projectId: 'P2e2e' })
  })
  afterAll(() => idp.close())
  beforeEach(() => {
    idp.mode = 'ok'
  })

  it('calls Descope with the DSR cookie, clears DS and DSR, and redirects to returnTo', async () => {
    const app = appWith({ provider: descope({ projectId: 'P2e2e', baseUrl: idp.origin }) })
    const response = await app.agent
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('cookie', 'DS=session-jwt; DSR=refresh-jwt')
      .expect(302)
    expect(response.headers.location).toBe(RETURN_TO)
    expect(idp.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/auth/logout', body: '{}' })
    expect(idp.requests.at(-1)?.headers.authorization).toBe('Bearer P2e2e:refresh-jwt')
    const setCookie = response.headers['set-cookie'] as unknown as string[]
    expect(cookieCleared(setCookie, 'DS')).toBe(true)
    expect(cookieCleared(setCookie, 'DSR')).toBe(true)
    expect(app.events[0]?.errors).toEqual([])
  })

  it.each([
    ['upstream 500', '500', 'ERR_PROVIDER_RESPONSE'],
    ['timeout', 'hang', 'ERR_PROVIDER_REQUEST'],
    ['malformed body', 'malformed', 'ERR_PROVIDER_RESPONSE'],
  ] as const)(
    '%s: the user is still logged out and redirected; onLogout gets the error',
    async (_n, mode, code) => {
      idp.mode = mode
      const app = appWith({ provider: descope({ projectId: 'P2e2e', baseUrl: idp.origin, timeout: 300 }) })
      await app.agent.post('/session').send({ user: 'u1' }).expect(200)
      const response = await app.agent
        .get('/logout')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('cookie', 'DSR=refresh-jwt')
        .expect(302)
      expect(response.headers.location).toBe(RETURN_TO)
      expect(await sessionCount(app.sessions)).toBe(0)
      expect(cookieCleared(response.headers['set-cookie'] as unknown as string[], 'DSR')).toBe(true)
      expect(app.events).toHaveLength(1)
      expect(app.events[0]?.errors.map((e) => e.code)).toEqual([code])
      expect(app.logs).toEqual([expect.stringContaining(code)])
      expect(app.logs.join('\n')).not.toContain('refresh-jwt')
    },
  )

  it('connection refused: same outcome', async () => {
    const app = appWith({
      provider: descope({ projectId: 'P2e2e', baseUrl: `http://${await refusedHost()}` }),
    })
    const response = await app.agent
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('cookie', 'DSR=refresh-jwt')
      .expect(302)
    expect(response.headers.location).toBe(RETURN_TO)
    expect(app.events[0]?.errors.map((e) => e.code)).toEqual(['ERR_PROVIDER_REQUEST'])
  })
})

describe('oidc through the logout route, against a real OpenID Provider', () => {
  const client = {
    clientId: 'web',
    clientSecret: 'web-secret',
    redirectUri: 'https://app.example.com/callback',
  }
  let op: Op
  beforeAll(async () => {
    op = await startOp({
      clients: [
        {
          client_id: client.clientId,
          client_secret: client.clientSecret,
          redirect_uris: [client.redirectUri],
          post_logout_redirect_uris: [`${BASE_URL}/goodbye`],
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ],
    })
  })
  afterAll(() => op.stop())

  it('logs out locally and at the OP, revokes the refresh token, and lands on returnTo with the state', async () => {
    const user = await login(op, { ...client, scope: 'openid api' })
    const provider = oidc({
      issuer: op.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      revoke: ['refresh_token'],
    })
    const app = appWith({ provider, returnTo: { default: '/goodbye' } })
    await app.agent
      .post('/session')
      .send({ idToken: user.idToken, refreshToken: user.refreshToken, accessToken: user.accessToken })
      .expect(200)
    const response = await app.agent.get('/logout').set('Sec-Fetch-Site', 'same-origin').expect(302)
    expect(await sessionCount(app.sessions)).toBe(0)
    const location = new URL(response.headers.location!)
    expect(`${location.origin}${location.pathname}`).toBe(`${op.issuer}/session/end`)
    const state = location.searchParams.get('state')
    expect(Object.fromEntries(location.searchParams)).toEqual({
      id_token_hint: user.idToken,
      client_id: client.clientId,
      post_logout_redirect_uri: `${BASE_URL}/goodbye`,
      state,
    })
    expect(app.events[0]).toMatchObject({
      provider: 'oidc',
      iss: op.issuer,
      sessionsDestroyed: 1,
      errors: [],
    })
    expect(app.events[0]?.sid).toEqual(expect.any(String))

    // Not revoked yet (RFC 7009): an OP that ends its session on revocation must still be able to
    // end it at end_session_endpoint and notify the other apps.
    expect(await hasOpSession(op, user.jar, client)).toBe(true)
    const landing = await followLogout(op, user.jar, location)
    expect(`${landing.url.origin}${landing.url.pathname}`).toBe(`${BASE_URL}/goodbye`)
    expect(landing.url.searchParams.get('state')).toBe(state)
    expect(await hasOpSession(op, user.jar, client)).toBe(false)
    // The app's returnTo page checks the state against the cookie the logout response set (Secure,
    // since returnTo is https, so the test sends it by hand over the plain-http test connection).
    const stateCookie = (response.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith(`${STATE_COOKIE}=`),
    )
    expect(stateCookie).toMatch(/; HttpOnly; Secure; SameSite=Lax$/)
    const back = await app.agent
      .get(`/goodbye${landing.url.search}`)
      .set('cookie', stateCookie!.split(';')[0]!)
      .expect(200)
    expect(back.text).toBe('state ok')
    expect(cookieCleared(back.headers['set-cookie'] as unknown as string[], STATE_COOKIE)).toBe(true)
    // Revoked by the middleware on that return, once the OP had ended its session.
    const refresh = await tokenRequest(op, client, {
      grant_type: 'refresh_token',
      refresh_token: user.refreshToken!,
    })
    expect(refresh.status).toBe(400)
    expect(app.logs).toEqual([])
  })

  it('a discovery outage answers 502 after the local logout, and onLogout gets ERR_PROVIDER_DISCOVERY', async () => {
    const provider = oidc({ issuer: `http://${await refusedHost()}`, clientId: 'web' })
    const app = appWith({ provider, accessToken: { jwks: { keys: [key.jwk] } } })
    await app.agent.post('/session').send({ user: 'u1' }).expect(200)
    const response = await app.agent
      .get('/logout')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('accept', 'application/json')
    expect(response.status).toBe(502)
    expect(await sessionCount(app.sessions)).toBe(0)
    expect(cookieCleared(response.headers['set-cookie'] as unknown as string[], 'connect.sid')).toBe(true)
    expect(app.events[0]?.errors.map((e) => e.code)).toEqual(['ERR_PROVIDER_DISCOVERY'])
  })
})
