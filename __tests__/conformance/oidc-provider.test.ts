import { decodeJwt } from 'jose'
import { Browser, runFrontchannelPage } from './browser'
import type { Page } from './browser'
import { confirmLogout, startRealOp, throughInteractions } from './real-op'
import type { OpEvent, RealOp, RealOpClient } from './real-op'
import { reserveRp } from './rp'
import type { Rp, RpSetup, TokenResponse } from './rp'

// The conformance flows against a real OP, oidc-provider 9, run by oidc-provider-server.mjs:
// RP-Initiated Logout with id_token_hint and state, Back-Channel Logout (RS256 and an ES256
// client), Front-Channel Logout (which that server adds on top of oidc-provider, see its header),
// and RFC 7009 revocation next to an OP that notifies the other RPs of the session.

const SUB = 'user-1'

interface AppSpec {
  name: string
  /** Client metadata besides client_id, client_secret, redirect_uris and post_logout_redirect_uris. */
  metadata?: (urls: Rp['urls']) => Partial<RealOpClient>
  setup?: Partial<RpSetup>
}

interface Started {
  op: RealOp
  apps: Record<string, Rp & { tokens: TokenResponse[] }>
  browser: Browser
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

/** Reserves each app's port, starts the OP with the apps as its clients, then starts the apps. */
async function start(...specs: AppSpec[]): Promise<Started> {
  const reserved = await Promise.all(specs.map(() => reserveRp()))
  const clients = specs.map((spec, i): RealOpClient => {
    const urls = reserved[i]!.urls
    return {
      client_id: spec.name,
      client_secret: `${spec.name}-secret-0123456789abcdef0123456789`,
      redirect_uris: [urls.redirect],
      post_logout_redirect_uris: [urls.postLogoutRedirect],
      ...spec.metadata?.(urls),
    }
  })
  const op = await startRealOp(clients)
  cleanups.push(() => op.stop())
  const apps: Started['apps'] = {}
  for (const [i, spec] of specs.entries()) {
    const tokens: TokenResponse[] = []
    const rp = await reserved[i]!.start({
      issuer: op.issuer,
      clientId: spec.name,
      clientSecret: clients[i]!.client_secret!,
      ...spec.setup,
      onTokens: (session, response) => {
        tokens.push(response)
        spec.setup?.onTokens?.(session, response)
      },
    })
    cleanups.push(() => rp.close())
    apps[spec.name] = Object.assign(rp, { tokens })
  }
  const [first, ...others] = reserved.map((r) => r.url)
  return { op, apps, browser: new Browser(first!, ...others) }
}

async function signIn(browser: Browser, rp: Rp): Promise<void> {
  const pages = await throughInteractions(browser, await browser.follow(`${rp.url}/login`), SUB)
  const last = pages[pages.length - 1]!
  if (last.status !== 200 || !last.url.startsWith(rp.urls.redirect))
    throw new Error(
      `sign-in at ${rp.url} ended at ${last.url} with ${last.status}: ${last.text.slice(0, 200)}`,
    )
}

async function signedIn(browser: Browser, rp: Rp): Promise<unknown> {
  const page = await browser.navigate(`${rp.url}/me`)
  return (JSON.parse(page.text) as { user: unknown }).user
}

/** Does the OP still know the browser? A new sign-in then needs no login form. */
async function opSessionAlive(browser: Browser, rp: Rp): Promise<boolean> {
  const pages = await browser.follow(`${rp.url}/login`)
  const last = pages[pages.length - 1]!
  return !/name="prompt" value="login"/.test(last.text)
}

const index = (events: OpEvent[], match: (e: OpEvent) => boolean) => events.findIndex(match)
const request = (method: string, path: string) => (e: OpEvent) =>
  e.event === 'request' && e.method === method && e.path === path

/** The end-session request the RP sent the browser to, in the terms RP-Initiated Logout §2 uses. */
function endSessionParams(logoutAnswer: Page, rp: Rp & { tokens: TokenResponse[] }) {
  const params = new URL(logoutAnswer.location!, logoutAnswer.url).searchParams
  return {
    id_token_hint:
      params.get('id_token_hint') === rp.tokens[0]?.id_token
        ? 'the ID token of the login'
        : 'absent or other',
    client_id: params.get('client_id'),
    post_logout_redirect_uri: params.get('post_logout_redirect_uri'),
    state: params.has('state'),
  }
}

describe('oidc-provider: RP-Initiated Logout 1.0', () => {
  it('sends id_token_hint and state; the OP ends its session and brings the state back', async () => {
    const { op, apps, browser } = await start({ name: 'notes' })
    const notes = apps.notes!
    await signIn(browser, notes)
    const toOp = await browser.follow(`${notes.url}/logout`, { method: 'POST' })
    const back = await confirmLogout(browser, toOp[toOp.length - 1]!)
    const landing = back[back.length - 1]!
    expect({
      endSession: endSessionParams(toOp[0]!, notes),
      landing: { path: new URL(landing.url).pathname, status: landing.status },
      signedIn: await signedIn(browser, notes),
      opSession: await opSessionAlive(browser, notes),
      ended: op.events.some((e) => e.event === 'end_session.success'),
    }).toEqual({
      // id_token_hint from link({ sid, sub, req, idToken }): the OP can tell who asks (§2).
      endSession: {
        id_token_hint: 'the ID token of the login',
        client_id: 'notes',
        post_logout_redirect_uri: notes.urls.postLogoutRedirect,
        state: true,
      },
      // §3: back at the registered URI with the RP's own state, which checkLogoutState accepts.
      landing: { path: '/goodbye', status: 200 },
      signedIn: null,
      opSession: false,
      ended: true,
    })
  })
})

describe('oidc-provider: Back-Channel Logout 1.0', () => {
  const backchannel = (urls: Rp['urls']) => ({
    backchannel_logout_uri: urls.backchannel,
    backchannel_logout_session_required: true,
  })

  async function logoutAtOp(browser: Browser, op: RealOp): Promise<Page[]> {
    // The user signs out at the OP itself (no id_token_hint): the OP asks, then tells every RP.
    const pages = await browser.follow(`${op.issuer}/session/end`)
    return confirmLogout(browser, pages[pages.length - 1]!)
  }

  it('a logout at the OP ends the RP session (RS256, the default)', async () => {
    const { op, apps, browser } = await start({ name: 'notes', metadata: backchannel })
    const notes = apps.notes!
    await signIn(browser, notes)
    await logoutAtOp(browser, op)
    expect({
      delivered: op.events
        .filter((e) => e.event.startsWith('backchannel.'))
        .map((e) => [e.event, e.clientId]),
      signedIn: await signedIn(browser, notes),
      events: notes.events.map((e) => ({ reason: e.reason, sessionsDestroyed: e.sessionsDestroyed })),
    }).toEqual({
      delivered: [['backchannel.success', 'notes']],
      signedIn: null,
      events: [{ reason: 'backchannel', sessionsDestroyed: 1 }],
    })
  })

  it('an ES256 client: oidc({ idTokenSigningAlg: "ES256" }) accepts its ES256 logout tokens', async () => {
    const { op, apps, browser } = await start({
      name: 'notes',
      metadata: (urls) => ({ ...backchannel(urls), id_token_signed_response_alg: 'ES256' }),
      setup: { idTokenSigningAlg: 'ES256' },
    })
    const notes = apps.notes!
    await signIn(browser, notes)
    await logoutAtOp(browser, op)
    expect({
      delivered: op.events
        .filter((e) => e.event.startsWith('backchannel.'))
        .map((e) => [e.event, e.clientId]),
      signedIn: await signedIn(browser, notes),
    }).toEqual({ delivered: [['backchannel.success', 'notes']], signedIn: null })
  })
})

describe('oidc-provider (with the test server’s front-channel pages): Front-Channel Logout 1.0', () => {
  const frontchannel = (urls: Rp['urls']) => ({
    frontchannel_logout_uri: urls.frontchannel,
    frontchannel_logout_session_required: true,
  })

  function iframeQuery(page: Page, op: RealOp, idToken: string | undefined) {
    const query = new URL(page.url).searchParams
    return { iss: query.get('iss') === op.issuer, sid: query.get('sid') === decodeJwt(idToken ?? '').sid }
  }

  it('RP-initiated: the OP frames the RP, then redirects back with the state', async () => {
    const { op, apps, browser } = await start({ name: 'notes', metadata: frontchannel })
    const notes = apps.notes!
    await signIn(browser, notes)
    const toOp = await browser.follow(`${notes.url}/logout`, { method: 'POST' })
    const confirmed = await confirmLogout(browser, toOp[toOp.length - 1]!)
    const run = await runFrontchannelPage(browser, confirmed[confirmed.length - 1]!)
    const landing = run.after[run.after.length - 1]!
    expect({
      endSession: endSessionParams(toOp[0]!, notes),
      iframe: run.iframe.status,
      query: iframeQuery(run.iframe, op, notes.tokens[0]?.id_token),
      landing: { path: new URL(landing.url).pathname, status: landing.status },
      signedIn: await signedIn(browser, notes),
    }).toEqual({
      endSession: {
        id_token_hint: 'the ID token of the login',
        client_id: 'notes',
        post_logout_redirect_uri: notes.urls.postLogoutRedirect,
        state: true,
      },
      iframe: 200,
      query: { iss: true, sid: true },
      landing: { path: '/goodbye', status: 200 },
      signedIn: null,
    })
  })

  it('a logout at the OP: the cross-site iframe, without the session cookie, ends the RP session', async () => {
    const { op, apps, browser } = await start({ name: 'notes', metadata: frontchannel })
    const notes = apps.notes!
    await signIn(browser, notes)
    const atOp = await browser.follow(`${op.issuer}/session/end`)
    const confirmed = await confirmLogout(browser, atOp[atOp.length - 1]!)
    const run = await runFrontchannelPage(browser, confirmed[confirmed.length - 1]!)
    expect({
      iframe: run.iframe.status,
      query: iframeQuery(run.iframe, op, notes.tokens[0]?.id_token),
      signedIn: await signedIn(browser, notes),
      events: notes.events.map((e) => ({ reason: e.reason, sessionsDestroyed: e.sessionsDestroyed })),
    }).toEqual({
      iframe: 200,
      query: { iss: true, sid: true },
      signedIn: null,
      events: [{ reason: 'frontchannel', sessionsDestroyed: 1 }],
    })
  })
})

describe('oidc-provider: RFC 7009 revocation with oidc({ revoke: ["refresh_token"] })', () => {
  it('revokes after the OP’s end-session, and the OP still notifies the other RP of the session', async () => {
    const backchannel = (urls: Rp['urls']) => ({
      backchannel_logout_uri: urls.backchannel,
      backchannel_logout_session_required: true,
    })
    const { op, apps, browser } = await start(
      {
        name: 'notes',
        metadata: (urls) => ({ ...backchannel(urls), grant_types: ['authorization_code', 'refresh_token'] }),
        setup: {
          provider: { clientSecret: 'notes-secret-0123456789abcdef0123456789', revoke: ['refresh_token'] },
          // docs/providers.md: keep the refresh token in the session when you revoke it.
          onTokens: (session, tokens) => void (session.refreshToken = tokens.refresh_token),
        },
      },
      { name: 'calendar', metadata: backchannel },
    )
    const notes = apps.notes!
    const calendar = apps.calendar!
    await signIn(browser, notes)
    await signIn(browser, calendar)
    expect(notes.tokens[0]?.refresh_token).toEqual(expect.any(String))

    const toOp = await browser.follow(`${notes.url}/logout`, { method: 'POST' })
    const back = await confirmLogout(browser, toOp[toOp.length - 1]!)
    const landing = back[back.length - 1]!
    const revocation = await op.waitFor(request('POST', '/token/revocation'), 'a revocation request')
    const events = op.events
    expect({
      landing: { path: new URL(landing.url).pathname, status: landing.status },
      // RP-Initiated Logout §3: the OP notifies the other RPs before it redirects back.
      delivered: events
        .filter((e) => e.event.startsWith('backchannel.'))
        .map((e) => [e.event, e.clientId])
        .sort(),
      signedIn: { notes: await signedIn(browser, notes), calendar: await signedIn(browser, calendar) },
      // The refresh token is revoked only once the OP has been asked to end the session: before
      // the redirect it would take the session's grant down before the OP could use it.
      revokedAfterEndSession:
        events.indexOf(revocation) > index(events, request('GET', '/session/end')) &&
        index(events, request('GET', '/session/end')) !== -1,
    }).toEqual({
      landing: { path: '/goodbye', status: 200 },
      delivered: [
        ['backchannel.success', 'calendar'],
        ['backchannel.success', 'notes'],
      ],
      signedIn: { notes: null, calendar: null },
      revokedAfterEndSession: true,
    })
  })
})
