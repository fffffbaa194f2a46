import { join, resolve } from 'node:path'
import { blockAfter, readMarkdown } from '../support/markdown.js'
import { CookieJar, browse, followLogout, hasOpSession, interact, startOp } from '../support/op.js'
import type { Op } from '../support/op.js'
import { freePort } from '../support/redis-server.js'
import { runSnippet } from '../support/snippet.js'
import type { RunningSnippet } from '../support/snippet.js'

// docs/migration.md's "after" listings, as printed there: each runs as its own process, signs a
// user in through its login library (express-openid-connect, Passport with openid-client's
// strategy) at a real OpenID Provider, and logs out through sso-logout. The logout must send the
// ID token the login library received as id_token_hint, destroy the local sessions, and end the
// provider's session.
const guide = readMarkdown(join(resolve(__dirname, '..', '..'), 'docs', 'migration.md'))
const SECRET = 'a-session-secret-long-enough-for-express-openid-connect'

// The Passport listing takes openid-client's Configuration as it is ("`config` is your openid-client
// Configuration, unchanged"). This OP listens on plain http, which openid-client only talks to
// when told so.
const PASSPORT_CONFIG = `import * as openidClient from 'openid-client'
const config = await openidClient.discovery(
  new URL(process.env.OIDC_ISSUER),
  process.env.OIDC_CLIENT_ID,
  process.env.OIDC_CLIENT_SECRET,
  undefined,
  { execute: [openidClient.allowInsecureRequests] },
)
`

interface Migrated {
  name: string
  code: string
  clientId: string
  /** Cookies the logout must clear, besides express-session's. */
  cookies: string[]
  base: string
  app?: RunningSnippet
}

const apps: Migrated[] = [
  {
    name: 'express-openid-connect',
    code: blockAfter(guide, 'after express-openid-connect'),
    clientId: 'eoc-app',
    cookies: ['appSession'],
    base: '',
  },
  {
    name: 'passport',
    code: PASSPORT_CONFIG + blockAfter(guide, 'after passport'),
    clientId: 'passport-app',
    cookies: [],
    base: '',
  },
]
let op: Op

beforeAll(async () => {
  for (const app of apps) app.base = `http://localhost:${await freePort()}`
  op = await startOp({
    clients: apps.map((app) => ({
      client_id: app.clientId,
      client_secret: `${app.clientId}-secret`,
      redirect_uris: [`${app.base}/callback`],
      post_logout_redirect_uris: [`${app.base}/goodbye`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
  })
  for (const app of apps) {
    app.app = await runSnippet(app.code, {
      file: 'app.mjs',
      ready: /listening on (http:\/\/\S+)/,
      env: {
        PORT: new URL(app.base).port,
        BASE_URL: app.base,
        OIDC_ISSUER: op.issuer,
        OIDC_CLIENT_ID: app.clientId,
        OIDC_CLIENT_SECRET: `${app.clientId}-secret`,
        SESSION_SECRET: SECRET,
      },
    })
  }
}, 60_000)

afterAll(async () => {
  await Promise.all(apps.map((app) => app.app?.stop()))
  await op?.stop()
})

/** A browser: one cookie jar for the app, one for the OP. */
interface Browser {
  app: CookieJar
  op: CookieJar
}

/** Signs `user-1` in from the app's /login, through the OP's login and consent pages, back to the app. */
async function signIn(base: string): Promise<Browser> {
  const browser = { app: new CookieJar(), op: new CookieJar() }
  let url = new URL('/login', base)
  for (let step = 0; step < 20; step++) {
    if (url.origin === new URL(op.issuer).origin) {
      url = new URL(await interact(browser.op, url, 'user-1'))
      continue
    }
    const response = await browse(browser.app, url)
    const location = response.headers.get('location')
    if (!location) return browser
    url = new URL(location, url)
  }
  throw new Error('sign-in did not come back to the app')
}

function payload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
}

function cleared(response: Response, name: string): boolean {
  return response.headers
    .getSetCookie()
    .some((c) => c.startsWith(`${name}=;`) && /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c))
}

describe.each(apps.map((app) => [app.name, app] as const))('after migrating from %s', (_, app) => {
  it('is the listing of docs/migration.md', () => {
    expect(app.code).toContain("from 'sso-logout'")
    expect(app.code).toContain('auth.link(')
  })

  it('logs out with id_token_hint, destroys the local sessions and ends the OP session', async () => {
    const client = { clientId: app.clientId, redirectUri: `${app.base}/callback` }
    const browser = await signIn(app.base)
    const profile = await browse(browser.app, new URL('/profile', app.base))
    expect([profile.status, await profile.json()]).toEqual([200, { sub: 'user-1' }])
    expect(await hasOpSession(op, browser.op, client)).toBe(true)
    const sessionCookie = browser.app.cookies.get('connect.sid')
    expect(sessionCookie).toEqual(expect.any(String))

    const out = await browse(browser.app, new URL('/logout', app.base), {
      method: 'POST',
      headers: { origin: app.base },
    })
    expect(out.status).toBe(303)
    const location = new URL(out.headers.get('location')!)
    expect(`${location.origin}${location.pathname}`).toBe(`${op.issuer}/session/end`)
    // The ID token the login library received, handed over at login: issued by this OP, to this
    // client, for this user.
    const hint = location.searchParams.get('id_token_hint')
    expect(hint).toEqual(expect.any(String))
    expect(payload(hint!)).toMatchObject({ iss: op.issuer, aud: app.clientId, sub: 'user-1' })
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${app.base}/goodbye`)

    // Local sessions: the cookies are cleared, and the express-session session is gone from the
    // store: its old cookie, replayed, carries no ID token any more.
    for (const name of ['connect.sid', ...app.cookies])
      expect([name, cleared(out, name)]).toEqual([name, true])
    expect((await browse(browser.app, new URL('/profile', app.base))).status).toBe(401)
    const replayed = await fetch(new URL('/logout', app.base), {
      method: 'POST',
      headers: { origin: app.base, cookie: `connect.sid=${sessionCookie}` },
      redirect: 'manual',
    })
    expect(replayed.status).toBe(303)
    expect(new URL(replayed.headers.get('location')!).searchParams.has('id_token_hint')).toBe(false)

    // The OP ends its session and sends the browser back to /goodbye with the state.
    const landing = await followLogout(op, browser.op, location)
    expect(`${landing.url.origin}${landing.url.pathname}`).toBe(`${app.base}/goodbye`)
    expect(await hasOpSession(op, browser.op, client)).toBe(false)
    const goodbye = await browse(browser.app, landing.url)
    expect([goodbye.status, await goodbye.text()]).toEqual([200, 'You are signed out.'])
  }, 30_000)
})
