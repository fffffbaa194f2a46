import request from 'supertest'
import { memoryStore } from '../../lib/index.js'
import type { Store } from '../../lib/index.js'
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
