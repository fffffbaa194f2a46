import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { Browser, clearedCookies, startRecipe } from '../support/recipes.js'
import type { Recipe } from '../support/recipes.js'
import { createApp } from './apps/cookie-session.js'

/** The session a cookie-session cookie carries (`base64(JSON)`), as the app signed it. */
function sessionOf(browser: Browser): Record<string, unknown> {
  const value = browser.cookies().get('session')
  return value === undefined
    ? {}
    : (JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Record<string, unknown>)
}

/**
 * The cookie-session recipe: the whole session is in a signed cookie, so a logout elsewhere cannot
 * destroy it. The link is kept in the session; guard refuses it once its sid is revoked, and clears it.
 */
describe('recipe: cookie-session (stateless), openid-client for the login', () => {
  let recipe: Recipe
  let auth: LogoutMiddleware

  beforeAll(async () => {
    recipe = await startRecipe((env) => {
      const built = createApp(env)
      auth = built.auth
      return built.app
    })
  })
  afterAll(() => recipe.stop())

  it('links the cookie session at login: the link and the ID token are in the signed cookie', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('alice')
    const session = sessionOf(browser)
    expect(session).toMatchObject({
      user: 'alice',
      idToken: expect.any(String),
      ssoLogout: { iss: recipe.op.issuer, sub: 'alice', sid: expect.any(String), at: expect.any(Number) },
    })
    expect(session).not.toHaveProperty('login')
    expect(browser.cookies().has('session.sig')).toBe(true)
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'alice' })
  })

  it('a back-channel logout from the OP: guard refuses the cookie (401), clears it, and refuses a kept copy too', async () => {
    const browser = new Browser(recipe)
    const other = new Browser(recipe)
    await browser.signIn('bob')
    await other.signIn('dave')
    const kept = browser.cookies()

    await browser.logOutAtOp()
    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'backchannel', sub: 'bob', sessionsDestroyed: 0, errors: [] }),
    )

    const refused = await browser.fetch('/api/me')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect(clearedCookies(refused).sort()).toEqual(['session', 'session.sig'])
    expect(browser.cookies().has('session')).toBe(false)
    // The browser no longer has it, but a copy (stolen, or kept by the browser's back button) is
    // still correctly signed: it is refused for as long as the revocation is kept (options.retention).
    expect((await browser.fetchWith(kept, '/api/me')).status).toBe(401)
    expect((await browser.fetchWith(kept, '/')).status).toBe(401)
    // Another user's session is untouched.
    expect(await (await other.fetch('/api/me')).json()).toEqual({ user: 'dave' })
  })

  it('the logout route: the cookie is cleared, the OP gets id_token_hint, the kept copy is refused', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('carol')
    const { idToken } = sessionOf(browser)
    const kept = browser.cookies()
    const res = await browser.fetch('/logout', { method: 'POST', headers: { origin: recipe.env.BASE_URL } })
    expect(res.status).toBe(303)
    // cookie-session's own two cookies, and the access-token cookie the options name by default.
    expect(clearedCookies(res).sort()).toEqual(['access_token', 'session', 'session.sig'])
    expect(new URL(res.headers.get('location')!).searchParams.get('id_token_hint')).toBe(idToken)
    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'user', sub: 'carol', sessionsDestroyed: 1 }),
    )
    expect((await browser.fetchWith(kept, '/api/me')).status).toBe(401)
  })

  it('a logout in another service that shares the store: guard refuses the cookie session (401)', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('erin')
    const { sid } = sessionOf(browser).ssoLogout as { sid: string }
    const elsewhere = logout({ store: auth.store, accessToken: { issuer: recipe.op.issuer } })
    await elsewhere.revoke({ sid })
    expect((await browser.fetch('/api/me')).status).toBe(401)
    expect(browser.cookies().has('session')).toBe(false)
  })

  it('a login after the logout (the IdP may reuse the sid) is a new session that passes', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('frank')
    await browser.logOutAtOp()
    expect((await browser.fetch('/api/me')).status).toBe(401)
    await browser.signIn('frank')
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'frank' })
  })
})
