import session from 'express-session'
import { logout } from '../../lib/index.js'
import type { LogoutMiddleware } from '../../lib/index.js'
import { sessionIds } from '../support/app.js'
import { Browser, clearedCookies, startRecipe } from '../support/recipes.js'
import type { Recipe } from '../support/recipes.js'
import { createApp } from './apps/express-openid-connect.js'

type Extra = Parameters<typeof createApp>[1]

/** The OP and the recipe's app with express-openid-connect options `extra`. */
async function start(extra: Extra = {}): Promise<{ recipe: Recipe; auth: () => LogoutMiddleware }> {
  let mw: LogoutMiddleware | undefined
  const recipe = await startRecipe((env) => {
    const built = createApp(env, extra)
    mw = built.auth
    // Test-only: what express-openid-connect's session holds.
    built.app.get(
      '/test/session',
      (req, res) => void res.json((req as { appSession?: unknown }).appSession ?? null),
    )
    return built.app
  })
  return { recipe, auth: () => mw! }
}

/** The app's session cookies: `appSession`, or its chunks `appSession.0`, `appSession.1`... */
function sessionCookies(browser: Browser): string[] {
  return [...browser.cookies().keys()].filter((name) => /^appSession(\.\d+)?$/.test(name)).sort()
}

describe('recipe: express-openid-connect for login, sso-logout for logout (cookie session)', () => {
  let recipe: Recipe
  let auth: () => LogoutMiddleware

  beforeAll(async () => {
    ;({ recipe, auth } = await start())
  })
  afterAll(() => recipe.stop())

  it('links at login in afterCallback: the link is in the session express-openid-connect keeps', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('alice')
    expect(sessionCookies(browser)).toEqual(['appSession'])
    const kept = (await (await browser.fetch('/test/session')).json()) as Record<string, unknown>
    expect(kept).toMatchObject({
      id_token: expect.any(String),
      access_token: expect.any(String),
      ssoLogout: { iss: recipe.op.issuer, sub: 'alice', sid: kept.sid },
    })
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'alice' })
  })

  it('a back-channel logout from the OP: guard refuses the session (401), clears its cookie, refuses a kept copy', async () => {
    const browser = new Browser(recipe)
    const other = new Browser(recipe)
    await browser.signIn('bob')
    await other.signIn('dave')
    const kept = browser.cookies()

    await browser.logOutAtOp()
    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'backchannel', sub: 'bob', errors: [] }),
    )

    const refused = await browser.fetch('/api/me')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect(clearedCookies(refused)).toEqual(['appSession'])
    expect(sessionCookies(browser)).toEqual([])
    // express-openid-connect itself would still accept the kept copy (it is correctly encrypted): guard does not.
    expect((await browser.fetchWith(kept, '/api/me')).status).toBe(401)
    expect(await (await other.fetch('/api/me')).json()).toEqual({ user: 'dave' })
  })

  it("the logout route: express-openid-connect's cookie is cleared and the OP gets id_token_hint", async () => {
    const browser = new Browser(recipe)
    await browser.signIn('carol')
    const kept = browser.cookies()
    const { id_token } = (await (await browser.fetch('/test/session')).json()) as { id_token: string }
    const res = await browser.fetch('/logout', { method: 'POST', headers: { origin: recipe.env.BASE_URL } })
    expect(res.status).toBe(303)
    expect(clearedCookies(res)).toContain('appSession')
    const endSession = new URL(res.headers.get('location')!)
    expect(endSession.origin + endSession.pathname).toBe(`${recipe.op.issuer}/session/end`)
    expect(endSession.searchParams.get('id_token_hint')).toBe(id_token)
    expect(recipe.events).toContainEqual(
      expect.objectContaining({ reason: 'user', sub: 'carol', sessionsDestroyed: 1 }),
    )
    expect((await browser.fetchWith(kept, '/api/me')).status).toBe(401)
  })

  it('a logout in another service that shares the store: guard refuses the session (401)', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('erin')
    const { sid } = (await (await browser.fetch('/test/session')).json()) as { sid: string }
    const elsewhere = logout({ store: auth().store, accessToken: { issuer: recipe.op.issuer } })
    await elsewhere.revoke({ sid })
    expect((await browser.fetch('/api/me')).status).toBe(401)
    expect(sessionCookies(browser)).toEqual([])
  })
})

describe('recipe: express-openid-connect with a session too large for one cookie (chunked)', () => {
  let recipe: Recipe

  beforeAll(async () => {
    ;({ recipe } = await start({
      // The app keeps more in the session than one cookie holds: express-openid-connect chunks it.
      afterCallback: (_req, _res, s) => ({ ...s, profile: 'x'.repeat(6000) }),
    }))
  })
  afterAll(() => recipe.stop())

  it('links automatically from the session access token, and guard clears every chunk after a back-channel logout', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('alice')
    expect(sessionCookies(browser).length).toBeGreaterThan(1)
    // This app's afterCallback does not link: the first request through logout() links from
    // 'session:access_token' (the OP issues JWT access tokens with the sid).
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ user: 'alice' })
    const kept = (await (await browser.fetch('/test/session')).json()) as Record<string, unknown>
    expect(kept.ssoLogout).toMatchObject({ iss: recipe.op.issuer, sub: 'alice', sid: kept.sid })
    const chunks = sessionCookies(browser)

    await browser.logOutAtOp()
    const refused = await browser.fetch('/api/me')
    expect(refused.status).toBe(401)
    expect(clearedCookies(refused).sort()).toEqual(chunks)
    expect(sessionCookies(browser)).toEqual([])
  })
})

describe('recipe: express-openid-connect with its session.store', () => {
  let recipe: Recipe
  const store = new session.MemoryStore()

  beforeAll(async () => {
    ;({ recipe } = await start({
      // express-session's stores keep what they are given; their types describe express-session's data.
      session: { store: store as unknown as NonNullable<NonNullable<Extra>['session']>['store'] },
    }))
  })
  afterAll(() => recipe.stop())

  it('guard refusal ends the session in the store too, not only the cookie', async () => {
    const browser = new Browser(recipe)
    await browser.signIn('alice')
    expect(await sessionIds(store)).toHaveLength(1)
    await browser.logOutAtOp()
    const refused = await browser.fetch('/api/me')
    expect(refused.status).toBe(401)
    expect(clearedCookies(refused)).toEqual(['appSession'])
    expect(await sessionIds(store)).toEqual([])
  })
})
