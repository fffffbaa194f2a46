import request from 'supertest'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions, recordingApp } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'

const key = useTestKey('ES256')
afterEach(closeApps)

const token = (sid: string, sub = 'alice') => mint(key, { iss: ISSUER, sid, sub })

describe.each(FLAVOURS)('%s: revoke()', (flavour) => {
  it('revokes by sid and by sub, counts the sessions destroyed and emits reason api', async () => {
    const { app, seen } = await recordingApp(flavour, [key])
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
