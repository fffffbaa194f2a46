import { clientSecret, startConformanceOp } from '../support/conformance-op'
import type { ConformanceOp, ModuleName, StaticClient } from '../support/conformance-op'
import { Browser, frontchannelPageOf, runFrontchannelPage } from './browser'
import type { FrontchannelRun, Page } from './browser'
import { startRp } from './rp'
import type { Rp, RpSetup } from './rp'

/** One module run: the stand-in OP for the module, the RP registered at it, and the tester's browser. */
export interface ModuleRun {
  module: ModuleName
  op: ConformanceOp
  rp: Rp
  browser: Browser
  client: StaticClient
}

export interface ModuleSetup extends Pick<RpSetup, 'keepIdToken' | 'idTokenSigningAlg'> {
  /** Which logout URIs the client registers. */
  channels: { back?: boolean; front?: boolean }
}

const running: Array<{ close(): Promise<void> }> = []

/** Stops every OP and RP {@link setUpModule} started; call from `afterEach`. */
export async function tearDownModules(): Promise<void> {
  await Promise.all(running.splice(0).map((server) => server.close()))
}

/**
 * Starts the module's OP and the RP, and registers the RP as the suite's static client:
 * `redirect_uri`, `post_logout_redirect_uri`, and the logout URIs the module needs, with
 * `frontchannel_logout_session_required: true` so that front-channel requests carry `iss` and
 * `sid` (Front-Channel Logout §2; without it the suite sends neither).
 */
export async function setUpModule(module: ModuleName, setup: ModuleSetup): Promise<ModuleRun> {
  const op = await startConformanceOp(module)
  running.push(op)
  const secret = clientSecret()
  const rp = await startRp({
    issuer: op.issuer,
    clientId: 'sso-logout-rp',
    clientSecret: secret,
    idTokenSigningAlg: setup.idTokenSigningAlg,
    keepIdToken: setup.keepIdToken,
  })
  running.push(rp)
  const client: StaticClient = {
    client_id: 'sso-logout-rp',
    client_secret: secret,
    redirect_uris: [rp.urls.redirect],
    post_logout_redirect_uris: [rp.urls.postLogoutRedirect],
    ...(setup.channels.back ? { backchannel_logout_uri: rp.urls.backchannel } : {}),
    ...(setup.channels.front
      ? { frontchannel_logout_uri: rp.urls.frontchannel, frontchannel_logout_session_required: true }
      : {}),
    ...(setup.idTokenSigningAlg ? { id_token_signed_response_alg: setup.idTokenSigningAlg } : {}),
  }
  op.configure(client)
  return { module, op, rp, browser: new Browser(rp.url), client }
}

/** Signs the browser in at the RP (authorization code flow through the OP); returns the callback page. */
export async function signIn(run: ModuleRun): Promise<Page> {
  const pages = await run.browser.follow(`${run.rp.url}/login`)
  const last = pages[pages.length - 1]!
  if (last.status !== 200) throw new Error(`login ended with ${last.status}: ${last.text}`)
  return last
}

/** Who the RP thinks the browser is (`null`: signed out), asked with the browser's cookies. */
export async function signedInUser(run: ModuleRun): Promise<unknown> {
  const page = await run.browser.navigate(`${run.rp.url}/me`)
  return (JSON.parse(page.text) as { user: unknown }).user
}

export interface LogoutRun {
  /** Every page from the RP's logout route to where the browser came to rest. */
  pages: Page[]
  /** The RP's logout answer (a redirect to the end-session endpoint). */
  logout: Page
  /** The OP's front-channel page was rendered and run. */
  frontchannel?: FrontchannelRun
  /** Where the browser came to rest: the RP's post-logout page, or an OP page. */
  landing: Page
}

/**
 * The user presses "Log out" (a form POST to the RP's logout route); the browser follows the
 * redirects through the OP's end-session endpoint, runs the OP's front-channel page if it gets
 * one, and comes back to the post-logout redirect URI.
 */
export async function logOutAtRp(run: ModuleRun): Promise<LogoutRun> {
  const pages = await run.browser.follow(`${run.rp.url}/logout`, { method: 'POST' })
  const last = pages[pages.length - 1]!
  if (!frontchannelPageOf(last)) return { pages, logout: pages[0]!, landing: last }
  const frontchannel = await runFrontchannelPage(run.browser, last)
  pages.push(...frontchannel.after)
  return { pages, logout: pages[0]!, frontchannel, landing: pages[pages.length - 1]! }
}

/** The outcome as the suite would report it, for one `toEqual`. */
export function outcomeOf(op: ConformanceOp) {
  const { status, failures, warnings, reviewNeeded } = op.outcome
  return { status, failures, warnings, reviewNeeded }
}

/** What the OP received at its end-session endpoint, in the terms the module checks. */
export function endSessionSeen(run: ModuleRun) {
  const request = run.op.endSessionRequests[0]
  if (!request) return undefined
  const hint = request.params.get('id_token_hint')
  return {
    id_token_hint:
      hint === null ? 'absent' : run.op.issuedIdTokens.has(hint) ? 'issued by this OP' : 'unknown',
    post_logout_redirect_uri: request.params.get('post_logout_redirect_uri'),
    state: request.params.get('state') === null ? 'absent' : 'present',
  }
}
