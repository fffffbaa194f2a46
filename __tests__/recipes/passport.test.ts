import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { Browser, sessionIdOf, startRecipe } from '../support/recipes.js'
import type { Recipe } from '../support/recipes.js'
import { createApp } from './apps/passport.js'

/**
 * The passport 0.7 recipe (openid-client's strategy): the session is linked in the verify
 * callback, where the tokens are, and passport then regenerates it inside `req.login`; the link
 * must end up on the regenerated session, never on the one the login started in.
 */
describe('recipe: passport 0.7 with openid-client/passport', () => {
  let recipe: Recipe
  let auth: LogoutMiddleware

  beforeAll(async () => {
    recipe = await startRecipe((env) => {
      const built = createApp(env)
      auth = built.auth
      // Test-only: what the session holds, and which sessions the session store has.
      built.app.get('/test/session', (req, res) => void res.json({ ...req.session, id: req.sessionID }))
      built.app.get('/test/sessions', (req, res, next) => {
        req.sessionStore.all!((err, all) => (err ? next(err) : res.json(Object.keys(all ?? {}))))
      })
      return built.app
    })
  })
  afterAll(() => recipe.stop())

  async function sessions(browser: Browser): Promise<string[]> {
    return (await (await browser.fetch('/test/sessions')).json()) as string[]
  }

  async function session(browser: Browser): Promise<Record<string, unknown>> {
    return (await (await browser.fetch('/test/session')).json()) as Record<string, unknown>
  }

  it('links the regenerated session, not the one the login started in; the ID token moves with it', async () => {
    const browser = new Browser(recipe)
    const { before } = await browser.signIn('alice')
    const started = sessionIdOf(before)!
    const current = sessionIdOf(browser.cookies())!
    expect(started).toBeDefined()
    expect(current).not.toBe(started)
    const kept = await session(browser)
    expect(kept.id).toBe(current)
    expect(kept.passport).toEqual({ user: { sub: 'alice' } })
    expect(kept.ssoLogout).toMatchObject({ iss: recipe.op.issuer, sub: 'alice', sid: expect.any(String) })
    expect(typeof kept.idToken).toBe('string')
    expect(await sessions(browser)).toEqual(expect.arrayContaining([current]))
    expect(await sessions(browser)).not.toContain(started)

    // The index names the regenerated id, and only it (taken here, so linked again after).
    const sid = (kept.ssoLogout as { sid: string }).sid
    const taken = await auth.store.take({ iss: recipe.op.issuer, sid, linkedBefore: Date.now() + 1000 })
    expect(taken).toEqual([current])
    await auth.link({ iss: recipe.op.issuer, sid, sub: 'alice', sessionId: current })
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'alice' })
  })

  it('a logout at the OP (back-channel) destroys the logged-in passport session', async () => {
    const browser = new Browser(recipe)
    const other = new Browser(recipe)
    await browser.signIn('bob')
    await other.signIn('dave')
    const current = sessionIdOf(browser.cookies())!

    await browser.logOutAtOp()

    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'backchannel', sub: 'bob', sessionsDestroyed: 1, errors: [] }),
    )
    expect(await sessions(browser)).not.toContain(current)
    expect(await (await browser.fetch('/')).json()).toEqual({ user: null })
    expect(await (await other.fetch('/api/me')).json()).toEqual({ user: 'dave' })
  })

  it('a logout in another service that shares the store: this app destroys the linked passport session with no request, and guard refuses its token (401)', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('carol')
    const { sid } = (await session(browser)).ssoLogout as { sid: string }
    // Another service: the same sso-logout store, its own sessions (it cannot destroy this app's).
    const elsewhere = logout({
      store: auth.store,
      service: 'elsewhere',
      accessToken: { issuer: recipe.op.issuer },
    })
    const received = recipe.nextEvent('service')
    expect(await elsewhere.revoke({ sid })).toBe(0)

    expect(await received).toMatchObject({ reason: 'service', sessionsDestroyed: 1, errors: [] })
    expect(await (await browser.fetch('/')).json()).toEqual({ user: null })
  })
})
