import { createPublicKey, randomBytes } from 'node:crypto'
import type { JsonWebKey, KeyObject } from 'node:crypto'
import request from 'supertest'
import type { JWK } from 'jose'
import type { LogoutOptions } from '../../lib/index.js'
import type { TestApp } from '../support/app.js'
import { FLAVOURS, ISSUER, closeApps, createApp, localOptions } from '../support/app.js'
import { mint, nowSeconds as now, rawSignature, startJwksServer, useTestKey } from '../support/jwt.js'
import type { TestAlg } from '../support/jwt.js'

const AUDIENCE = 'https://api.test'
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

const rsa = useTestKey('RS256')
const ec = useTestKey('ES256')
const ed = useTestKey('EdDSA')
const stranger = useTestKey('RS256')
afterEach(async () => {
  jest.restoreAllMocks()
  await closeApps()
})

/** The RSA test key as a node:crypto KeyObject (PEM/DER exports come from it). */
const rsaKeyObject = (): KeyObject => createPublicKey({ key: rsa.jwk as JsonWebKey, format: 'jwk' })
const pem = rsaKeyObject
const withoutAlg = ({ alg: _alg, ...jwk }: JWK): JWK => jwk
const keyOf = (alg: TestAlg) => ({ RS256: rsa, ES256: ec, EdDSA: ed })[alg]

/** True when logging out with `token` counted: the sessions of `sid` went and `sid` was revoked. */
async function counts(app: TestApp, token: string, sid: string, loginToken = token): Promise<boolean> {
  const victim = await app.login(loginToken)
  const res = await request(app.url).post('/logout').set('Authorization', `Bearer ${token}`)
  expect(res.status).toBe(303)
  const gone = !(await app.sessionIds()).includes(victim.id)
  const revoked = (await app.mw.store.revokedAt({ iss: ISSUER, sid })) !== undefined
  expect(gone).toBe(revoked)
  return gone
}

describe.each(FLAVOURS)('%s: verification keys', (flavour) => {
  it.each<TestAlg>(['RS256', 'ES256', 'EdDSA'])('verifies %s against a local JWKS', async (alg) => {
    const app = await createApp(flavour, localOptions([rsa, ec, ed]))
    expect(
      await counts(app, await mint(keyOf(alg), { iss: ISSUER, sid: `local-${alg}` }), `local-${alg}`),
    ).toBe(true)
  })

  it.each<TestAlg>(['RS256', 'ES256', 'EdDSA'])(
    'verifies %s against a remote JWKS, fetched once',
    async (alg) => {
      const jwks = await startJwksServer([rsa, ec, ed])
      try {
        const app = await createApp(flavour, localOptions([], { accessToken: { jwks: jwks.url } }))
        const token = await mint(keyOf(alg), { iss: ISSUER, sid: `remote-${alg}` })
        expect(await counts(app, token, `remote-${alg}`)).toBe(true)
        expect(jwks.fetches).toBe(1)
      } finally {
        await jwks.close()
      }
    },
  )

  it('refetches the remote JWKS for an unknown kid once the cooldown has passed (key rotation)', async () => {
    const jwks = await startJwksServer([rsa])
    try {
      const app = await createApp(flavour, localOptions([], { accessToken: { jwks: jwks.url } }))
      expect(await counts(app, await mint(rsa, { iss: ISSUER, sid: 'before' }), 'before')).toBe(true)
      expect(jwks.fetches).toBe(1)
      jwks.keys = [rsa, ec]
      const rotated = await mint(ec, { iss: ISSUER, sid: 'rotated' })
      // Within jose's 30 s cooldown an unknown kid does not refetch: a flood of made-up kids cannot
      // hammer the IdP.
      const login = await mint(rsa, { iss: ISSUER, sid: 'rotated' })
      expect(await counts(app, rotated, 'rotated', login)).toBe(false)
      expect(jwks.fetches).toBe(1)
      const now = Date.now()
      jest.spyOn(Date, 'now').mockImplementation(() => now + 31_000)
      expect(await counts(app, rotated, 'rotated')).toBe(true)
      expect(jwks.fetches).toBe(2)
    } finally {
      await jwks.close()
    }
  })

  it.each<[string, () => NonNullable<LogoutOptions['accessToken']>['key']]>([
    ['a KeyObject', rsaKeyObject],
    ['a public JWK', () => rsa.jwk],
    // What jose's exportJWK gives: no "alg", so the algorithm comes from the token (within `algorithms`).
    ['a public JWK without "alg"', () => withoutAlg(rsa.jwk)],
  ])('verifies against a single key given as %s', async (_name, key) => {
    const app = await createApp(flavour, {
      baseURL: 'https://app.test',
      accessToken: { key: key(), issuer: ISSUER },
    })
    await expectSingleKeyChecks(app)
  })

  it('verifies against a public JWK without "alg" when one algorithm is allowed', async () => {
    const app = await createApp(flavour, {
      baseURL: 'https://app.test',
      accessToken: { key: withoutAlg(rsa.jwk), issuer: ISSUER, algorithms: ['RS256'] },
    })
    await expectSingleKeyChecks(app)
  })

  /** The key's own tokens count; a stranger's, and an HS256 token keyed with the public key, do not. */
  async function expectSingleKeyChecks(app: TestApp) {
    expect(await counts(app, await mint(rsa, { iss: ISSUER, sid: 'single' }), 'single')).toBe(true)
    const forged = await mint(stranger, { iss: ISSUER, sid: 'single2' })
    expect(await counts(app, forged, 'single2', await mint(rsa, { iss: ISSUER, sid: 'single2' }))).toBe(false)
    const confused = await mint(
      {
        alg: 'HS256',
        privateKey: new TextEncoder().encode(pem().export({ type: 'spki', format: 'pem' }) as string),
      },
      { iss: ISSUER, sid: 'single2' },
    )
    expect(await counts(app, confused, 'single2', await mint(rsa, { iss: ISSUER, sid: 'single2' }))).toBe(
      false,
    )
  }

  it('verifies HS256 against a Uint8Array secret, and refuses asymmetric tokens then', async () => {
    const secret = new Uint8Array(randomBytes(32))
    const app = await createApp(flavour, { accessToken: { key: secret, issuer: ISSUER } })
    const token = await mint({ alg: 'HS256', privateKey: secret }, { iss: ISSUER, sid: 'hmac' })
    expect(await counts(app, token, 'hmac')).toBe(true)
    const login = await mint({ alg: 'HS256', privateKey: secret }, { iss: ISSUER, sid: 'rsa' })
    expect(await counts(app, await mint(rsa, { iss: ISSUER, sid: 'rsa' }), 'rsa', login)).toBe(false)
  })
})

const VICTIM = 'victim-sid'
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sid: VICTIM,
  sub: 'v',
  ...extra,
})

/** Signs with the RSA test key whatever the header says (jose refuses to sign an unknown `crit`). */
async function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${await rawSignature(rsa, input)}`
}

/** Tokens that must never select the victim's sessions (issue 2 point 7). */
const HOSTILE: Array<[string, () => Promise<string>]> = [
  ['alg none', async () => `${b64({ alg: 'none' })}.${b64(claims({ iat: now() }))}.`],
  [
    'alg none with a kid',
    async () => `${b64({ alg: 'none', kid: rsa.kid })}.${b64(claims({ iat: now() }))}.`,
  ],
  [
    'HS256 signed with the RSA public key PEM as secret',
    () =>
      mint(
        {
          alg: 'HS256',
          kid: rsa.kid,
          privateKey: new TextEncoder().encode(pem().export({ type: 'spki', format: 'pem' }) as string),
        },
        claims(),
      ),
  ],
  [
    'HS256 signed with the RSA public key DER as secret',
    () =>
      mint(
        {
          alg: 'HS256',
          kid: rsa.kid,
          privateKey: new Uint8Array(pem().export({ type: 'spki', format: 'der' })),
        },
        claims(),
      ),
  ],
  [
    'HS256 signed with the JWK JSON as secret',
    () =>
      mint(
        { alg: 'HS256', kid: rsa.kid, privateKey: new TextEncoder().encode(JSON.stringify(rsa.jwk)) },
        claims(),
      ),
  ],
  ['a wrong kid', () => mint(rsa, claims(), { kid: 'no-such-kid' })],
  ['an unknown key using the victim kid', () => mint(stranger, claims(), { kid: rsa.kid })],
  ['an unknown key with its own kid', () => mint(stranger, claims())],
  ['a wrong issuer', () => mint(rsa, claims({ iss: 'https://evil.test/' }))],
  ['no issuer', () => mint(rsa, claims({ iss: undefined }))],
  ['a wrong audience', () => mint(rsa, claims({ aud: 'https://other.test' }))],
  ['no audience', () => mint(rsa, claims({ aud: undefined }))],
  ['a future nbf', () => mint(rsa, claims({ nbf: now() + 3600 }))],
  [
    'expired beyond expiredGrace',
    () => mint(rsa, claims({ iat: now() - 3 * 86400, exp: now() - 2 * 86400 })),
  ],
  [
    'an unknown crit header',
    () => signRaw({ alg: 'RS256', kid: rsa.kid, crit: ['x-new'], 'x-new': 1 }, claims({ iat: now() })),
  ],
  [
    'a tampered payload',
    async () => {
      const [h, , s] = (await mint(rsa, claims({ sid: 'attacker' }))).split('.')
      return `${h}.${b64(claims({ iat: now(), exp: now() + 3600 }))}.${s}`
    },
  ],
  ['garbage', async () => 'not.a.jwt'],
  ['a single segment', async () => 'abcdef'],
  ['a 64 KB token', () => mint(rsa, claims({ pad: 'x'.repeat(64 * 1024) }))],
]

describe.each(FLAVOURS)('%s: hostile tokens', (flavour) => {
  async function victimApp(): Promise<{ app: TestApp; victimToken: string; ids: string[] }> {
    const from = ['header', 'body:access_token']
    // With body parsers a 64 KB token reaches the verifier; without, the body limit stops it (413).
    const app = await createApp(flavour, localOptions([rsa], { accessToken: { audience: AUDIENCE, from } }), {
      parsers: true,
    })
    const victimToken = await mint(rsa, claims())
    const ids = [(await app.login(victimToken)).id, (await app.login(victimToken)).id].sort()
    return { app, victimToken, ids }
  }

  it.each(HOSTILE)('ignores %s: the victim sessions survive', async (_name, make) => {
    const { app, victimToken, ids } = await victimApp()
    const token = await make()
    // Node refuses request headers over 16 KB (431), so long tokens only travel in the body.
    if (token.length < 8192) {
      const res = await request(app.url).post('/logout').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(303)
    }
    const body = await request(app.url).post('/logout').type('form').send({ access_token: token })
    expect(body.status).toBe(flavour === 'connect' && token.length > 16 * 1024 ? 413 : 303)
    expect((await app.sessionIds()).sort()).toEqual(ids)
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: VICTIM })).toBeUndefined()
    const api = await request(app.url).get('/api').set('Authorization', `Bearer ${victimToken}`)
    expect(api.text).toBe('api ok')
  })

  it('counts a token expired within expiredGrace', async () => {
    const { app, ids } = await victimApp()
    const expired = await mint(rsa, claims({ iat: now() - 7200, exp: now() - 3600 }))
    expect(ids).toHaveLength(2)
    await request(app.url).post('/logout').set('Authorization', `Bearer ${expired}`)
    expect(await app.sessionIds()).toEqual([])
    expect(await app.mw.store.revokedAt({ iss: ISSUER, sid: VICTIM })).toEqual(expect.any(Number))
  })

  it('honours a shorter expiredGrace', async () => {
    const app = await createApp(
      flavour,
      localOptions([rsa], { accessToken: { audience: AUDIENCE, expiredGrace: 60 } }),
    )
    const expired = await mint(rsa, claims({ iat: now() - 7200, exp: now() - 3600 }))
    expect(await counts(app, expired, VICTIM, await mint(rsa, claims()))).toBe(false)
  })
})
