import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { issuerTag, redisKeys } from '../../lib/stores/redis/keys.js'
import { ISSUER } from '../support/app.js'
import { CLIENT_ID, signLogoutToken } from '../support/logout-token.js'
import { describeRedis, nodeRedisClient, startRedisServer } from '../support/redis-server.js'
import type { RedisServer } from '../support/redis-server.js'
import { shuffle } from '../support/shuffle.js'
import { mint, useTestKey } from '../support/jwt.js'
import {
  BUILT,
  backchannelAt,
  logoutAt,
  revokeAt,
  LINKED_SID,
  api,
  login,
  loginExplicitly,
  sessions,
  startService,
  type Service,
} from '../support/service-client.js'

// These services leave `service` unset and share baseURL and client id, so they are one service to
// sso-logout (the setup before services were named): a logout at A destroys A's sessions and leaves
// B's in B's session store, where B's guard refuses and ends them on their next request. Named
// services, which end each other's sessions at once, are in fan-out.test.ts.

describeRedis(
  'services sharing one Redis under one name (separate processes, separate session stores)',
  () => {
    let server: RedisServer
    const key = useTestKey('RS256')
    let a: Service
    let b: Service
    const prefix = `xs-${randomUUID().slice(0, 8)}:`

    beforeAll(async () => {
      if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`)
      server = await startRedisServer()
      // A generous client timeout: these tests are about races, not a slow Redis, and a command that
      // times out on a loaded machine takes the documented degraded path (the write goes ahead).
      const common = {
        redisUrl: server.url,
        prefix,
        jwk: key.jwk,
        issuer: ISSUER,
        clientId: CLIENT_ID,
        timeout: 5000,
      }
      ;[a, b] = await Promise.all([
        startService({ ...common, name: 'A' }),
        startService({ ...common, name: 'B' }),
      ])
    })

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await server?.stop()
    })

    const token = (sid: string, sub = `user-${sid}`) => mint(key, { iss: ISSUER, sid, sub })

    /** The user of `sid` has a session at A and at B (both linked through the same token), and at B a bystander does too. */
    async function signedInEverywhere(sid: string) {
      const jwt = await token(sid)
      const [atA, atB, bystander] = await Promise.all([
        login(a, jwt),
        login(b, jwt),
        token(`other-${sid}`).then((t) => login(b, t)),
      ])
      expect(await api(b, { cookie: atB.cookie })).toMatchObject({ status: 200, user: 'someone' })
      return { jwt, atA, atB, bystander }
    }

    /** What B must do on its very next requests once the user's sid was logged out anywhere. */
    async function expectEndedAtB(user: Awaited<ReturnType<typeof signedInEverywhere>>) {
      // Nothing reached B yet: its own session store still holds the session (no eager fan-out).
      expect(await sessions(b)).toContain(user.atB.id)
      const byToken = await api(b, { token: user.jwt })
      expect(byToken.status).toBe(401)
      expect(byToken.authenticate).toMatch(/^Bearer error="invalid_token"/)
      const byCookie = await api(b, { cookie: user.atB.cookie })
      expect(byCookie.status).toBe(401)
      const left = await sessions(b)
      expect(left).not.toContain(user.atB.id)
      expect(left).toContain(user.bystander.id)
      expect(await api(b, { cookie: user.bystander.cookie })).toMatchObject({ status: 200, user: 'someone' })
      // The session cookie alone, now unknown to B's store, is a signed-out visitor.
      expect(await api(b, { cookie: user.atB.cookie })).toMatchObject({ status: 200, user: null })
    }

    it('a logout at A: B refuses the token and ends its own linked session on the next request', async () => {
      const sid = `sid-${randomUUID()}`
      const user = await signedInEverywhere(sid)
      const res = await logoutAt(a, { token: user.jwt, cookie: user.atA.cookie }, '/logout?returnTo=/bye')
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('https://app.test/bye')
      expect(await sessions(a)).not.toContain(user.atA.id)
      expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'user', errors: [] })
      await expectEndedAtB(user)
    })

    it('revoke() at A reaches B the same way', async () => {
      const sid = `sid-${randomUUID()}`
      const user = await signedInEverywhere(sid)
      const res = await revokeAt(a, { sid })
      expect(res.status).toBe(200)
      expect(await sessions(a)).not.toContain(user.atA.id)
      expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'api', errors: [] })
      await expectEndedAtB(user)
    })

    it('a back-channel logout at A reaches B the same way', async () => {
      const sid = `sid-${randomUUID()}`
      const user = await signedInEverywhere(sid)
      const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
      const res = await backchannelAt(a, logoutToken)
      expect(res.status).toBe(200)
      expect(await sessions(a)).not.toContain(user.atA.id)
      expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'backchannel', errors: [] })
      await expectEndedAtB(user)
    })

    it.each([
      ['the logout route', 'user'],
      ['revoke()', 'api'],
      ['a back-channel logout token', 'backchannel'],
    ])(
      'a session B linked explicitly (opaque token, no marker in the session) is refused and destroyed after %s at A',
      async (_how, reason) => {
        const sid = `sid-${randomUUID()}`
        const [atA, atB, bystander] = await Promise.all([
          loginExplicitly(a, sid),
          loginExplicitly(b, sid),
          loginExplicitly(b, `other-${sid}`),
        ])
        expect(await api(b, { cookie: atB.cookie })).toMatchObject({ status: 200, user: 'someone' })
        let res: Response
        if (reason === 'user') {
          // The browser's own session carries no token: its link names the sid.
          res = await logoutAt(a, { cookie: atA.cookie })
          expect(res.status).toBe(303)
        } else if (reason === 'api') {
          res = await revokeAt(a, { sid })
          expect(res.status).toBe(200)
        } else {
          const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
          res = await backchannelAt(a, logoutToken)
          expect(res.status).toBe(200)
        }
        expect(await sessions(a)).not.toContain(atA.id)
        expect(await sessions(b)).toContain(atB.id)
        const refused = await api(b, { cookie: atB.cookie })
        expect(refused.status).toBe(401)
        expect(refused.authenticate).toMatch(/^Bearer error="invalid_token"/)
        const left = await sessions(b)
        expect(left).not.toContain(atB.id)
        expect(left).toContain(bystander.id)
        expect(await api(b, { cookie: bystander.cookie })).toMatchObject({ status: 200, user: 'someone' })
      },
    )

    it('revoke({ sub }) at A ends the user everywhere: every session of every IdP session, at A and at B, however linked', async () => {
      const sub = `user-${randomUUID()}`
      const [sid1, sid2, sid3] = [randomUUID(), randomUUID(), randomUUID()]
      const laptop = await token(sid1, sub)
      const phone = await token(sid2, sub)
      const [atA, atB, phoneAtB, tabletAtB, bystander] = await Promise.all([
        login(a, laptop),
        login(b, laptop),
        login(b, phone),
        loginExplicitly(b, sid3, sub),
        loginExplicitly(b, `other-${sid1}`),
      ])
      const res = await revokeAt(a, { sub })
      expect(res.status).toBe(200)
      expect(await sessions(a)).not.toContain(atA.id)
      // B's tokens of both IdP sessions, and each of its sessions, are refused and ended.
      for (const jwt of [laptop, phone]) expect((await api(b, { token: jwt })).status).toBe(401)
      for (const session of [atB, phoneAtB, tabletAtB]) {
        expect((await api(b, { cookie: session.cookie })).status).toBe(401)
      }
      const left = await sessions(b)
      for (const session of [atB, phoneAtB, tabletAtB]) expect(left).not.toContain(session.id)
      expect(left).toContain(bystander.id)
      expect(await api(b, { cookie: bystander.cookie })).toMatchObject({ status: 200, user: 'someone' })
    })

    it('keeps nothing for a logged-out sid in the shared index, and every key it keeps expires', async () => {
      const sid = `sid-${randomUUID()}`
      const user = await signedInEverywhere(sid)
      const redis = await nodeRedisClient(server)
      try {
        const indexKey = redisKeys(prefix).index(issuerTag(ISSUER), 'sid', sid)
        expect((await redis.zRange(indexKey, 0, -1)).sort()).toEqual([user.atA.id, user.atB.id].sort())
        const res = await logoutAt(a, { token: user.jwt })
        expect(res.status).toBe(303)
        expect(
          await redis.exists([indexKey, `${prefix}{s${user.atA.id}}l`, `${prefix}{s${user.atB.id}}l`]),
        ).toBe(0)
        const keys = await redis.keys(`${prefix}*`)
        expect(keys.length).toBeGreaterThan(0)
        for (const name of keys) expect([name, (await redis.pTTL(name)) > 0]).toEqual([name, true])
      } finally {
        await redis.close()
      }
    })

    it('50 concurrent links and 50 logouts of overlapping sids through both services leave no orphan and no resurrected session', async () => {
      const seed = Number(process.env.RACE_SEED ?? Date.now() % 2 ** 31)
      const sids = Array.from({ length: 10 }, (_, i) => `race-${i}-${randomUUID()}`)
      const tokens = await Promise.all(sids.map((sid) => token(sid)))
      const ops = shuffle(
        Array.from({ length: 100 }, (_, n) => ({
          kind: n % 2 === 0 ? 'link' : 'logout',
          sid: Math.floor(n / 2) % sids.length,
        })),
        seed,
      )
      const created: Array<{ service: Service; sid: string; id: string; cookie: string }> = []
      const logout = async (service: Service, jwt: string) => {
        const res = await logoutAt(service, { token: jwt })
        expect([seed, res.status]).toEqual([seed, 303])
      }
      await Promise.all(
        ops.map(async (op, n) => {
          const service = n % 4 < 2 ? a : b
          if (op.kind === 'logout') return logout(service, tokens[op.sid]!)
          const session = await login(service, tokens[op.sid]!)
          created.push({ service, sid: sids[op.sid]!, ...session })
        }),
      )
      // Every sid was logged out at least once. Tokens issued before that stay revoked, so a session
      // they create afterwards (here, deterministically) is as dead as the ones the storm ended.
      for (const [i, service] of [a, b].entries()) {
        created.push({ service, sid: sids[i]!, ...(await login(service, tokens[i]!)) })
      }

      const redis = await nodeRedisClient(server)
      try {
        const indexOf = (sid: string): string => redisKeys(prefix).index(issuerTag(ISSUER), 'sid', sid)
        // A link record is a MessagePack array [at, issuer tag, sid, sub] (lib/stores/redis/scripts.ts).
        const linkedSid = async (id: string): Promise<string | null> =>
          (await redis.eval(LINKED_SID, { keys: [`${prefix}{s${id}}l`] })) as string | null
        const stored = new Set([...(await sessions(a)), ...(await sessions(b))])
        for (const sid of sids) {
          for (const member of await redis.zRange(indexOf(sid), 0, -1)) {
            // The index only names sessions that exist, each through a record that points back at it.
            expect([seed, member, await linkedSid(member), stored.has(member)]).toEqual([
              seed,
              member,
              sid,
              true,
            ])
          }
        }
        for (const session of created) {
          const sid = await linkedSid(session.id)
          if (sid !== null) expect(await redis.zScore(indexOf(sid), session.id)).not.toBeNull()
        }

        // No resurrected session: none of them is signed in any more, anywhere.
        for (const session of created) {
          const res = await api(session.service, { cookie: session.cookie })
          expect([seed, session.id, res.user ?? null]).toEqual([seed, session.id, null])
        }
        const left = new Set([...(await sessions(a)), ...(await sessions(b))])
        expect([seed, created.filter((s) => left.has(s.id)).map((s) => s.id)]).toEqual([seed, []])
        // What is left in the shared index is bounded: nothing names a destroyed session, and every key expires.
        for (const sid of sids) expect([seed, await redis.zRange(indexOf(sid), 0, -1)]).toEqual([seed, []])
        for (const name of await redis.keys(`${prefix}*`)) {
          expect([seed, name, (await redis.pTTL(name)) > 0]).toEqual([seed, name, true])
        }
      } finally {
        await redis.close()
      }
    })
  },
)
