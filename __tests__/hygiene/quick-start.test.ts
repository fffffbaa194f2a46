import { join, resolve } from 'node:path'
import { blockAfter, readMarkdown } from '../support/markdown.js'
import { freePort } from '../support/redis-server.js'
import { runSnippet } from '../support/snippet.js'
import type { RunningSnippet } from '../support/snippet.js'

// The README's Quick start, exactly as printed: extracted from README.md, saved as app.js, started
// with node, and asked what a user's browser would ask, without signing in.
const readme = readMarkdown(join(resolve(__dirname, '..', '..'), 'README.md'))
const code = blockAfter(readme, 'tested: __tests__/hygiene/quick-start.test.ts')
let app: RunningSnippet
let base: string

beforeAll(async () => {
  const port = String(await freePort())
  app = await runSnippet(code, { file: 'app.js', env: { PORT: port }, ready: /listening on (http:\/\/\S+)/ })
  base = app.ready[1]!
}, 30_000)
afterAll(() => app?.stop())

function post(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(new URL(path, base), { method: 'POST', headers, redirect: 'manual' })
}

it('is the block that follows the marker, and runs as it is (the port from PORT)', () => {
  expect(code).toContain("require('sso-logout')")
  expect(code).toContain('process.env.PORT ?? 3000')
  expect(base).toMatch(/^http:\/\/localhost:\d+$/)
})

it('serves the "Log out" form', async () => {
  const page = await fetch(base)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('<form method="post" action="/logout">')
})

it('a POST /logout from its own pages logs out and sends the browser to baseURL with 303', async () => {
  const out = await post('/logout', { origin: base })
  expect(out.status).toBe(303)
  expect(out.headers.get('location')).toBe(`${base}/`)
  expect(out.headers.get('cache-control')).toBe('no-store')
})

it('answers JSON to a page that asks for it, with an allowed returnTo', async () => {
  const out = await post('/logout?returnTo=/goodbye', { origin: base, accept: 'application/json' })
  expect(out.status).toBe(200)
  expect(await out.json()).toEqual({ loggedOut: true, redirectTo: `${base}/goodbye` })
  const goodbye = await fetch(new URL('/goodbye', base))
  expect(await goodbye.text()).toBe('You are signed out.')
})

it('refuses a cross-site logout with 403', async () => {
  expect((await post('/logout', { origin: 'https://evil.example' })).status).toBe(403)
  expect((await post('/logout', { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
})

it('refuses a returnTo that is not allowed with 400', async () => {
  const out = await post(`/logout?returnTo=${encodeURIComponent('https://evil.example/')}`, { origin: base })
  expect(out.status).toBe(400)
  expect(await out.text()).toContain('https://evil.example/')
})

it('a GET /logout from its own pages redirects with 302', async () => {
  const out = await fetch(new URL('/logout', base), {
    headers: { 'sec-fetch-site': 'same-origin' },
    redirect: 'manual',
  })
  expect(out.status).toBe(302)
  expect(out.headers.get('location')).toBe(`${base}/`)
})

it('keeps the guarded route closed to a visitor who never signed in', async () => {
  const notes = await fetch(new URL('/api/notes', base))
  expect(notes.status).toBe(401)
  expect(await notes.json()).toEqual({ error: 'sign in first' })
})
