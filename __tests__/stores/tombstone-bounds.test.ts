import request from 'supertest'
import { memoryStore } from '../../lib/index'
import { ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)

describe('memoryStore: tombstones are bounded apart from revocations', () => {
  it('anonymous logouts that fill the tombstones never push out a revocation', async () => {
    const store = memoryStore({ maxEntries: 10 })
    const app = await createApp('express5', localOptions([key], { store }))
    const revoked = await mint(key, { iss: ISSUER, sid: 'victim', sub: 'alice' })
    await request(app.url).post('/logout').set('Authorization', `Bearer ${revoked}`).expect(303)
    // An attacker with stored sessions logs out again and again with no token: one tombstone each.
    for (let i = 0; i < 25; i++) {
      const session = await app.login()
      await request(app.url).post('/logout').set('Cookie', session.cookie).expect(303)
    }
    expect(await store.revokedAt({ iss: ISSUER, sid: 'victim' })).toEqual(expect.any(Number))
    const res = await request(app.url).get('/api').set('Authorization', `Bearer ${revoked}`)
    expect(res.status).toBe(401)
  })

  it('the store contract: burying past maxEntries keeps every revocation, and drops the oldest tombstone', () => {
    const store = memoryStore({ maxEntries: 3 })
    store.revoke({ iss: ISSUER, sid: 's1' }, 1, 60)
    store.bury(['a', 'b', 'c', 'd', 'e'], 60)
    expect(store.revokedAt({ iss: ISSUER, sid: 's1' })).toBe(1)
    expect([store.isBuried('a'), store.isBuried('b'), store.isBuried('e')]).toEqual([false, false, true])
    store.close?.()
  })
})
