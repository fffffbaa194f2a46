import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { issuerTag, redisKeys } from '../../lib/stores/redis/keys.js'
import { ISSUER } from '../support/app.js'
import { CLIENT_ID, signLogoutToken } from '../support/logout-token.js'
import { describeRedis, nodeRedisClient, startRedisServer } from '../support/redis-server.js'
import type { RedisServer } from '../support/redis-server.js'
import { shuffle } from '../support/shuffle.js'
import { mint, useTestKey } from '../support/jwt.js'

/** A service process (support/service.mjs) and what it printed. */
interface Service {
  url: string
  events: Array<{ reason: string; sid?: string; sessionsDestroyed: number; errors: string[] }>
  logs: string[]
  stop(): Promise<void>
}

const LINKED_SID = `local r = redis.call('GET', KEYS[1]) if not r then return nil end return cmsgpack.unpack(r)[3] or nil`
const SERVICE = join(__dirname, '..', 'support', 'service.mjs')
const BUILT = join(__dirname, '..', '..', 'dist', 'esm', 'index.js')

/** Starts support/service.mjs; resolves once it printed its URL. */
async function startService(config: Record<string, unknown>): Promise<Service> {
  const child = spawn(process.execPath, [SERVICE, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const service: Service = { url: '', events: [], logs: [], stop: () => stopChild(child) }
  const stderr: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  service.url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (typeof parsed.url === 'string') resolve(parsed.url)
      if (parsed.event) service.events.push(parsed.event as Service['events'][number])
      if (typeof parsed.log === 'string') service.logs.push(parsed.log)
    })
    child.once('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr.join('')}`)))
  })
  return service
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
  })
}

/** Signs in at `service` with a bearer token: the session is created and linked to the token's sid. */
async function login(service: Service, token: string): Promise<{ cookie: string; id: string }> {
  const response = await fetch(`${service.url}/login`, { headers: { authorization: `Bearer ${token}` } })
  expect(response.status).toBe(200)
  const { id } = (await response.json()) as { id: string }
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))
  return { cookie: cookie!.split(';')[0]!, id }
}

/** GET /api (behind guard) with a token or a session cookie: the status and the signed-in user. */
async function api(service: Service, credential: { token?: string; cookie?: string }) {
  const headers: Record<string, string> = {}
  if (credential.token) headers.authorization = `Bearer ${credential.token}`
  if (credential.cookie) headers.cookie = credential.cookie
  const response = await fetch(`${service.url}/api`, { headers })
  const text = await response.text()
  return {
    status: response.status,
    authenticate: response.headers.get('www-authenticate'),
    user: response.status === 200 ? (JSON.parse(text) as { user: string | null }).user : undefined,
  }
}

async function sessions(service: Service): Promise<string[]> {
  return (await (await fetch(`${service.url}/admin/sessions`)).json()) as string[]
}

describeRedis('many services sharing one Redis (separate processes, separate session stores)', () => {
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
    const res = await fetch(`${a.url}/logout?returnTo=/bye`, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: `Bearer ${user.jwt}`, cookie: user.atA.cookie },
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://app.test/bye')
    expect(await sessions(a)).not.toContain(user.atA.id)
    expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'user', errors: [] })
    await expectEndedAtB(user)
  })

  it('revoke() at A reaches B the same way', async () => {
    const sid = `sid-${randomUUID()}`
    const user = await signedInEverywhere(sid)
    const res = await fetch(`${a.url}/admin/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid }),
    })
    expect(res.status).toBe(200)
    expect(await sessions(a)).not.toContain(user.atA.id)
    expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'api', errors: [] })
    await expectEndedAtB(user)
  })

  it('a back-channel logout at A reaches B the same way', async () => {
    const sid = `sid-${randomUUID()}`
    const user = await signedInEverywhere(sid)
    const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
    const res = await fetch(`${a.url}/backchannel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
    })
    expect(res.status).toBe(200)
    expect(await sessions(a)).not.toContain(user.atA.id)
    expect(a.events.find((e) => e.sid === sid)).toMatchObject({ reason: 'backchannel', errors: [] })
    await expectEndedAtB(user)
  })

  /** Signs in at `service` with an opaque token: the session is linked with the explicit link({ sid, sub, sessionId }). */
  async function loginExplicitly(
    service: Service,
    sid: string,
    sub = `user-${sid}`,
  ): Promise<{ cookie: string; id: string }> {
    const query = new URLSearchParams({ sid, sub })
    const response = await fetch(`${service.url}/login-explicit?${query}`)
    expect(response.status).toBe(200)
    const { id } = (await response.json()) as { id: string }
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))
    return { cookie: cookie!.split(';')[0]!, id }
  }

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
        res = await fetch(`${a.url}/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: atA.cookie },
        })
        expect(res.status).toBe(303)
      } else if (reason === 'api') {
        res = await fetch(`${a.url}/admin/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sid }),
        })
        expect(res.status).toBe(200)
      } else {
        const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
        res = await fetch(`${a.url}/backchannel`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: logoutToken }).toString(),
        })
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
    const res = await fetch(`${a.url}/admin/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub }),
    })
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
      const res = await fetch(`${a.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: `Bearer ${user.jwt}` },
      })
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
      const res = await fetch(`${service.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: `Bearer ${jwt}` },
      })
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
})
