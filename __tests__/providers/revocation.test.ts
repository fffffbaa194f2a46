import { oidc } from '../../lib/index.js'
import { refusedHost } from '../support/serve.js'
import { startMiniOp } from '../support/stand-ins.js'
import { makeContext } from '../support/provider-context.js'

// Token revocation (lib/providers/revocation.ts, RFC 7009) against a bare OAuth server, as the oidc
// provider does it when the OP has no end_session_endpoint. Revocation at a real OpenID Provider is
// in oidc.test.ts.

const RETURN_TO = 'https://app.example.test/goodbye'

describe('oidc without end_session_endpoint (Google-like)', () => {
  it('revokes with client_secret_basic, then lets the route redirect to returnTo with a note', async () => {
    const mini = await startMiniOp()
    try {
      const p = oidc({
        issuer: mini.issuer,
        clientId: 'app id',
        clientSecret: 's:e c',
        revoke: ['access_token'],
      })
      const context = makeContext({ returnTo: RETURN_TO, values: { header: 'at-123' } })
      const result = await p.endSession(context)
      expect(result).toEqual({
        errors: [],
        notes: [
          'oidc: the OP has no end_session_endpoint; tokens revoked where possible, the IdP session was not ended',
        ],
      })
      const revoke = mini.requests.find((r) => r.path === '/revoke')
      expect(revoke?.method).toBe('POST')
      expect(revoke?.headers['content-type']).toBe('application/x-www-form-urlencoded')
      expect(revoke?.headers.authorization).toBe(`Basic ${Buffer.from('app+id:s%3Ae+c').toString('base64')}`)
      expect(Object.fromEntries(new URLSearchParams(revoke?.body))).toEqual({
        token: 'at-123',
        token_type_hint: 'access_token',
      })
      expect(context.cookies).toEqual([])
    } finally {
      await mini.close()
    }
  })

  it('uses client_secret_post when discovery offers only that', async () => {
    const mini = await startMiniOp(() => ({
      revocation_endpoint_auth_methods_supported: ['client_secret_post'],
    }))
    try {
      const p = oidc({ issuer: mini.issuer, clientId: 'app', clientSecret: 'sec', revoke: ['refresh_token'] })
      await p.endSession(makeContext({ values: { 'session:refreshToken': 'rt-1' } }))
      const revoke = mini.requests.find((r) => r.path === '/revoke')
      expect(revoke?.headers.authorization).toBeUndefined()
      expect(Object.fromEntries(new URLSearchParams(revoke?.body))).toEqual({
        token: 'rt-1',
        token_type_hint: 'refresh_token',
        client_id: 'app',
        client_secret: 'sec',
      })
    } finally {
      await mini.close()
    }
  })

  it('refuses to send a token to a non-https revocation endpoint from discovery', async () => {
    const mini = await startMiniOp(() => ({ revocation_endpoint: 'http://revoke.example.test/revoke' }))
    try {
      const p = oidc({ issuer: mini.issuer, clientId: 'app', revoke: ['refresh_token'] })
      await expect(
        p.endSession(makeContext({ values: { 'session:refreshToken': 'rt' } })),
      ).rejects.toMatchObject({
        code: 'ERR_PROVIDER_DISCOVERY',
        message: 'OIDC discovery revocation_endpoint must be an https URL',
      })
    } finally {
      await mini.close()
    }
  })

  it('returns a revocation timeout or refusal as an error', async () => {
    const refused = await refusedHost()
    const p = oidc({
      issuer: 'https://accounts.example.test',
      clientId: 'app',
      endSessionEndpoint: 'https://accounts.example.test/logout',
      revocationEndpoint: `http://${refused}/revoke`,
      revoke: ['refresh_token'],
    })
    const result = await p.endSession(
      makeContext({ returnTo: RETURN_TO, values: { 'session:refreshToken': 'rt' } }),
    )
    expect(result.redirect?.origin).toBe('https://accounts.example.test')
    // Held until the browser is back through the state; done then.
    expect(result.errors).toEqual([])
    const done = await p.completeLogout!(result.pending!)
    expect(done.errors?.[0]).toMatchObject({
      code: 'ERR_PROVIDER_REQUEST',
      message: 'refresh_token revocation request could not be sent',
    })
  })
})
