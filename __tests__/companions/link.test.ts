import request from 'supertest'
import { memoryStore } from '../../lib/index.js'
import type { LogoutEvent, Store } from '../../lib/index.js'
import type { Flavour } from '../support/app.js'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, startJwksServer, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
const stranger = useTestKey('ES256')
afterEach(async () => {
  jest.restoreAllMocks()
  await closeApps()
})

/** A memoryStore whose link() calls are counted. */
function countingStore(): Store & { links: number } {
  const inner = memoryStore()
  const store = { ...inner, links: 0 }
  store.link = (record, ttl) => {
    store.links += 1
    return inner.link(record, ttl)
  }
  return store
}

const token = (sid: string, sub = 'alice') => mint(key, { iss: ISSUER, sid, sub })

async function events(flavour: Flavour, extra = {}) {
  const seen: LogoutEvent[] = []
  const app = await createApp(flavour, localOptions([key], { onLogout: (e) => void seen.push(e), ...extra }))
  return { app, seen }
}

describe.each(FLAVOURS)('%s: local invalidation', (flavour) => {
  it('destroys exactly the sessions linked to the sid, and the current one', async () => {
    const { app, seen } = await events(flavour)
    const a = await token('sid-a')
    const [a1, a2] = [await app.login(a), await app.login(a)]
    const b1 = await app.login(await token('sid-b'))
    const plain = await app.login()
    const current = await app.login()
    const before = Date.now()
    const res = await request(app.url)
      .post('/logout')
      .set('Cookie', current.cookie)
      .set('Authorization', `Bearer ${a}`)
    const after = Date.now()
    expect(res.status).toBe(303)
    expect((await app.sessionIds()).sort()).toEqual([b1.id, plain.id].sort())
    expect([a1.id, a2.id, current.id]).not.toContain(b1.id)
    const at = await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-a' })
    expect(at).toBeGreaterThanOrEqual(before)
    expect(at).toBeLessThanOrEqual(after)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: 'sid-b' })).toBeUndefined()
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sub: 'alice' })).toBeUndefined()
    expect(seen).toEqual([
      {
        reason: 'user',
        iss: ISSUER,
        sid: 'sid-a',
        sub: 'alice',
        sessionsDestroyed: 3,
        provider: undefined,
        errors: [],
        notes: [],
      },
    ])
  })

  it('finds the sid from the session link when the request carries no token', async () => {
    const { app, seen } = await events(flavour)
    const a = await token('sid-link')
    const [a1] = [await app.login(a), await app.login(a)]
    await request(app.url).post('/logout').set('Cookie', a1!.cookie)
    expect(await app.sessionIds()).toEqual([])
    expect(seen[0]).toMatchObject({ sid: 'sid-link', sessionsDestroyed: 2 })
  })

  it('revokes the user with everywhere: true', async () => {
    const { app, seen } = await events(flavour, { everywhere: true })
    const a = await token('sid-1')
    await app.login(a)
    await app.login(await token('sid-2'))
    const other = await app.login(await token('sid-3', 'bob'))
    await request(app.url).post('/logout').set('Authorization', `Bearer ${a}`)
    expect(await app.sessionIds()).toEqual([other.id])
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sub: 'alice' })).toEqual(expect.any(Number))
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sub: 'bob' })).toBeUndefined()
    expect(seen[0]).toMatchObject({ sid: 'sid-1', sub: 'alice', sessionsDestroyed: 2 })
  })

  it('leaves the other sids of the user alone without everywhere', async () => {
    const { app } = await events(flavour)
    const a = await token('sid-1')
    await app.login(a)
    const sibling = await app.login(await token('sid-2'))
    await request(app.url).post('/logout').set('Authorization', `Bearer ${a}`)
    expect(await app.sessionIds()).toEqual([sibling.id])
  })
})

describe.each(FLAVOURS)('%s: linking', (flavour) => {
  it('links a session automatically once, without verifying again', async () => {
    const jwks = await startJwksServer([key])
    try {
      const store = countingStore()
      const app = await createApp(flavour, localOptions([], { store, accessToken: { jwks: jwks.url } }))
      const t = await token('once')
      const session = await app.login(t)
      expect([store.links, jwks.fetches]).toEqual([1, 1])
      // Past jose's cache age any verification would refetch the key set: none may happen.
      const now = Date.now()
      jest.spyOn(Date, 'now').mockImplementation(() => now + 11 * 60_000)
      for (let i = 0; i < 3; i++) {
        const res = await request(app.url)
          .get('/other')
          .set('Cookie', session.cookie)
          .set('Authorization', `Bearer ${t}`)
        expect(res.text).toBe('app:GET /other')
      }
      expect([store.links, jwks.fetches]).toEqual([1, 1])
      // A session not linked yet does verify (and so refetches): the counter above can see it.
      await app.login(t)
      expect([store.links, jwks.fetches]).toEqual([2, 2])
    } finally {
      await jwks.close()
    }
  })

  it('stores no session and no link for bearer-only requests that never save a session', async () => {
    const store = countingStore()
    const app = await createApp(flavour, localOptions([key], { store }))
    const t = await token('api-client')
    for (let i = 0; i < 3; i++) {
      expect((await request(app.url).get('/other').set('Authorization', `Bearer ${t}`)).text).toBe(
        'app:GET /other',
      )
    }
    expect(await app.sessionIds()).toEqual([])
    expect(store.links).toBe(0)
    // A session the app does save on that same request is linked as it is saved.
    const saved = await app.login(t)
    expect(store.links).toBe(1)
    await request(app.url).post('/logout').set('Authorization', `Bearer ${t}`)
    expect(await app.sessionIds()).not.toContain(saved.id)
  })

  it('does not link a session to a token that fails verification', async () => {
    const store = countingStore()
    const app = await createApp(flavour, localOptions([key], { store }))
    await app.login(await mint(stranger, { iss: ISSUER, sid: 'forged' }))
    expect(store.links).toBe(0)
  })

  it('links explicitly with link({ sid, sessionId }) and link(req)', async () => {
    const app = await createApp(flavour, localOptions([key]), { mount: '/auth' })
    const t = await token('explicit')
    const plain = await app.login()
    await expect(app.mw.link({ sid: 'explicit', sub: 'alice', sessionId: plain.id })).resolves.toBe(true)
    const viaRequest = await request(app.url).get('/link').set('Authorization', `Bearer ${t}`)
    expect(JSON.parse(viaRequest.text)).toMatchObject({ linked: true })
    const survivor = await app.login()
    await request(app.url).post('/auth/logout').set('Authorization', `Bearer ${t}`)
    expect(await app.sessionIds()).toEqual([survivor.id])
  })

  it.each<[string, unknown]>([
    ['input', { sessionId: 'x' }],
    ['input.sessionId', { sid: 's' }],
    ['input.sid', { sid: 5, sessionId: 'x' }],
    ['input.iss', { sid: 's', iss: '', sessionId: 'x' }],
  ])('refuses a bad link() input naming %s', async (name, input) => {
    const app = await createApp(flavour, localOptions([key]))
    const error = await app.mw.link(input as never).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining(`"${name}"`),
    })
  })
})

describe.each(FLAVOURS)('%s: revoke()', (flavour) => {
  it('revokes by sid and by sub, counts the sessions destroyed and emits reason api', async () => {
    const { app, seen } = await events(flavour)
    await app.login() // the middleware learns the session store from requests
    const [s1, s2] = [await token('r-1'), await token('r-2', 'bob')]
    await app.login(s1)
    await app.login(s1)
    await app.login(s2)
    const keep = await app.login(await token('r-3', 'carol'))
    await expect(app.mw.revoke({ sid: 'r-1' })).resolves.toBe(2)
    await expect(app.mw.revoke({ sub: 'bob' })).resolves.toBe(1)
    await expect(app.mw.revoke({ sid: 'nobody' })).resolves.toBe(0)
    expect((await app.sessionIds()).includes(keep.id)).toBe(true)
    expect(await app.sessionIds()).toHaveLength(2)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sub: 'bob' })).toEqual(expect.any(Number))
    expect(seen.map((e) => [e.reason, e.sid, e.sub, e.sessionsDestroyed])).toEqual([
      ['api', 'r-1', undefined, 2],
      ['api', undefined, 'bob', 1],
      ['api', 'nobody', undefined, 0],
    ])
    const api = await request(app.url).get('/api').set('Authorization', `Bearer ${s1}`)
    expect(api.status).toBe(401)
  })

  it.each<[string, unknown]>([
    ['input', {}],
    ['input', null],
    ['input.sid', { sid: 1 }],
    ['input.sub', { sub: '' }],
  ])('refuses a bad revoke() input naming %s', async (name, input) => {
    const app = await createApp(flavour, localOptions([key]))
    const error = await app.mw.revoke(input as never).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining(`"${name}"`),
    })
  })
})

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
    const { app, seen } = await events(flavour)
    await request(app.url).post('/logout')
    await request(app.url).get('/logout')
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
