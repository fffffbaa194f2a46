import { SUITE_SUB } from '../support/conformance-op'
import type { ModuleName } from '../support/conformance-op'
import {
  endSessionSeen,
  logOutAtRp,
  outcomeOf,
  setUpModule,
  signIn,
  signedInUser,
  tearDownModules,
} from './harness'
import type { ModuleRun } from './harness'

// oidcc-client-test-rp-init-logout and its two state variants (OIDCCClientTestRPInitLogout,
// ...InvalidState, ...NoState). The client registers both logout URIs, so the OP sends a
// back-channel logout token and renders the front-channel iframe before it redirects back
// (the modules send both when both are registered). See notes.md for what each module checks.

afterEach(tearDownModules)

async function rpInitiatedLogout(module: ModuleName, keepIdToken: 'link' | 'session' = 'link') {
  const run = await setUpModule(module, { channels: { back: true, front: true }, keepIdToken })
  await signIn(run)
  const signedIn = await signedInUser(run)
  const logout = await logOutAtRp(run)
  return { run, signedIn, logout }
}

/** What a reviewer of the module would look at, in one object so a failure shows all of it. */
async function review(run: ModuleRun, landing: { status: number; url: string }) {
  return {
    outcome: outcomeOf(run.op),
    endSession: endSessionSeen(run),
    backchannel: run.op.backchannelCalls.map((c) => c.status),
    landing: { status: landing.status, path: new URL(landing.url).pathname },
    signedInAfterwards: await signedInUser(run),
    stateCookieLeft: run.browser.cookies.has('sso_logout_state'),
  }
}

it('oidcc-client-test-rp-init-logout', async () => {
  const { run, signedIn, logout } = await rpInitiatedLogout('oidcc-client-test-rp-init-logout')
  expect(signedIn).toBe(SUITE_SUB)
  // The front-channel request arrives after the RP already ended the session: nothing left to do.
  expect(logout.frontchannel?.iframe.status).toBe(200)
  expect(await review(run, logout.landing)).toEqual({
    // reviewNeeded: the front-channel callback asks for a review of the iframe (suite behaviour).
    outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
    endSession: {
      id_token_hint: 'issued by this OP',
      post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
      state: 'present',
    },
    // Back-Channel Logout §2.7: a user already logged out is a success.
    backchannel: [200],
    // The OP brought the RP's own state back: checkLogoutState accepts it once.
    landing: { status: 200, path: '/goodbye' },
    signedInAfterwards: null,
    stateCookieLeft: false,
  })
})

it('oidcc-client-test-rp-init-logout-other-state', async () => {
  const { run, logout } = await rpInitiatedLogout('oidcc-client-test-rp-init-logout-other-state')
  const returned = new URL(logout.landing.url).searchParams.get('state')
  expect(returned).toMatch(/_INVALID$/)
  expect(await review(run, logout.landing)).toEqual({
    outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
    endSession: {
      id_token_hint: 'issued by this OP',
      post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
      state: 'present',
    },
    backchannel: [200],
    // RP-Initiated Logout §2: `state` is the RP's own value; another one is not its response.
    // The app's checkLogoutState refuses it (and drops the cookie); the user stays logged out.
    landing: { status: 400, path: '/goodbye' },
    signedInAfterwards: null,
    stateCookieLeft: false,
  })
})

it('oidcc-client-test-rp-init-logout-no-state', async () => {
  const { run, logout } = await rpInitiatedLogout('oidcc-client-test-rp-init-logout-no-state')
  expect(new URL(logout.landing.url).searchParams.has('state')).toBe(false)
  expect(await review(run, logout.landing)).toEqual({
    outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
    endSession: {
      id_token_hint: 'issued by this OP',
      post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
      state: 'present',
    },
    backchannel: [200],
    // A redirect without the state the RP sent is not a verified logout response either.
    landing: { status: 400, path: '/goodbye' },
    signedInAfterwards: null,
    stateCookieLeft: false,
  })
})

describe('not a module: the docs/providers.md recipe instead of link({ idToken })', () => {
  // The same module with the app keeping the ID token itself (`req.session.idToken`), to tell a
  // failure of link({ ..., idToken }) apart from a failure of the logout itself.
  it('oidcc-client-test-rp-init-logout, ID token kept in req.session.idToken', async () => {
    const { run, logout } = await rpInitiatedLogout('oidcc-client-test-rp-init-logout', 'session')
    expect(await review(run, logout.landing)).toEqual({
      outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
      endSession: {
        id_token_hint: 'issued by this OP',
        post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
        state: 'present',
      },
      backchannel: [200],
      landing: { status: 200, path: '/goodbye' },
      signedInAfterwards: null,
      stateCookieLeft: false,
    })
  })
})
