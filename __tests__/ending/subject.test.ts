import request from 'supertest'
import { memoryStore } from '../../lib/index.js'
import type { Store } from '../../lib/index.js'
import { FLAVOURS, ISSUER, closeApps, recordingApp } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

// Ending a subject (lib/ending/subject.ts, `invalidate`): the sessions linked to a sid, or to a sub
// with `everywhere`, go with the current one, and the revocation is recorded for guard.

const key = useTestKey('ES256')
afterEach(closeApps)

const token = (sid: string, sub = 'alice') => mint(key, { iss: ISSUER, sid, sub })

describe.each(FLAVOURS)('%s: local invalidation', (flavour) => {
  it('destroys exactly the sessions linked to the sid, and the current one', async () => {
    const { app, seen } = await recordingApp(flavour, [key])
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
    const { app, seen } = await recordingApp(flavour, [key])
    const a = await token('sid-link')
    const [a1] = [await app.login(a), await app.login(a)]
    await request(app.url).post('/logout').set('Cookie', a1!.cookie)
    expect(await app.sessionIds()).toEqual([])
    expect(seen[0]).toMatchObject({ sid: 'sid-link', sessionsDestroyed: 2 })
  })

  it('revokes the user with everywhere: true', async () => {
    const { app, seen } = await recordingApp(flavour, [key], { everywhere: true })
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
    const { app } = await recordingApp(flavour, [key])
    const a = await token('sid-1')
    await app.login(a)
    const sibling = await app.login(await token('sid-2'))
    await request(app.url).post('/logout').set('Authorization', `Bearer ${a}`)
    expect(await app.sessionIds()).toEqual([sibling.id])
  })
})

describe('tombstones of the linked sessions', () => {
  it('last as long as a link could name them, since the session may live in another service', async () => {
    const store = memoryStore()
    const asked: Array<number | undefined> = []
    const takeFor = store.takeFor!.bind(store)
    store.takeFor = (query, service) => {
      asked.push(query.bury)
      return takeFor(query, service)
    }
    const bury = jest.spyOn(store, 'bury')
    const { app } = await recordingApp('express5', [key], { store, retention: 3 * 86400 })
    await app.mw.link({ sid: 'elsewhere', sessionId: 'a-session-of-another-service' })
    await app.mw.revoke({ sid: 'elsewhere' })
    // Buried by the take itself, in the step that took it, for the links' retention.
    expect(asked).toEqual([3 * 86400])
    expect(bury).not.toHaveBeenCalled()
    expect(store.isBuried('a-session-of-another-service')).toBe(true)
  })

  it('are written by the logout itself when the store took the sessions without burying them', async () => {
    const inner = memoryStore()
    const buried: Array<{ ids: readonly string[]; ttl: number }> = []
    const store: Store = {
      ...inner,
      // A store that ignores TakeQuery.bury, as the contract allows.
      takeFor: async (query, service) => {
        const { own, handedOver } = await inner.takeFor!({ ...query, bury: undefined }, service)
        return { own, handedOver }
      },
      bury: (ids, ttl) => {
        buried.push({ ids, ttl })
        return inner.bury(ids, ttl)
      },
    }
    const { app } = await recordingApp('express5', [key], { store, retention: 3 * 86400 })
    await app.mw.link({ sid: 'elsewhere', sessionId: 'a-session-of-another-service' })
    await app.mw.revoke({ sid: 'elsewhere' })
    expect(buried).toEqual([{ ids: ['a-session-of-another-service'], ttl: 3 * 86400 }])
    expect(inner.isBuried('a-session-of-another-service')).toBe(true)
  })
})
