import { SUITE_SUB, expectedBackchannelStatus, mutationOf } from '../support/conformance-op'
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
import type { ModuleSetup } from './harness'

// The eight back-channel modules (OIDCCClientTestBackChannelLogout*). Each: the RP signs the user in
// and logs out with RP-Initiated Logout; while handling the end-session request the OP sends one
// logout token (valid, or mutated by the module) to the RP's backchannel_logout_uri and requires
// 200 for the valid one and 400 for every mutation (Back-Channel Logout 1.0 §2.8), then redirects
// back. See notes.md.

afterEach(tearDownModules)

const MODULES: ModuleName[] = [
  'oidcc-client-test-rp-backchannel-rpinitlogout',
  'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none',
  'oidcc-client-test-rp-backchannel-rpinitlogout-no-event',
  'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss',
]

/** The module as the suite runs it. */
async function runModule(module: ModuleName, setup: Partial<ModuleSetup> = {}) {
  const run = await setUpModule(module, { channels: { back: true }, ...setup })
  await signIn(run)
  const logout = await logOutAtRp(run)
  const call = run.op.backchannelCalls[0]
  return {
    outcome: outcomeOf(run.op),
    endSession: endSessionSeen(run),
    backchannel: call && {
      status: call.status,
      // Back-Channel Logout §2.8: SHOULD be no-store; the module warns otherwise.
      noStore: call.cacheControl?.split(',').some((p) => p.trim() === 'no-store') ?? false,
    },
    landing: { status: logout.landing.status, path: new URL(logout.landing.url).pathname },
    signedInAfterwards: await signedInUser(run),
    expected: {
      outcome: { status: 'FINISHED', failures: [], warnings: [], reviewNeeded: false },
      endSession: {
        id_token_hint: 'issued by this OP',
        post_logout_redirect_uri: run.rp.urls.postLogoutRedirect,
        state: 'present',
      },
      backchannel: { status: expectedBackchannelStatus(module), noStore: true },
      landing: { status: 200, path: '/goodbye' },
      signedInAfterwards: null,
    },
  }
}

it.each(MODULES)('%s', async (module) => {
  const { expected, ...seen } = await runModule(module)
  expect(seen).toEqual(expected)
})

describe('not a suite step: the module’s logout token while the session is still live', () => {
  // The suite sends its token after the RP has already ended the session, so it only sees the
  // status code. Sent while the session is live, the same token shows what the RP does with it:
  // a valid one ends the session (Back-Channel Logout §2.7); a rejected one must leave it alone.
  it.each(MODULES)('%s', async (module) => {
    const run = await setUpModule(module, { channels: { back: true } })
    await signIn(run)
    const mutation = mutationOf(module) ?? 'none'
    const call = await run.op.sendBackchannelLogout(mutation)
    const valid = mutation === 'none'
    expect({ status: call.status, signedIn: await signedInUser(run) }).toEqual(
      valid ? { status: 200, signedIn: null } : { status: 400, signedIn: SUITE_SUB },
    )
    if (!valid) {
      // §2.8: an error body, when sent, is JSON with an `error`.
      expect(JSON.parse(call.body)).toMatchObject({ error: 'invalid_request' })
    }
  })
})

describe('a client registered for ES256: oidc({ idTokenSigningAlg: "ES256" })', () => {
  // The suite signs ID and logout tokens with the client's id_token_signed_response_alg; for an
  // ES256 client its -wrong-alg module signs with RS256 instead (OIDCCSignLogoutTokenWithWrongAlgorithm).
  const es256 = { idTokenSigningAlg: 'ES256' } as const
  it.each([
    'oidcc-client-test-rp-backchannel-rpinitlogout',
    'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg',
  ] as ModuleName[])('%s', async (module) => {
    const { expected, ...seen } = await runModule(module, es256)
    expect(seen).toEqual(expected)
  })

  it.each([
    ['oidcc-client-test-rp-backchannel-rpinitlogout', 200, null],
    ['oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg', 400, SUITE_SUB],
  ] as Array<[ModuleName, number, string | null]>)(
    '%s, token sent while the session is live',
    async (module, status, signedIn) => {
      const run = await setUpModule(module, { channels: { back: true }, ...es256 })
      await signIn(run)
      const call = await run.op.sendBackchannelLogout(mutationOf(module) ?? 'none')
      expect({ status: call.status, signedIn: await signedInUser(run) }).toEqual({ status, signedIn })
    },
  )
})
