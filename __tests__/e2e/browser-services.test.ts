import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import {
  BUILT_ENTRY,
  CHROMIUM,
  CHROMIUM_ARGS,
  artifact,
  browserAvailability,
  startExample,
  type RunningExample,
} from '../support/browser.js'
import {
  describeRedis,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
} from '../support/redis-server.js'

// The example's two apps as two services with their own session stores and one shared sso-logout
// store: "Log out everywhere" in Notes ends the user's Calendar session in Calendar's own store
// at once, handed over through the shared store, while Calendar receives no request at all. Run
// on the embedded defaults (one memoryStore, two MemoryStores) and on a Redis started here
// (redisStore; Calendar's sessions in connect-redis).
const availability = browserAvailability()
if (!availability.run) {
  console.warn(`\n!!! SKIPPING the services browser test: ${availability.reason} !!!\n`)
}

const STEP_TIMEOUT = 8000

interface Sessions {
  notes: string[]
  calendar: string[]
}

/** Each server's requests, as `METHOD /path`. */
interface Requests {
  provider: string[]
  notes: string[]
  calendar: string[]
}

async function inspect<T>(example: RunningExample, path: '/sessions' | '/requests'): Promise<T> {
  const response = await fetch(`${example.urls.inspector}${path}`)
  expect(response.status).toBe(200)
  return (await response.json()) as T
}

/** The session id in express-session's signed cookie `name` (`s:<id>.<signature>`). */
async function sessionId(context: BrowserContext, name: string): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === name)
  expect(cookie).toBeDefined()
  const signed = decodeURIComponent(cookie!.value)
  expect(signed.startsWith('s:')).toBe(true)
  return signed.slice(2, signed.lastIndexOf('.'))
}

/** Waits for `selector`; when it does not come, fails with the page the browser is on. */
async function expectShown(page: Page, selector: string): Promise<void> {
  try {
    await page.locator(selector).waitFor()
  } catch (error) {
    const text = await page
      .locator('body')
      .innerText()
      .catch(() => '(no body)')
    throw new Error(`${selector} not shown; at ${page.url()}:\n${text}`, { cause: error })
  }
}

/** Notes with the provider's form, then Calendar by single sign-on. */
async function signInToBoth(page: Page, example: RunningExample): Promise<void> {
  const { notes, calendar } = example.urls
  await page.goto(`${notes}/`)
  await page.click('#sign-in')
  await expectShown(page, '#email')
  await page.click('button#sign-in')
  await expectShown(page, '#signed-in')
  await page.goto(`${calendar}/`)
  await page.click('#sign-in')
  await expectShown(page, '#signed-in')
  expect(page.url()).toBe(`${calendar}/`)
}

function suite(withRedis: boolean) {
  return () => {
    let browser: Browser
    let example: RunningExample
    let redis: RedisServer | undefined
    let endSession: string

    beforeAll(async () => {
      if (!existsSync(BUILT_ENTRY)) {
        throw new Error(
          `${BUILT_ENTRY} is missing: run "npm run build" first (the example uses the built package)`,
        )
      }
      redis = withRedis ? await startRedisServer(['--maxmemory-policy', 'noeviction']) : undefined
      example = await startExample({
        env: { EXAMPLE_INSPECTOR: '1', ...(redis && { REDIS_URL: redis.url }) },
      })
      expect(example.urls.inspector).toBeDefined()
      expect(example.output()).toMatch(
        withRedis ? /Stores: one redisStore on redis:/ : /Stores: one memoryStore\(\)/,
      )
      const discovery = await fetch(`${example.urls.provider}/.well-known/openid-configuration`)
      endSession = ((await discovery.json()) as { end_session_endpoint: string }).end_session_endpoint
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    }, 30000)

    afterAll(async () => {
      await browser?.close()
      await example?.stop()
      await redis?.stop()
    })

    it("a logout everywhere in Notes ends Calendar's session in Calendar's own store, with no request to Calendar", async () => {
      const { notes, calendar } = example.urls
      const context = await browser.newContext()
      const page = await context.newPage()
      page.setDefaultTimeout(STEP_TIMEOUT)
      await signInToBoth(page, example)
      const ids = {
        notes: await sessionId(context, 'notes.sid'),
        calendar: await sessionId(context, 'calendar.sid'),
      }

      // Each app's session lives in its own store, and only there.
      expect(await inspect<Sessions>(example, '/sessions')).toEqual({
        notes: [ids.notes],
        calendar: [ids.calendar],
      })
      const client = redis && (await nodeRedisClient(redis))
      try {
        if (client) expect(await client.exists(`calendar:sess:${ids.calendar}`)).toBe(1)

        await page.goto(`${notes}/`)
        await page.locator('#signed-in').waitFor()
        // The provider's logout page submits its confirmation by itself; holding that POST in the
        // browser keeps the provider from ending its session, so it sends Calendar no back-channel
        // logout token and only the hand-over can end Calendar's session. (Playwright routes the
        // request of a navigation, not the redirect that follows a 303, so the hold is here.)
        let holding!: () => void
        const held = new Promise<void>((resolve) => (holding = resolve))
        await context.route(
          (url) => url.href === `${endSession}/confirm`,
          (route) => {
            holding()
            return route.fulfill({ status: 200, contentType: 'text/plain', body: 'held by the test' })
          },
        )
        const before = await inspect<Requests>(example, '/requests')
        const from = example.output().length
        const posted = page.waitForResponse(
          (r) => r.url() === `${notes}/logout-everywhere` && r.request().method() === 'POST',
        )
        await page.click('#logout-everywhere')
        const response = await posted
        expect(response.status()).toBe(303)
        expect(response.headers()['location']?.startsWith(`${endSession}?`)).toBe(true)

        // Calendar says it destroyed the session handed to it, and the browser has reached the point
        // where the provider would have called Calendar.
        await example.waitForOutput(/\[Calendar\] logout \(service\): 1 session\(s\) ended\n/, from)
        await held
        expect(await inspect<Sessions>(example, '/sessions')).toEqual({ notes: [], calendar: [] })
        if (client) expect(await client.exists(`calendar:sess:${ids.calendar}`)).toBe(0)
        const after = await inspect<Requests>(example, '/requests')
        expect(after.calendar.slice(before.calendar.length)).toEqual([])
        expect(after.notes.slice(before.notes.length)).toEqual(['POST /logout-everywhere'])
        const atProvider = after.provider.slice(before.provider.length)
        expect(atProvider).toContain('GET /session/end')
        expect(atProvider).not.toContain('POST /session/end/confirm')
        const said = example.output().slice(from)
        expect(said).toMatch(/\[Notes\] logout \(user\): 1 session\(s\) ended, 1 handed over\n/)
        expect(said).not.toContain('backchannel')
        // The route was called when the request left; the page may still be committing the
        // navigation, and a screenshot then fails ("Unable to capture screenshot"). Its text says
        // the held page is drawn.
        await page.getByText('held by the test').waitFor()
        await page.screenshot({
          path: artifact(`services-${withRedis ? 'redis' : 'memory'}-01-held-at-provider.png`),
        })
      } finally {
        await client?.close()
      }

      // Calendar, opened again, finds no session for the browser's cookie.
      await context.unrouteAll()
      await page.goto(`${calendar}/`)
      await page.locator('#signed-out').waitFor()
      await page.screenshot({
        path: artifact(`services-${withRedis ? 'redis' : 'memory'}-02-calendar-signed-out.png`),
      })
      await context.close()
    })
  }
}

if (availability.run) {
  describe('Notes and Calendar as two services, on the embedded stores, in Chromium', suite(false))
  describeRedis('Notes and Calendar as two services, on Redis, in Chromium', suite(true))
} else {
  describe.skip('Notes and Calendar as two services, in Chromium', suite(false))
}
