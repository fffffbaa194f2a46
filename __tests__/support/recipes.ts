import type { RequestListener } from 'node:http'
import * as client from 'openid-client'
import type { LogoutEvent } from '../../lib/index.js'
import { authorize, browse, CookieJar, followLogout, startOp } from './op.js'
import type { Op, OpClient } from './op.js'
import { listen } from './serve.js'
import type { Listening } from './serve.js'

/**
 * The login recipes (docs/login-recipes.md) run against the real `oidc-provider`: one OP whose one
 * client is the recipe's app, the app built by the recipe's own code, and a browser with a cookie
 * jar for each of the two origins.
 */

/** What a recipe's app is given: the names the recipes use for the deployment's values. */
export interface RecipeEnv {
  ISSUER: string
  BASE_URL: string
  CLIENT_ID: string
  CLIENT_SECRET: string
  SESSION_SECRET: string
  /** openid-client's Configuration of the OP (discovered over http: loopback, tests only). */
  config: client.Configuration
  /** Every logout event of the app's `logout()`, for the assertions. */
  onLogout: (event: LogoutEvent) => void
}

export interface Recipe {
  op: Op
  env: RecipeEnv
  server: Listening
  events: LogoutEvent[]
  /** Resolves with the next event of `reason` from now on: call it before what causes the event. */
  nextEvent(reason: LogoutEvent['reason']): Promise<LogoutEvent>
  stop(): Promise<void>
}

export const CLIENT_ID = 'recipes'
const CLIENT_SECRET = 'recipes-secret-0123456789abcdef'

/**
 * Starts the OP and the app: the app listens first, so the OP can be told its callback,
 * post-logout and back-channel URLs; `build` then makes the app from the recipe's code.
 */
export async function startRecipe(
  build: (env: RecipeEnv) => RequestListener | Promise<RequestListener>,
  setup: { callbacks?: string[]; client?: Partial<OpClient> } = {},
): Promise<Recipe> {
  const server = await listen()
  const BASE_URL = server.url
  const op = await startOp({
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: (setup.callbacks ?? ['/callback']).map((path) => `${BASE_URL}${path}`),
        post_logout_redirect_uris: [`${BASE_URL}/`],
        backchannel_logout_uri: `${BASE_URL}/backchannel-logout`,
        backchannel_logout_session_required: true,
        grant_types: ['authorization_code'],
        ...setup.client,
      },
    ],
  })
  const config = await client.discovery(new URL(op.issuer), CLIENT_ID, CLIENT_SECRET, undefined, {
    execute: [client.allowInsecureRequests],
  })
  const events: LogoutEvent[] = []
  const waiting: Array<(event: LogoutEvent) => boolean> = []
  const env: RecipeEnv = {
    ISSUER: op.issuer,
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET: 'recipes-session-secret-0123456789abcdef',
    config,
    onLogout(event) {
      events.push(event)
      waiting.splice(0, waiting.length, ...waiting.filter((wait) => !wait(event)))
    },
  }
  server.server.on('request', await build(env))
  return {
    op,
    env,
    server,
    events,
    nextEvent: (reason) =>
      new Promise((resolve) => {
        waiting.push((event) => event.reason === reason && (resolve(event), true))
      }),
    stop: async () => {
      await op.stop()
      await server.close()
    },
  }
}

/** A browser: one cookie jar for the app, one for the OP (different ports, different cookies here). */
export class Browser {
  readonly app = new CookieJar()
  readonly op = new CookieJar()

  constructor(private readonly recipe: Recipe) {}

  /** One request to the app, with its cookies; redirects are not followed. */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return browse(this.app, new URL(path, this.recipe.env.BASE_URL), init)
  }

  /**
   * Signs `sub` in the way a user does: the app's login route, the OP's login and consent forms,
   * back to the app's callback. Resolves to the callback's response and the app's cookies as they
   * were before it (the session the login started in).
   */
  async signIn(
    sub: string,
    loginPath = '/login',
  ): Promise<{ callback: Response; before: Map<string, string> }> {
    const start = await this.fetch(loginPath)
    const location = start.headers.get('location')
    if (start.status !== 302 || !location) throw new Error(`${loginPath} answered ${start.status}`)
    const redirect = await authorize(this.recipe.op, this.op, location, sub)
    const before = this.cookies()
    const callback = await this.fetch(redirect.pathname + redirect.search)
    if (callback.status !== 302)
      throw new Error(`the callback answered ${callback.status}: ${await callback.text()}`)
    return { callback, before }
  }

  /** The user logs out at the OP itself (another app's button): the OP sends its back-channel logout tokens. */
  async logOutAtOp(): Promise<void> {
    const landing = await followLogout(
      this.recipe.op,
      this.op,
      new URL('/session/end', this.recipe.op.issuer),
    )
    if (landing.status !== 0 && landing.status !== 200)
      throw new Error(`the OP logout ended on ${landing.status}`)
  }

  /** A copy of the app's cookies as they are now (to replay a logged-out session's cookie later). */
  cookies(): Map<string, string> {
    return new Map(this.app.cookies)
  }

  /** Sends `cookies` instead of the jar's (a stolen or kept copy of an earlier cookie). */
  fetchWith(cookies: Map<string, string>, path: string): Promise<Response> {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    return fetch(new URL(path, this.recipe.env.BASE_URL), { headers: { cookie }, redirect: 'manual' })
  }
}

/** The express-session id a `connect.sid` cookie carries (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdOf(cookies: Map<string, string>, name = 'connect.sid'): string | undefined {
  const value = cookies.get(name)
  if (value === undefined) return undefined
  const decoded = decodeURIComponent(value)
  return decoded.startsWith('s:') ? decoded.slice(2, decoded.lastIndexOf('.')) : undefined
}

/** The names of the cookies a response deletes (empty value, or expired). */
export function clearedCookies(response: Response): string[] {
  return response.headers
    .getSetCookie()
    .filter((line) => /^[^=]+=;|;\s*expires=thu, 01 jan 1970/i.test(line))
    .map((line) => line.slice(0, line.indexOf('=')))
}
