import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import session from 'express-session'
import { decodeJwt } from 'jose'
import { logout, oidc } from '../../lib/index.js'
import type { LogoutEvent, LogoutMiddleware } from '../../lib/index.js'
import { SECRET, sessionIds } from '../support/app.js'
import { followLogout, hasOpSession, login, startOp } from '../support/op.js'
import type { LoginResult, Op } from '../support/op.js'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

const CLIENT = { clientId: 'notes', clientSecret: 'notes-secret-0123456789' }

interface RunningApp {
  url: string
  server: Listening
  mw: LogoutMiddleware
  sessionStore: session.MemoryStore
  events: LogoutEvent[]
  /** Every request the back-channel path received, as the OP sent it. */
  received: Array<{ contentType?: string; status: number; token?: string }>
}

function mountApp(server: Listening, url: string, op: Op): RunningApp {
  const sessionStore = new session.MemoryStore()
  const events: LogoutEvent[] = []
  const received: RunningApp['received'] = []
  const mw = logout({
    provider: oidc({ issuer: op.issuer, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret }),
    baseURL: url,
    backchannel: { path: '/backchannel-logout' },
    onLogout: (event) => void events.push(event),
  })
  const app = express()
  // A body parser before logout() (as many apps have): the receiver reads `req.body` then.
  app.use('/backchannel-logout', express.urlencoded({ extended: false }))
  app.use('/backchannel-logout', (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const token = (req as IncomingMessage & { body?: { logout_token?: string } }).body?.logout_token
    res.on('finish', () =>
      received.push({ contentType: req.headers['content-type'], status: res.statusCode, token }),
    )
    next()
  })
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store: sessionStore }))
  app.use(mw)
  // Signing in: the app keeps the access token's session; logout() links it to the OP's sid.
  app.get('/signed-in', (req, res) => {
    ;(req.session as unknown as Record<string, unknown>).user = 'signed in'
    res.json({ id: req.sessionID })
  })
  app.get('/api', mw.guard, (_req, res) => void res.send('api ok'))
  app.get('/whoami', (req, res) => {
    res.json({ user: (req.session as unknown as Record<string, unknown>).user ?? null })
  })
  server.server.on('request', app)
  return { url, server, mw, sessionStore, events, received }
}

async function whoami(app: RunningApp, cookie: string): Promise<unknown> {
  const res = await fetch(`${app.url}/whoami`, { headers: { cookie } })
  return ((await res.json()) as { user: unknown }).user
}

/** An OP whose one client is the app, and the app, each knowing the other's URL. */
async function startPair(sessionRequired: boolean): Promise<{ op: Op; app: RunningApp }> {
  // Listening first, so the OP can be told the app's back-channel URL before the app is built.
  const server = await listen()
  const url = server.url
  const op = await startOp({
    clients: [
      {
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        redirect_uris: [`${url}/callback`],
        post_logout_redirect_uris: [`${url}/`],
        backchannel_logout_uri: `${url}/backchannel-logout`,
        backchannel_logout_session_required: sessionRequired,
        grant_types: ['authorization_code'],
      },
    ],
  })
  return { op, app: mountApp(server, url, op) }
}

async function stopPair(op: Op | undefined, app: RunningApp | undefined): Promise<void> {
  await op?.stop()
  await app?.server.close()
}

/** Logs `sub` in at the OP, then signs in to the app with the access token (linked automatically). */
async function signIn(op: Op, app: RunningApp, sub: string) {
  const user = await login(op, {
    clientId: CLIENT.clientId,
    clientSecret: CLIENT.clientSecret,
    redirectUri: `${app.url}/callback`,
    sub,
  })
  const bearer = { authorization: `Bearer ${user.accessToken}` }
  const signedIn = await fetch(`${app.url}/signed-in`, { headers: bearer })
  const { id } = (await signedIn.json()) as { id: string }
  const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!
  return { user, bearer, id, cookie, claims: decodeJwt(user.accessToken) }
}

/** The user logs out at the OP itself (another app's logout button, or the OP's own page). */
async function logOutAtOp(op: Op, user: LoginResult): Promise<void> {
  const endSession = new URL('/session/end', op.issuer)
  endSession.searchParams.set('id_token_hint', user.idToken)
  await followLogout(op, user.jar, endSession)
}

describe('back-channel logout end to end with the real oidc-provider (sid)', () => {
  let op: Op
  let app: RunningApp

  beforeAll(async () => {
    ;({ op, app } = await startPair(true))
  })
  afterAll(() => stopPair(op, app))

  it('the OP ends its session, POSTs a logout token, and the app session linked to its sid is gone', async () => {
    const { user, bearer, id, cookie, claims } = await signIn(op, app, 'alice')
    const bob = await signIn(op, app, 'bob')
    expect(typeof claims.sid).toBe('string')
    expect(await sessionIds(app.sessionStore)).toEqual(expect.arrayContaining([id, bob.id]))
    expect(await whoami(app, cookie)).toBe('signed in')

    await logOutAtOp(op, user)
    expect(
      await hasOpSession(op, user.jar, { clientId: CLIENT.clientId, redirectUri: `${app.url}/callback` }),
    ).toBe(false)

    expect(op.events).toContainEqual(
      expect.objectContaining({
        event: 'backchannel.success',
        clientId: CLIENT.clientId,
        accountId: 'alice',
        sid: claims.sid,
      }),
    )
    expect(op.events.filter((e) => e.event === 'backchannel.error')).toEqual([])
    expect(app.received).toEqual([
      { contentType: 'application/x-www-form-urlencoded', status: 200, token: expect.any(String) },
    ])
    expect(app.events).toEqual([
      expect.objectContaining({
        reason: 'backchannel',
        iss: op.issuer,
        sid: claims.sid,
        sub: 'alice',
        sessionsDestroyed: 1,
        errors: [],
      }),
    ])
    expect(await sessionIds(app.sessionStore)).not.toContain(id)

    // The browser's cookie no longer opens a session, and guard refuses the access token.
    expect(await whoami(app, cookie)).toBeNull()
    expect((await fetch(`${app.url}/api`, { headers: bearer })).status).toBe(401)

    // Bob's session at the same OP is untouched.
    expect(await whoami(app, bob.cookie)).toBe('signed in')
    expect((await fetch(`${app.url}/api`, { headers: bob.bearer })).status).toBe(200)

    // The OP's own logout token, replayed by someone who captured it: refused.
    const replay = await fetch(`${app.url}/backchannel-logout`, {
      method: 'POST',
      body: new URLSearchParams({ logout_token: app.received[0]!.token! }),
    })
    expect(replay.status).toBe(400)
    expect(await replay.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/already/),
    })
    expect(app.events).toHaveLength(1)
  })
})

describe('back-channel logout end to end with the real oidc-provider (sub only)', () => {
  let op: Op
  let app: RunningApp

  beforeAll(async () => {
    ;({ op, app } = await startPair(false))
  })
  afterAll(() => stopPair(op, app))

  it('without backchannel_logout_session_required the token carries sub alone: every session of the user ends', async () => {
    const first = await signIn(op, app, 'carol')
    const second = await signIn(op, app, 'carol')
    const dave = await signIn(op, app, 'dave')
    expect(first.claims.sid).not.toBe(second.claims.sid)

    await logOutAtOp(op, first.user)

    expect(op.events).toContainEqual(
      expect.objectContaining({ event: 'backchannel.success', accountId: 'carol' }),
    )
    expect(app.events).toEqual([
      expect.objectContaining({ reason: 'backchannel', sub: 'carol', sid: undefined, sessionsDestroyed: 2 }),
    ])
    const ids = await sessionIds(app.sessionStore)
    expect(ids).not.toContain(first.id)
    expect(ids).not.toContain(second.id)
    expect(ids).toContain(dave.id)
    expect(await whoami(app, second.cookie)).toBeNull()
    expect(await whoami(app, dave.cookie)).toBe('signed in')
  })
})
