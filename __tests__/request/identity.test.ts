import request from 'supertest'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions, recordingApp } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

// The logout event (lib/request/identity.ts, `emit`): onLogout is called once per logout, and a hook
// that throws or rejects is logged, never allowed to stop the logout.

const key = useTestKey('ES256')
afterEach(closeApps)

const token = (sid: string, sub = 'alice') => mint(key, { iss: ISSUER, sid, sub })

describe.each(FLAVOURS)('%s: onLogout', (flavour) => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('hook broke')
      },
    ],
    ['rejects', () => Promise.reject(new Error('hook broke'))],
  ])('logs a hook that %s and still logs out', async (_name, onLogout) => {
    const logged: string[] = []
    const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
    const app = await createApp(flavour, localOptions([key], { onLogout, logger }))
    const t = await token('hooked')
    await app.login(t)
    const res = await request(app.url).post('/logout').set('Authorization', `Bearer ${t}`)
    expect(res.status).toBe(303)
    expect(await app.sessionIds()).toEqual([])
    expect(logged).toEqual([expect.stringContaining('hook broke')])
  })

  it('is called once per logout, also with no token and no session', async () => {
    const { app, seen } = await recordingApp(flavour, [key])
    await request(app.url).post('/logout')
    await request(app.url).get('/logout').set('Sec-Fetch-Site', 'same-origin')
    expect(seen).toHaveLength(2)
    expect(seen[0]).toEqual({
      reason: 'user',
      iss: undefined,
      sid: undefined,
      sub: undefined,
      sessionsDestroyed: 0,
      provider: undefined,
      errors: [],
      notes: [],
    })
  })
})

// An explicit link({ sid, sessionId }) at login (opaque tokens) writes nothing into the session:
// the logout route asks the store which IdP session the browser's session belongs to.
describe.each(FLAVOURS)('%s: a session linked explicitly', (flavour) => {
  it('logs out every session of its sid from a request that carries only the session cookie', async () => {
    const { app, seen } = await recordingApp(flavour, [key])
    const mine = await app.login()
    const other = await app.login()
    const bystander = await app.login()
    await app.mw.link({ sid: 'opaque-sid', sub: 'alice', sessionId: mine.id })
    await app.mw.link({ sid: 'opaque-sid', sub: 'alice', sessionId: other.id })
    await app.mw.link({ sid: 'someone-else', sub: 'bob', sessionId: bystander.id })
    const res = await request(app.url).post('/logout').set('Cookie', mine.cookie)
    expect(res.status).toBe(303)
    expect(await app.sessionIds()).toEqual([bystander.id])
    expect(seen).toEqual([
      expect.objectContaining({
        iss: ISSUER,
        sid: 'opaque-sid',
        sub: 'alice',
        sessionsDestroyed: 2,
        errors: [],
      }),
    ])
  })

  it('still ends the browser session when the store cannot say, and reports why', async () => {
    const { app, seen } = await recordingApp(flavour, [key])
    const mine = await app.login()
    await app.mw.link({ sid: 'opaque-sid', sessionId: mine.id })
    app.mw.store.linkOf = () => Promise.reject(new Error('store down'))
    const res = await request(app.url).post('/logout').set('Cookie', mine.cookie)
    expect(res.status).toBe(303)
    expect(await app.sessionIds()).toEqual([])
    expect(seen[0]).toMatchObject({ sid: undefined, sessionsDestroyed: 1 })
    expect(seen[0]!.errors.map((e) => e.code)).toEqual(['ERR_STORE'])
  })
})
