import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import {
  BUILT_ENTRY,
  CHROMIUM,
  CHROMIUM_ARGS,
  artifact,
  browserAvailability,
  crossSitePage,
  startExample,
  type RunningExample,
} from '../support/browser.js'

// The example app, driven in real Chromium: sign-in with openid-client (code + PKCE), single sign-on,
// RP-initiated logout through the OP's end-session endpoint, back-channel logout of the other app,
// reload and Back after a logout, "Log out everywhere", a refused returnTo, the OP's home page and
// favicons, and cross-site logout attempts.
const availability = browserAvailability()
if (!availability.run) {
  console.warn(`\n!!! SKIPPING the browser test: ${availability.reason} !!!\n`)
}
const describeBrowser = availability.run ? describe : describe.skip

interface Traffic {
  method: string
  url: string
  /** Set once the response arrived. */
  status?: number
}

/** Steps fail in seconds, with the step named, instead of at the 30 s test timeout. */
const STEP_TIMEOUT = 8000

/** A page in a fresh context (no cookies), recording every request, redirects included. */
async function openPage(browser: Browser) {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(STEP_TIMEOUT)
  const log: Traffic[] = []
  page.on('request', (r) => log.push({ method: r.method(), url: r.url() }))
  page.on('response', (r) => {
    const entry = log.findLast((t) => t.url === r.url() && t.status === undefined)
    if (entry) entry.status = r.status()
  })
  return { context, page, log }
}

function indexOf(log: Traffic[], from: number, match: (t: Traffic) => boolean): number {
  const i = log.slice(from).findIndex(match)
  return i === -1 ? -1 : from + i
}

async function signIn(page: Page, app: string, shot?: string): Promise<string> {
  await page.goto(`${app}/`)
  await page.locator('#signed-out').waitFor()
  if (shot) await page.screenshot({ path: artifact(`${shot}-signed-out.png`) })
  await page.click('#sign-in')
  await page.locator('#email').waitFor()
  expect(await page.inputValue('#email')).toBe('demo@example.test')
  if (shot) await page.screenshot({ path: artifact(`${shot}-provider-sign-in.png`) })
  await page.click('button#sign-in')
  await page.locator('#signed-in').waitFor()
  expect(page.url()).toBe(`${app}/`)
  return page.locator('#sid').innerText()
}

/** The message of the home page's logout line, and that no red error is on the page. */
async function returnLine(page: Page): Promise<string> {
  expect(await page.locator('.error').count()).toBe(0)
  return page.locator('#logout-return').innerText()
}

/** Reload, Back and Forward after a logout land on calm signed-out pages (the state is used). */
async function expectCalmAfterLogout(page: Page, app: string): Promise<void> {
  const returnedTo = page.url()
  await page.reload()
  await page.locator('#signed-out').waitFor()
  expect(await returnLine(page)).toBe(USED)
  await page.screenshot({ path: artifact('browser-04a-notes-reload-after-logout.png') })
  await page.goBack()
  await page.locator('#signed-out').waitFor()
  expect(page.url()).toBe(`${app}/`)
  expect(await page.locator('.error').count()).toBe(0)
  await page.screenshot({ path: artifact('browser-04b-notes-back-after-logout.png') })
  await page.goForward()
  await page.locator('#signed-out').waitFor()
  expect(page.url()).toBe(returnedTo)
  expect(await returnLine(page)).toBe(USED)
  await page.screenshot({ path: artifact('browser-04c-notes-forward-after-logout.png') })
}

const USED = 'You are already signed out: this sign-out finished before (a reload, or Back).'

describeBrowser('example app in Chromium', () => {
  let browser: Browser
  let example: RunningExample
  let endSession: string

  beforeAll(async () => {
    if (!existsSync(BUILT_ENTRY)) {
      throw new Error(
        `${BUILT_ENTRY} is missing: run "npm run build" first (the example uses the built package)`,
      )
    }
    example = await startExample()
    const discovery = (await (
      await fetch(`${example.urls.provider}/.well-known/openid-configuration`)
    ).json()) as {
      end_session_endpoint: string
    }
    endSession = discovery.end_session_endpoint
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  }, 30000)

  afterAll(async () => {
    await browser?.close()
    await example?.stop()
  })

  it('signs in once for both apps, and logging out of Notes logs out of the provider and Calendar', async () => {
    const { notes, calendar, provider } = example.urls
    const { context, page, log } = await openPage(browser)

    const notesSid = await signIn(page, notes, 'browser-01-notes')
    expect(notesSid).toMatch(/^[\w-]{10,}$/)
    // openid-client built the authorization request: code flow, PKCE S256, state and nonce.
    const auth = log.find((t) => t.url.startsWith(`${provider}/auth?`))
    const params = new URL(auth!.url).searchParams
    expect(Object.fromEntries(params)).toMatchObject({
      response_type: 'code',
      client_id: 'notes',
      redirect_uri: `${notes}/callback`,
      code_challenge_method: 'S256',
    })
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(params.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(params.get('nonce')).toMatch(/^[\w-]{20,}$/)
    await page.screenshot({ path: artifact('browser-02-notes-signed-in-with-openid-client.png') })

    // Calendar has no session of its own yet; signing in there needs no form (SSO at the provider).
    const beforeCalendar = log.length
    await page.goto(`${calendar}/`)
    await page.locator('#signed-out').waitFor()
    await page.click('#sign-in')
    await page.locator('#signed-in').waitFor()
    expect(page.url()).toBe(`${calendar}/`)
    expect(log.slice(beforeCalendar).some((t) => t.url.startsWith(`${provider}/interaction/`))).toBe(false)
    expect(await page.locator('#email').count()).toBe(0)
    // One Demo ID session, two sid values: oidc-provider issues one per client, and the page says so.
    const calendarSid = await page.locator('#sid').innerText()
    expect(calendarSid).toMatch(/^[\w-]{10,}$/)
    expect(calendarSid).not.toBe(notesSid)
    expect(await page.locator('#sid-note').innerText()).toContain(
      'Notes shows another sid for this same sign-in: Demo ID (oidc-provider) issues each app its own',
    )
    await page.screenshot({ path: artifact('browser-03-calendar-signed-in-by-sso-sid-note.png') })

    await page.goto(`${notes}/`)
    await page.locator('#signed-in').waitFor()
    const beforeLogout = log.length
    const logoutResponse = page.waitForResponse(
      (r) => r.url() === `${notes}/logout` && r.request().method() === 'POST',
    )
    await page.click('#logout')
    const response = await logoutResponse
    expect(response.status()).toBe(303)
    expect(response.headers()['location']).toMatch(new RegExp(`^${endSession.replace(/[.?]/g, '\\$&')}\\?`))
    await page.waitForURL((url) => url.href.startsWith(`${notes}/?state=`))
    await page.locator('#signed-out').waitFor()
    // The OP returned the `state` the logout route issued, and the page checked it.
    expect(await page.locator('#logout-return').innerText()).toBe(
      'You are signed out of this app and of Demo ID.',
    )
    await page.screenshot({ path: artifact('browser-04-notes-after-logout.png') })
    await expectCalmAfterLogout(page, notes)

    const atLogout = indexOf(log, beforeLogout, (t) => t.method === 'POST' && t.url === `${notes}/logout`)
    const atEndSession = indexOf(
      log,
      atLogout,
      (t) => t.method === 'GET' && t.url.startsWith(`${endSession}?`),
    )
    const backHome = indexOf(log, atEndSession, (t) => t.method === 'GET' && t.url.startsWith(`${notes}/`))
    expect([atLogout, atEndSession, backHome].every((i) => i >= 0)).toBe(true)
    expect(atLogout < atEndSession && atEndSession < backHome).toBe(true)
    const endSessionUrl = new URL(log[atEndSession]!.url)
    expect(endSessionUrl.searchParams.get('post_logout_redirect_uri')).toBe(`${notes}/`)
    expect(endSessionUrl.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)

    // The OP delivers back-channel logout tokens before it redirects, so Calendar's session is
    // already gone: ended by the provider's server-to-server call, not by the browser.
    expect(example.output()).toContain('[Demo ID] backchannel.success client=calendar')
    await page.goto(`${calendar}/`)
    await page.locator('#signed-out').waitFor()
    await page.screenshot({ path: artifact('browser-05-calendar-signed-out-by-backchannel.png') })

    // The provider session is gone too: signing in again shows the provider's form.
    await page.click('#sign-in')
    await page.locator('#email').waitFor()
    expect(page.url().startsWith(`${provider}/interaction/`)).toBe(true)
    await page.screenshot({ path: artifact('browser-06-provider-asks-again.png') })
    await context.close()
  })

  it('a return with a state this browser never had is reported calmly, and changes nothing', async () => {
    const { notes } = example.urls
    const { context, page } = await openPage(browser)
    await page.goto(`${notes}/?state=never-issued-here`)
    await page.locator('#signed-out').waitFor()
    expect(await returnLine(page)).toBe(
      'This page was opened with a sign-out response this browser was not waiting for ' +
        '(started elsewhere, or more than ten minutes old), so it changed nothing.',
    )
    await page.screenshot({ path: artifact('browser-11-notes-unknown-state.png') })
    // Signed in, the same link changes nothing either.
    const sid = await signIn(page, notes)
    await page.goto(`${notes}/?state=never-issued-here`)
    await page.locator('#signed-in').waitFor()
    expect(await page.locator('#sid').innerText()).toBe(sid)
    expect(await page.locator('#logout-return').getAttribute('data-state')).toBe('unknown')
    await context.close()
  })

  it('a disallowed returnTo gets a calm 400 page naming the value, escaped, and nothing is done', async () => {
    const { notes } = example.urls
    const { context, page } = await openPage(browser)
    const sid = await signIn(page, notes)
    const hostile = 'https://evil.example/"><img src=x onerror="document.title=1">'
    const refused = page.waitForResponse(
      (r) => r.url() === `${notes}/logout` && r.request().method() === 'POST',
    )
    // A form on the app's own page (same origin, so past the CSRF gate) asking for a foreign returnTo.
    await page.evaluate((value) => {
      const form = document.createElement('form')
      form.method = 'post'
      form.action = '/logout'
      const field = form.appendChild(document.createElement('input'))
      field.name = 'returnTo'
      field.value = value
      document.body.appendChild(form)
      form.submit()
    }, hostile)
    const response = await refused
    expect(response.status()).toBe(400)
    await page.locator('h1').waitFor()
    expect(await page.locator('h1').innerText()).toBe('You were not logged out')
    expect(await page.locator('code').innerText()).toBe(`returnTo ${JSON.stringify(hostile)} is not allowed`)
    // Chromium parsed the value as text: no element was injected, nothing ran.
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.title()).toBe('You were not logged out')
    await page.screenshot({ path: artifact('browser-12-disallowed-return-to.png') })
    await page.click('a')
    await page.locator('#signed-in').waitFor()
    expect(page.url()).toBe(`${notes}/`)
    expect(await page.locator('#sid').innerText()).toBe(sid)
    await context.close()
  })

  it("the provider's home page links to both apps, and no favicon is missing", async () => {
    const { provider, notes, calendar } = example.urls
    const { context, page, log } = await openPage(browser)
    await page.goto(`${provider}/`)
    const links = page.locator('#apps a')
    expect(await links.allInnerTexts()).toEqual(['Notes', 'Calendar'])
    expect(await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))).toEqual([
      `${notes}/`,
      `${calendar}/`,
    ])
    await page.screenshot({ path: artifact('browser-13-provider-home-links.png') })
    await links.first().click()
    await page.locator('#signed-out').waitFor()
    expect(page.url()).toBe(`${notes}/`)
    for (const origin of [provider, notes, calendar]) {
      const icon = await page.goto(`${origin}/favicon.ico`)
      expect(icon?.status()).toBe(200)
      expect(icon?.headers()['content-type']).toBe('image/svg+xml')
    }
    // The three icons side by side, as a page would show them.
    await page.goto(`${notes}/`)
    await page.evaluate(
      (sources) => {
        for (const src of sources) document.body.prepend(Object.assign(new Image(64, 64), { src }))
      },
      [calendar, notes, provider].map((origin) => `${origin}/favicon.ico`),
    )
    await page.waitForFunction(() =>
      Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0),
    )
    await page.screenshot({
      path: artifact('browser-14-favicons.png'),
      clip: { x: 0, y: 0, width: 240, height: 90 },
    })
    // Every page names the icon, so the browser asks for nothing else.
    await page.goto(`${calendar}/`)
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.ico')
    expect(log.filter((t) => t.status === 404)).toEqual([])
    await context.close()
  })

  it.each([
    ['logout', '/logout'],
    ['logout-everywhere', '/logout-everywhere'],
  ])('a cross-site page that auto-submits a POST to %s does not log the user out', async (name, path) => {
    const { notes } = example.urls
    const { context, page, log } = await openPage(browser)
    const sid = await signIn(page, notes)

    const attacker = await crossSitePage(`${notes}${path}`)
    try {
      const posted = page.waitForResponse(
        (r) => r.url() === `${notes}${path}` && r.request().method() === 'POST',
      )
      await page.goto(attacker.url)
      expect((await posted).status()).toBe(403)
      // The answer has arrived, the page showing it may not have: a screenshot in between fails.
      await page.waitForURL(`${notes}${path}`)
      await page.screenshot({ path: artifact(`browser-07-cross-site-${name}-refused.png`) })
    } finally {
      await attacker.close()
    }

    await page.goto(`${notes}/`)
    await page.locator('#signed-in').waitFor()
    expect(await page.locator('#sid').innerText()).toBe(sid)
    expect(log.some((t) => t.url.startsWith(endSession))).toBe(false)
    await page.screenshot({ path: artifact(`browser-08-notes-still-signed-in-after-${name}.png`) })
    await context.close()
  })
  // Last on purpose: it revokes the demo user in Notes, and tokens minted in the same second as a
  // revocation are refused by `guard`, so a sign-in right after it could be refused.
  it('"Log out everywhere" ends the user\'s sessions in every browser, in both apps, and the provider session', async () => {
    const { notes, calendar, provider } = example.urls
    const first = await openPage(browser)
    const second = await openPage(browser)
    await signIn(first.page, notes)
    await signIn(second.page, notes)
    await first.page.goto(`${calendar}/`)
    await first.page.click('#sign-in')
    await first.page.locator('#signed-in').waitFor()
    await first.page.goto(`${notes}/`)

    const before = example.output().length
    await first.page.click('#logout-everywhere')
    await first.page.waitForURL((url) => url.href.startsWith(`${notes}/?state=`))
    await first.page.locator('#signed-out').waitFor()
    expect(await returnLine(first.page)).toBe('You are signed out of this app and of Demo ID.')
    // Both sessions opened here, plus any the earlier tests left signed in as the same user.
    const ended = Number(
      /\[Notes\] logout \(user\): (\d+) session\(s\) ended/.exec(example.output().slice(before))?.[1],
    )
    expect(ended).toBeGreaterThanOrEqual(2)
    await first.page.screenshot({ path: artifact('browser-09-logout-everywhere.png') })

    await second.page.reload()
    await second.page.locator('#signed-out').waitFor()
    await second.page.screenshot({ path: artifact('browser-10-other-browser-signed-out.png') })
    // Calendar's session of this browser went with them: Notes handed it to Calendar through the
    // shared store, and Calendar destroyed it in its own session store (before any back-channel).
    await example.waitForOutput(/\[Calendar\] logout \(service\): 1 session\(s\) ended\n/, before)
    // Demo ID's session ended too: signing in asks again.
    await first.page.goto(`${calendar}/`)
    await first.page.locator('#signed-out').waitFor()
    await first.page.goto(`${notes}/`)
    await first.page.click('#sign-in')
    await first.page.locator('#email').waitFor()
    expect(first.page.url().startsWith(`${provider}/interaction/`)).toBe(true)
    await first.page.screenshot({ path: artifact('browser-10a-sign-in-asks-again-after-everywhere.png') })
    await first.context.close()
    await second.context.close()
  })
})
