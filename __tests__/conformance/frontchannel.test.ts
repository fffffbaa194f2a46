import { decodeJwt } from 'jose'
import { SUITE_SUB } from '../support/conformance-op'
import { runFrontchannelPage } from './browser'
import type { Page } from './browser'
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

// The two front-channel modules (OIDCCClientTestFrontChannelLogoutRPInitiated / ...OPInitiated).
// The OP's page loads the RP's frontchannel_logout_uri, with iss and sid, in an iframe. The page is
// the OP's, on another site, so the RP's session cookie (express-session's default: no SameSite
// attribute, which browsers treat as Lax) is not sent with it. The suite cannot see into the
// iframe: both modules end in "review needed", and the review is what these tests assert.

afterEach(tearDownModules)

/** The RP's front-channel answer, in the terms Front-Channel Logout §2 and the iframe need. */
function iframeAnswer(run: ModuleRun, page: Page) {
  const csp = String(page.headers['content-security-policy'] ?? '')
  return {
    status: page.status,
    // Front-Channel Logout §2: SHOULD be no-store.
    cacheControl: page.headers['cache-control'],
    // The OP's page must be able to frame it: no X-Frame-Options, and a frame-ancestors that
    // lets the OP's origin in (or none at all).
    frameableByOp:
      page.headers['x-frame-options'] === undefined &&
      (!csp.includes('frame-ancestors') || csp.includes(new URL(run.op.issuer).origin)),
  }
}

/** `iss` and `sid` as the RP received them, compared with the ID token the OP issued. */
function iframeQuery(run: ModuleRun, page: Page) {
  const query = new URL(page.url).searchParams
  const idToken = [...run.op.issuedIdTokens][0]!
  return {
    iss: query.get('iss') === run.op.issuer,
    sid: query.get('sid') === decodeJwt(idToken).sid,
  }
}

it('oidcc-client-test-rp-frontchannel-rpinitlogout', async () => {
  const run = await setUpModule('oidcc-client-test-rp-frontchannel-rpinitlogout', {
    channels: { front: true },
  })
  await signIn(run)
  const logout = await logOutAtRp(run)
  const iframe = logout.frontchannel?.iframe
  expect({
    outcome: outcomeOf(run.op),
    endSession: endSessionSeen(run),
    iframe: iframe && iframeAnswer(run, iframe),
    query: iframe && iframeQuery(run, iframe),
    landing: { status: logout.landing.status, path: new URL(logout.landing.url).pathname },
    signedInAfterwards: await signedInUser(run),
  }).toEqual({
    outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
    endSession: {
      id_token_hint: 'issued by this OP',
      post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
      state: 'present',
    },
    // The RP ended the session before it redirected; the iframe finds nothing left to end (Front-Channel Logout §2).
    iframe: { status: 200, cacheControl: 'no-store', frameableByOp: true },
    query: { iss: true, sid: true },
    landing: { status: 200, path: '/goodbye' },
    signedInAfterwards: null,
  })
})

it('oidcc-client-test-rp-frontchannel-opinitlogout', async () => {
  const run = await setUpModule('oidcc-client-test-rp-frontchannel-opinitlogout', {
    channels: { front: true },
  })
  await signIn(run)
  expect(await signedInUser(run)).toBe(SUITE_SUB)
  // After the token request the suite sends the tester's browser to its front-channel page.
  const opPage = await run.browser.navigate(await run.op.opInitiatedLogout, { from: 'none' })
  const { iframe, after } = await runFrontchannelPage(run.browser, opPage)
  expect(after).toEqual([])
  expect({
    outcome: outcomeOf(run.op),
    endSessionRequests: run.op.endSessionRequests.length,
    iframe: iframeAnswer(run, iframe),
    query: iframeQuery(run, iframe),
    // The review: the browser's session at the RP is over, though its cookie never reached the
    // iframe. The RP acted on iss + sid (an unguessable per-session value) for the session it had
    // linked to them at login with link({ sid, sub, req, idToken }).
    signedInAfterwards: await signedInUser(run),
    events: run.rp.events.map((e) => ({ reason: e.reason, sessionsDestroyed: e.sessionsDestroyed })),
  }).toEqual({
    outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: true },
    endSessionRequests: 0,
    iframe: { status: 200, cacheControl: 'no-store', frameableByOp: true },
    query: { iss: true, sid: true },
    signedInAfterwards: null,
    events: [{ reason: 'frontchannel', sessionsDestroyed: 1 }],
  })
})

describe('not suite steps: what the front-channel receiver must not do', () => {
  // Counterparts of acting without the session cookie: the request proves nothing about its
  // sender, so only the exact iss + sid of a linked session may end anything.
  async function signedInRun() {
    const run = await setUpModule('oidcc-client-test-rp-frontchannel-opinitlogout', {
      channels: { front: true },
    })
    await signIn(run)
    return run
  }

  it('a sid the RP never linked ends nothing', async () => {
    const run = await signedInRun()
    const url = new URL(run.rp.urls.frontchannel)
    url.searchParams.set('iss', run.op.issuer)
    url.searchParams.set('sid', 'abcdefghijklmnopqrst0123456789-----')
    const iframe = await run.browser.loadCrossSiteIframe(url.href, run.op.issuer)
    // Front-Channel Logout §2: the RP MAY ignore a request that matches no session; it is not an error.
    expect({ status: iframe.status, signedIn: await signedInUser(run) }).toEqual({
      status: 200,
      signedIn: SUITE_SUB,
    })
  })

  it('the right sid with another issuer ends nothing', async () => {
    const run = await signedInRun()
    const sid = decodeJwt([...run.op.issuedIdTokens][0]!).sid as string
    const url = new URL(run.rp.urls.frontchannel)
    url.searchParams.set('iss', `${run.op.issuer}INVALID`)
    url.searchParams.set('sid', sid)
    const iframe = await run.browser.loadCrossSiteIframe(url.href, run.op.issuer)
    expect({ status: iframe.status, signedIn: await signedInUser(run) }).toEqual({
      status: 400,
      signedIn: SUITE_SUB,
    })
  })
})
