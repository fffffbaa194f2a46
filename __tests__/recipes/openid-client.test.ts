import { decodeJwt } from 'jose'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { Browser, startRecipe } from '../support/recipes.js'
import type { Recipe } from '../support/recipes.js'
import { createApp } from './apps/openid-client.js'

/** The openid-client v6 recipe: authorization code + PKCE, express-session, `auth.link(req, { idToken })`. */
describe('recipe: openid-client v6 with express-session', () => {
  let recipe: Recipe
  let auth: LogoutMiddleware

  beforeAll(async () => {
    recipe = await startRecipe((env) => {
      const { app, auth: mw } = createApp(env)
      auth = mw
      // Test-only: what the session holds, so the test can see the link and the kept ID token.
      app.get('/test/session', (req, res) => void res.json({ ...req.session, id: req.sessionID }))
      return app
    })
  })
  afterAll(() => recipe.stop())

  async function signedIn(sub: string) {
    const browser = new Browser(recipe)
    await browser.signIn(sub)
    const session = (await (await browser.fetch('/test/session')).json()) as Record<string, unknown>
    return { browser, session }
  }

  function bearer(token: unknown, path: string): Promise<Response> {
    return fetch(new URL(path, recipe.env.BASE_URL), {
      headers: { authorization: `Bearer ${String(token)}` },
    })
  }

  it('links the session at login: the link names the access token sid, the ID token is kept for id_token_hint', async () => {
    const { browser, session } = await signedIn('alice')
    const accessClaims = decodeJwt(session.accessToken as string)
    const idClaims = decodeJwt(session.idToken as string)
    expect(idClaims).toMatchObject({ iss: recipe.op.issuer, sub: 'alice', aud: 'recipes' })
    expect(session.ssoLogout).toMatchObject({ iss: recipe.op.issuer, sid: accessClaims.sid, sub: 'alice' })
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'alice' })
  })

  it('the logout route ends the session here and sends the browser to the OP with id_token_hint', async () => {
    const { browser, session } = await signedIn('bob')
    const kept = browser.cookies()
    const res = await browser.fetch('/logout', { method: 'POST', headers: { origin: recipe.env.BASE_URL } })
    expect(res.status).toBe(303)
    const endSession = new URL(res.headers.get('location')!)
    expect(endSession.origin + endSession.pathname).toBe(`${recipe.op.issuer}/session/end`)
    expect(endSession.searchParams.get('id_token_hint')).toBe(session.idToken)
    // The old cookie no longer opens a session, and guard refuses the session's access token.
    expect(await (await browser.fetchWith(kept, '/')).json()).toEqual({ user: null })
    expect((await bearer(session.accessToken, '/api/me')).status).toBe(401)
  })

  it('a logout at the OP (back-channel) destroys the linked session; guard refuses its access token (401)', async () => {
    const alice = await signedIn('carol')
    const dave = await signedIn('dave')
    const kept = alice.browser.cookies()
    await alice.browser.logOutAtOp()

    expect(recipe.op.events).toContainEqual(
      expect.objectContaining({ event: 'backchannel.success', accountId: 'carol' }),
    )
    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'backchannel', sub: 'carol', sessionsDestroyed: 1, errors: [] }),
    )
    // The session is gone, and guard refuses its access token wherever it is presented.
    expect(await (await alice.browser.fetchWith(kept, '/')).json()).toEqual({ user: null })
    const refused = await bearer(alice.session.accessToken, '/api/me')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    // The other user's session at the same OP is untouched.
    expect(await (await dave.browser.fetch('/api/me')).json()).toEqual({ user: 'dave' })
  })

  it('a logout in another service that shares the store (not the sessions) hands the session to this app, which destroys it with no request', async () => {
    const { browser, session } = await signedIn('erin')
    const link = session.ssoLogout as { sid: string; iss: string }
    // Another service: the same sso-logout store, its own sessions (it cannot destroy this app's).
    const elsewhere = logout({
      store: auth.store,
      service: 'elsewhere',
      accessToken: { issuer: recipe.op.issuer },
    })
    const received = recipe.nextEvent('service')
    expect(await elsewhere.revoke({ sid: link.sid })).toBe(0)

    expect(await received).toMatchObject({ reason: 'service', sessionsDestroyed: 1, errors: [] })
    expect(await (await browser.fetch('/')).json()).toEqual({ user: null })
    expect((await bearer(session.accessToken, '/api/me')).status).toBe(401)
  })
})
