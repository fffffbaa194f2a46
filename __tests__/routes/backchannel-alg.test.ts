import { logout, oidc } from '../../lib/index.js'
import type { LogoutOptions } from '../../lib/index.js'
import { closeApps, createApp, localOptions } from '../support/app.js'
import { linkedSession, postLogoutToken, signLogoutToken, testProvider } from '../support/logout-token.js'
import { useTestKey } from '../support/jwt.js'

const rs = useTestKey('RS256', 'rs-1')
const es = useTestKey('ES256', 'es-1')
const ed = useTestKey('EdDSA', 'ed-1')
afterEach(closeApps)

/** The OP publishes RSA, P-256 and Ed25519 keys and advertises every algorithm for ID tokens. */
async function appWith(provider: LogoutOptions['provider'], extra: LogoutOptions = {}) {
  return createApp(
    'express5',
    localOptions([rs, es, ed], { provider, backchannel: { path: '/backchannel' }, ...extra }),
  )
}

const everything = { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES256K', 'EdDSA', 'HS256'] }

describe("back-channel: the logout token's algorithm is the client's ID-token algorithm", () => {
  it('refuses ES256 signed with a key the OP publishes, when the client is registered for RS256 (default)', async () => {
    const app = await appWith(testProvider(everything))
    const victim = await linkedSession(app, { sid: 'sid-X' })
    expect((await postLogoutToken(app, await signLogoutToken(es))).status).toBe(400)
    expect((await postLogoutToken(app, await signLogoutToken(ed))).status).toBe(400)
    expect(await app.sessionIds()).toContain(victim.id)
    expect((await postLogoutToken(app, await signLogoutToken(rs))).status).toBe(200)
    expect(await app.sessionIds()).not.toContain(victim.id)
  })

  it("accepts only the provider's idTokenSigningAlg when it says the client is registered for ES256", async () => {
    const app = await appWith({ ...testProvider(everything), idTokenSigningAlg: 'ES256' })
    expect((await postLogoutToken(app, await signLogoutToken(rs))).status).toBe(400)
    expect((await postLogoutToken(app, await signLogoutToken(es))).status).toBe(200)
  })

  it('backchannel.algorithms still overrides', async () => {
    const app = await appWith(testProvider(everything), {
      backchannel: { path: '/backchannel', algorithms: ['EdDSA'] },
    })
    expect((await postLogoutToken(app, await signLogoutToken(rs))).status).toBe(400)
    expect((await postLogoutToken(app, await signLogoutToken(ed))).status).toBe(200)
  })

  it('oidc({ idTokenSigningAlg }) sets the provider algorithm, RS256 by default, asymmetric only', () => {
    const base = { issuer: 'https://op.example', clientId: 'c' }
    expect(oidc(base).idTokenSigningAlg).toBe('RS256')
    expect(oidc({ ...base, idTokenSigningAlg: 'ES256' }).idTokenSigningAlg).toBe('ES256')
    for (const bad of ['HS256', 'none', 'rs256', 42]) {
      expect(() => oidc({ ...base, idTokenSigningAlg: bad as string })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARG_VALUE',
          message: expect.stringContaining('oidc.idTokenSigningAlg'),
        }),
      )
    }
  })

  it('refuses a backchannel receiver whose only key is an HMAC secret, at construction', () => {
    expect(() =>
      logout({
        provider: testProvider(),
        accessToken: { key: new Uint8Array(32), issuer: 'https://idp.test/' },
        backchannel: { path: '/backchannel' },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining('options.backchannel'),
      }),
    )
  })
})
