import express from 'express'
import session from 'express-session'
import request from 'supertest'
import type { Response } from 'supertest'
import { logout, memoryStore } from '../../lib/index.js'
import type { LogoutEvent, LogoutOptions, Store } from '../../lib/index.js'
import { ISSUER, SECRET, closeApps, createApp, expectClearedCookie, localOptions } from '../support/app.js'
import type { Flavour, TestApp } from '../support/app.js'
import { linkedSession, testProvider } from '../support/logout-token.js'
import { mint, useTestKey } from '../support/jwt.js'
import { listen } from '../support/serve.js'

const rs = useTestKey('RS256')
afterEach(closeApps)

const OTHER_ISSUER = 'https://other-idp.test/'

async function harness(flavour: Flavour = 'express5', extra: LogoutOptions = {}) {
  const events: LogoutEvent[] = []
  const options = localOptions([rs], {
    provider: testProvider(),
    frontchannel: { path: '/frontchannel' },
    onLogout: (event) => void events.push(event),
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  })
  return { app: await createApp(flavour, options), events }
}

function frontchannel(app: TestApp, query: string, cookie?: string) {
  const req = request(app.server).get(`/frontchannel${query}`)
  return cookie ? req.set('cookie', cookie) : req
}

function expectFrameable(res: Response): void {
  expect(res.headers['cache-control']).toBe('no-store')
  // Only the issuer's origin may frame the page (FCL §2 renders it in an iframe).
  expect(res.headers['content-security-policy']).toBe('frame-ancestors https://idp.test')
  expect(res.headers['x-frame-options']).toBeUndefined()
}

const q = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`

/** A browser whose session the middleware linked from its own access token (so it carries the link). */
async function browserOf(app: TestApp, sid: string, sub = 'u') {
  return app.login(await mint(rs, { iss: ISSUER, sid, sub }))
}

describe('front-channel receiver', () => {
  it('iss + sid: ends the sid sessions and the browser session, clears cookies, 200 HTML', async () => {
    const { app, events } = await harness()
    const browser = await browserOf(app, 'X')
    const otherBrowser = await linkedSession(app, { sid: 'X', sub: 'u' })
    const y = await linkedSession(app, { sid: 'Y', sub: 'u' })
    const elsewhere = await linkedSession(app, { sid: 'X', iss: OTHER_ISSUER })
    const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }), browser.cookie)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.text).toMatch(/^<!doctype html>/)
    expectFrameable(res)
    expectClearedCookie(res, 'connect.sid', { httpOnly: true })
    const ids = await app.sessionIds()
    expect(ids).not.toContain(browser.id)
    expect(ids).not.toContain(otherBrowser.id)
    expect(ids).toEqual(expect.arrayContaining([y.id, elsewhere.id]))
    expect(events).toEqual([
      expect.objectContaining({
        reason: 'frontchannel',
        iss: ISSUER,
        sid: 'X',
        sessionsDestroyed: 2,
      }),
    ])
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'X' })).toEqual(expect.any(Number))
    expect(await app.mw.store.revokedAt({ iss: OTHER_ISSUER, sid: 'X' })).toBeUndefined()
  })

  it.each([
    ['no session (a forged request, or third-party cookies blocked)', undefined],
    ['a session linked to another sid', 'Y'],
  ])(
    'requireSession: true, iss + sid from a browser with %s: ignored, nothing ends',
    async (_name, ownSid) => {
      const { app, events } = await harness('express5', {
        frontchannel: { path: '/frontchannel', requireSession: true },
      })
      const elsewhere = await linkedSession(app, { sid: 'X' })
      const own = ownSid ? await linkedSession(app, { sid: ownSid }) : undefined
      const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }), own?.cookie)
      expect(res.status).toBe(200)
      expectFrameable(res)
      const ids = await app.sessionIds()
      expect(ids).toContain(elsewhere.id)
      if (own) expect(ids).toContain(own.id)
      expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'X' })).toBeUndefined()
      expect(events[0]).toMatchObject({ sessionsDestroyed: 0, notes: [expect.stringMatching(/ignored/)] })
    },
  )

  it("by default fans out without a session cookie (the OP's cross-site iframe, SameSite=Lax)", async () => {
    const { app } = await harness()
    const elsewhere = await linkedSession(app, { sid: 'X' })
    const other = await linkedSession(app, { sid: 'Y' })
    const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }))
    expect(res.status).toBe(200)
    const ids = await app.sessionIds()
    expect(ids).not.toContain(elsewhere.id)
    expect(ids).toContain(other.id)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'X' })).toEqual(expect.any(Number))
  })

  it('requireSession: false fans out without a session (third-party cookies blocked)', async () => {
    const { app } = await harness('express5', {
      frontchannel: { path: '/frontchannel', requireSession: false },
    })
    const elsewhere = await linkedSession(app, { sid: 'X' })
    const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }))
    expect(res.status).toBe(200)
    expectFrameable(res)
    expect(await app.sessionIds()).not.toContain(elsewhere.id)
  })

  it('neither iss nor sid: only the browser session ends', async () => {
    const { app, events } = await harness()
    const browser = await linkedSession(app, { sid: 'X' })
    const sameSid = await linkedSession(app, { sid: 'X' })
    const res = await frontchannel(app, '', browser.cookie)
    expect(res.status).toBe(200)
    expectFrameable(res)
    expectClearedCookie(res, 'connect.sid', { httpOnly: true })
    const ids = await app.sessionIds()
    expect(ids).not.toContain(browser.id)
    expect(ids).toContain(sameSid.id)
    expect(events[0]).toMatchObject({ reason: 'frontchannel', sessionsDestroyed: 1 })
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'X' })).toBeUndefined()
  })

  it('a session linked by its own access token reports its sid and sub in the event', async () => {
    const { app, events } = await harness()
    const browser = await app.login(await mint(rs, { iss: ISSUER, sid: 'X', sub: 'u' }))
    const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }), browser.cookie)
    expect(res.status).toBe(200)
    expect(await app.sessionIds()).not.toContain(browser.id)
    expect(events[0]).toMatchObject({ iss: ISSUER, sid: 'X', sub: 'u', sessionsDestroyed: 1 })
  })

  it('already logged out (no session, no parameters) is success', async () => {
    const { app, events } = await harness()
    const res = await frontchannel(app, '')
    expect(res.status).toBe(200)
    expectFrameable(res)
    expect(events[0]).toMatchObject({ sessionsDestroyed: 0, errors: [] })
  })

  it.each([
    ['iss without sid', q({ iss: ISSUER })],
    ['sid without iss', q({ sid: 'X' })],
    ['another issuer', q({ iss: OTHER_ISSUER, sid: 'X' })],
    ['the issuer without its trailing slash', q({ iss: 'https://idp.test', sid: 'X' })],
    ['an empty sid', q({ iss: ISSUER, sid: '' })],
    ['a repeated sid', `${q({ iss: ISSUER, sid: 'X' })}&sid=Y`],
    ['a repeated iss', `${q({ iss: ISSUER, sid: 'X' })}&iss=${encodeURIComponent(ISSUER)}`],
  ])('%s: 400, nothing destroyed, cookies kept', async (_name, query) => {
    const { app, events } = await harness()
    const browser = await linkedSession(app, { sid: 'X' })
    const other = await linkedSession(app, { sid: 'X' })
    const res = await frontchannel(app, query, browser.cookie)
    expect(res.status).toBe(400)
    expectFrameable(res)
    expect(res.text).toMatch(/iss|sid/)
    expect(res.headers['set-cookie']).toBeUndefined()
    expect(await app.sessionIds()).toEqual(expect.arrayContaining([browser.id, other.id]))
    expect(events).toEqual([])
  })

  it.each(['POST', 'PUT'] as const)('%s: 405 with Allow: GET, nothing destroyed', async (method) => {
    const { app } = await harness()
    const browser = await linkedSession(app, { sid: 'X' })
    const agent = request(app.server)
    const res = await agent[method === 'POST' ? 'post' : 'put'](
      `/frontchannel${q({ iss: ISSUER, sid: 'X' })}`,
    )
      .set('cookie', browser.cookie)
      .set('origin', 'https://app.test')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET')
    expect(await app.sessionIds()).toContain(browser.id)
  })

  it.each(['express5', 'express4', 'connect'] as Flavour[])(
    '%s: iss + sid logs out, a bad iss does not',
    async (flavour) => {
      const { app } = await harness(flavour)
      const browser = await browserOf(app, 'X')
      expect((await frontchannel(app, q({ iss: OTHER_ISSUER, sid: 'X' }), browser.cookie)).status).toBe(400)
      expect(await app.sessionIds()).toContain(browser.id)
      const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }), browser.cookie)
      expect(res.status).toBe(200)
      expectFrameable(res)
      expect(await app.sessionIds()).not.toContain(browser.id)
    },
  )

  it('a store failure answers 500 and is reported', async () => {
    const inner = memoryStore()
    const store: Store = { ...inner, revoke: () => Promise.reject(new Error('store down')) }
    const { app, events } = await harness('express5', {
      store,
      frontchannel: { path: '/frontchannel', requireSession: false },
    })
    const res = await frontchannel(app, q({ iss: ISSUER, sid: 'X' }))
    expect(res.status).toBe(500)
    expectFrameable(res)
    expect(events[0]!.errors.map((e) => e.code)).toEqual(['ERR_STORE'])
  })
})

describe('front-channel framing', () => {
  it('removes an X-Frame-Options set by an earlier middleware (helmet) so the provider can frame it', async () => {
    const app = express()
    app.use((_req, res, next) => {
      res.setHeader('X-Frame-Options', 'DENY')
      next()
    })
    app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }))
    app.use(logout(localOptions([rs], { provider: testProvider(), frontchannel: { path: '/fc' } })))
    app.use((_req, res) => void res.send('app'))
    const { url, close } = await listen(app)
    try {
      const page = await fetch(`${url}/fc`)
      expect(page.status).toBe(200)
      expect(page.headers.get('x-frame-options')).toBeNull()
      expect(page.headers.get('content-security-policy')).toBe('frame-ancestors https://idp.test')
      expect((await fetch(`${url}/elsewhere`)).headers.get('x-frame-options')).toBe('DENY')
    } finally {
      await close()
    }
  })
})
