import { LogoutError, oidc } from '../../lib/index.js'
import { refusedHost } from '../support/serve.js'
import { startMiniOp } from '../support/stand-ins.js'
import { makeContext } from '../support/provider-context.js'

// OIDC discovery (lib/providers/discovery.ts) as the oidc provider uses it: cached, refreshed after
// an hour, backing off after an outage.

describe('oidc discovery', () => {
  it('is fetched once and cached', async () => {
    const mini = await startMiniOp()
    try {
      const p = oidc({ issuer: mini.issuer, clientId: 'app' })
      await p.metadata()
      await p.endSession(makeContext())
      await p.metadata()
      expect(mini.requests.filter((r) => r.path === '/.well-known/openid-configuration')).toHaveLength(1)
    } finally {
      await mini.close()
    }
  })

  it('is fetched again after an hour, and a failed refresh keeps the stale document', async () => {
    const mini = await startMiniOp()
    const now = Date.now()
    const clock = jest.spyOn(Date, 'now')
    try {
      const p = oidc({ issuer: mini.issuer, clientId: 'app' })
      clock.mockReturnValue(now)
      await p.metadata()
      mini.mode = '500'
      clock.mockReturnValue(now + 61 * 60 * 1000)
      await expect(p.metadata()).resolves.toEqual({
        jwksUri: `${mini.issuer}/jwks`,
        idTokenSigningAlgValues: undefined,
      })
      expect(mini.requests).toHaveLength(2)
    } finally {
      clock.mockRestore()
      await mini.close()
    }
  })

  it('an outage throws ERR_PROVIDER_DISCOVERY (502), backs off, then recovers', async () => {
    const mini = await startMiniOp()
    const realNow = Date.now
    const clock = jest.spyOn(Date, 'now')
    try {
      mini.mode = '500'
      const p = oidc({ issuer: mini.issuer, clientId: 'app', timeout: 3000 })
      const first = await Promise.resolve(p.endSession(makeContext())).catch((e: unknown) => e)
      expect(first).toBeInstanceOf(LogoutError)
      expect(first).toMatchObject({
        code: 'ERR_PROVIDER_DISCOVERY',
        status: 502,
        message: `OIDC discovery of ${mini.issuer} answered HTTP 500`,
      })
      await expect(p.metadata()).rejects.toMatchObject({ code: 'ERR_PROVIDER_DISCOVERY' })
      expect(mini.requests).toHaveLength(1)
      mini.mode = 'ok'
      // The backoff is timed with Date.now(), a clock that is ours: run it 1.1 s ahead, past the
      // first one-second backoff, instead of waiting that long.
      clock.mockImplementation(() => realNow() + 1100)
      await expect(p.metadata()).resolves.toEqual({
        jwksUri: `${mini.issuer}/jwks`,
        idTokenSigningAlgValues: undefined,
      })
      expect(mini.requests).toHaveLength(2)
    } finally {
      clock.mockRestore()
      await mini.close()
    }
  })

  it.each([
    ['timeout', 'hang', 'OIDC discovery of ISSUER failed: OIDC discovery request timed out after 300 ms'],
    [
      'malformed body',
      'malformed',
      'OIDC discovery of ISSUER failed: OIDC discovery answered a body that is not JSON',
    ],
  ] as const)('%s throws ERR_PROVIDER_DISCOVERY', async (_name, mode, message) => {
    const mini = await startMiniOp()
    try {
      mini.mode = mode
      const p = oidc({ issuer: mini.issuer, clientId: 'app', timeout: 300 })
      await expect(p.endSession(makeContext())).rejects.toMatchObject({
        code: 'ERR_PROVIDER_DISCOVERY',
        status: 502,
        message: message.replace('ISSUER', mini.issuer),
      })
    } finally {
      await mini.close()
    }
  })

  it('connection refused throws ERR_PROVIDER_DISCOVERY', async () => {
    const p = oidc({ issuer: `http://${await refusedHost()}`, clientId: 'app' })
    await expect(p.metadata()).rejects.toMatchObject({ code: 'ERR_PROVIDER_DISCOVERY', status: 502 })
  })
})
