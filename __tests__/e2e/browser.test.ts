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

// The example app, driven in real Chromium: single sign-on, RP-initiated logout through the OP's
// end-session endpoint, back-channel logout of the other app, and a cross-site logout attempt.
const availability = browserAvailability()
if (!availability.run) {
  console.warn(`\n!!! SKIPPING the browser test: ${availability.reason} !!!\n`)
}
const describeBrowser = availability.run ? describe : describe.skip

interface Traffic {
  method: string
  url: string
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
    await page.screenshot({ path: artifact('browser-02-notes-signed-in.png') })

    // Calendar has no session of its own yet; signing in there needs no form (SSO at the provider).
    const beforeCalendar = log.length
    await page.goto(`${calendar}/`)
    await page.locator('#signed-out').waitFor()
    await page.click('#sign-in')
    await page.locator('#signed-in').waitFor()
    expect(page.url()).toBe(`${calendar}/`)
    expect(log.slice(beforeCalendar).some((t) => t.url.startsWith(`${provider}/interaction/`))).toBe(false)
    expect(await page.locator('#email').count()).toBe(0)
    await page.screenshot({ path: artifact('browser-03-calendar-signed-in-by-sso.png') })

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
    expect(await page.locator('.flash').innerText()).toBe('You are signed out of this app and of Demo ID.')
    await page.screenshot({ path: artifact('browser-04-notes-after-logout.png') })

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
  it('"Log out everywhere" (revoke by sub) ends the user\'s Notes sessions in every browser', async () => {
    const { notes } = example.urls
    const first = await openPage(browser)
    const second = await openPage(browser)
    await signIn(first.page, notes)
    await signIn(second.page, notes)

    await first.page.click('#logout-everywhere')
    await first.page.locator('#signed-out').waitFor()
    // Both sessions opened here, plus any the earlier tests left signed in as the same user.
    const flash = await first.page.locator('.flash').innerText()
    const ended = Number(/^"Log out everywhere" ended (\d+) sessions of this app\.$/.exec(flash)?.[1])
    expect(ended).toBeGreaterThanOrEqual(2)
    await first.page.screenshot({ path: artifact('browser-09-logout-everywhere.png') })

    await second.page.reload()
    await second.page.locator('#signed-out').waitFor()
    await second.page.screenshot({ path: artifact('browser-10-other-browser-signed-out.png') })
    await first.context.close()
    await second.context.close()
  })
})
