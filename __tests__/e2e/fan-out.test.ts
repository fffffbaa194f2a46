import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { createClient } from 'redis'
import { redisKeys, serviceTag } from '../../lib/stores/redis/keys.js'
import { ISSUER } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'
import { CLIENT_ID, signLogoutToken } from '../support/logout-token.js'
import {
  describeRedis,
  nodeRedisClient,
  startRedisServer,
  type RedisServer,
} from '../support/redis-server.js'
import {
  BUILT,
  backchannelAt,
  logoutAt,
  revokeAt,
  api,
  login,
  loginExplicitly,
  sessions,
  startService,
  type Service,
} from '../support/service-client.js'

// Three services, Notes, Calendar and Mail, each its own process with its own express-session store
// (Calendar's in Redis through connect-redis, so it outlives the process), named with
// `options.service` and sharing one redisStore: a logout in any of them ends the user's sessions in
// every one, each destroyed by its own service in its own store, with no request to it.

describeRedis(
  'named services sharing one Redis: a logout anywhere ends the sessions in every service',
  () => {
    let server: RedisServer
    let redis: ReturnType<typeof createClient>
    const key = useTestKey('RS256')
    const prefix = `fo-${randomUUID().slice(0, 8)}:`
    const running: Service[] = []
    let notes: Service
    let calendar: Service
    let mail: Service

    // Deliveries that a lost wake-up would delay are found within 200 ms; an entry held by an
    // instance that died is taken over after 500 ms.
    const config = (service: string, extra: Record<string, unknown> = {}) => ({
      name: service,
      service,
      redisUrl: server.url,
      prefix,
      jwk: key.jwk,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      timeout: 5000,
      delivery: { pollInterval: 200, claimAfter: 500 },
      ...(service === 'calendar' ? { sessionStore: 'connect-redis', sessionPrefix: `${prefix}cal:` } : {}),
      ...extra,
    })
    const start = async (service: string, extra?: Record<string, unknown>) => {
      const started = await startService(config(service, extra))
      running.push(started)
      return started
    }

    beforeAll(async () => {
      if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`)
      server = await startRedisServer()
      redis = await nodeRedisClient(server)
      ;[notes, calendar, mail] = await Promise.all([start('notes'), start('calendar'), start('mail')])
    })

    afterAll(async () => {
      await Promise.all(running.map((s) => s.stop()))
      await redis?.close()
      await server?.stop()
    })

    const token = (sid: string, sub = `user-${sid}`) => mint(key, { iss: ISSUER, sid, sub })

    /** Resolves with the `'service'` event by which `at` destroyed `sessionId`'s share (one per delivery). */
    const ended = (at: Service) => at.event((e) => e.reason === 'service')
    const eventsOf = (at: Service) => at.events.filter((e) => e.reason === 'service').length

    /** Waits for `at`'s next delivery event (after `before` of them). */
    const nextDelivery = (at: Service, before: number) =>
      at
        .printed(() => eventsOf(at) > before)
        .then(() => at.events.filter((e) => e.reason === 'service')[before]!)

    it('a logout at Notes ends the session in Calendar and in Mail at once, each in its own store, with no request to them', async () => {
      const sid = `sid-${randomUUID()}`
      const jwt = await token(sid)
      const [atNotes, atCalendar, atMail, bystander] = await Promise.all([
        login(notes, jwt),
        login(calendar, jwt),
        login(mail, jwt),
        token(`other-${sid}`).then((t) => login(calendar, t)),
      ])
      const [calendarBefore, mailBefore] = [eventsOf(calendar), eventsOf(mail)]
      const res = await logoutAt(notes, { token: jwt, cookie: atNotes.cookie }, '/logout?returnTo=/bye')
      expect(res.status).toBe(303)
      expect(notes.events.find((e) => e.sid === sid)).toMatchObject({
        reason: 'user',
        sessionsDestroyed: 1,
        sessionsHandedOver: 2,
        errors: [],
      })
      const [atC, atM] = await Promise.all([
        nextDelivery(calendar, calendarBefore),
        nextDelivery(mail, mailBefore),
      ])
      expect(atC).toMatchObject({ reason: 'service', sessionsDestroyed: 1, errors: [] })
      expect(atM).toMatchObject({ reason: 'service', sessionsDestroyed: 1, errors: [] })
      // Gone from each service's own store before anything asked that service about the session.
      expect(await sessions(calendar)).not.toContain(atCalendar.id)
      expect(await sessions(mail)).not.toContain(atMail.id)
      expect(await sessions(calendar)).toContain(bystander.id)
      expect(await api(calendar, { cookie: atCalendar.cookie })).toMatchObject({ status: 200, user: null })
      expect(await api(calendar, { cookie: bystander.cookie })).toMatchObject({
        status: 200,
        user: 'someone',
      })
    })

    it.each([
      ['the logout route', 'user'],
      ['revoke()', 'api'],
      ['a back-channel logout token', 'backchannel'],
    ])(
      'sessions linked explicitly (opaque tokens) end in every service after %s at Notes',
      async (_how, reason) => {
        const sid = `sid-${randomUUID()}`
        const [atNotes, atCalendar, atMail] = await Promise.all([
          loginExplicitly(notes, sid),
          loginExplicitly(calendar, sid),
          loginExplicitly(mail, sid),
        ])
        const [calendarBefore, mailBefore] = [eventsOf(calendar), eventsOf(mail)]
        if (reason === 'user') {
          const res = await logoutAt(notes, { cookie: atNotes.cookie })
          expect(res.status).toBe(303)
        } else if (reason === 'api') {
          const res = await revokeAt(notes, { sid })
          expect(res.status).toBe(200)
        } else {
          const logoutToken = await signLogoutToken(key, { sid, sub: `user-${sid}` })
          const res = await backchannelAt(notes, logoutToken)
          expect(res.status).toBe(200)
        }
        await Promise.all([nextDelivery(calendar, calendarBefore), nextDelivery(mail, mailBefore)])
        expect(await sessions(notes)).not.toContain(atNotes.id)
        expect(await sessions(calendar)).not.toContain(atCalendar.id)
        expect(await sessions(mail)).not.toContain(atMail.id)
      },
    )

    it('revoke({ sub }) at Mail ends every session of the user, of every IdP session, in every service', async () => {
      const sub = `user-${randomUUID()}`
      const laptop = await token(randomUUID(), sub)
      const phone = await token(randomUUID(), sub)
      const [n1, c1, c2, m1] = await Promise.all([
        login(notes, laptop),
        login(calendar, laptop),
        login(calendar, phone),
        login(mail, phone),
      ])
      const [notesBefore, calendarBefore] = [eventsOf(notes), eventsOf(calendar)]
      const res = await revokeAt(mail, { sub })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ destroyed: 1 })
      await Promise.all([nextDelivery(notes, notesBefore), nextDelivery(calendar, calendarBefore)])
      expect(await sessions(notes)).not.toContain(n1.id)
      const left = await sessions(calendar)
      expect(left).not.toContain(c1.id)
      expect(left).not.toContain(c2.id)
      expect(await sessions(mail)).not.toContain(m1.id)
    })

    it('Calendar down during the logout: its guard refuses the session before its delivery is done, and the delivery ends it when it is back', async () => {
      const sid = `sid-${randomUUID()}`
      const jwt = await token(sid)
      const [atNotes, atCalendar] = await Promise.all([login(notes, jwt), login(calendar, jwt)])
      await calendar.stop()
      const res = await logoutAt(notes, { token: jwt, cookie: atNotes.cookie })
      expect(res.status).toBe(303)
      expect(notes.events.find((e) => e.sid === sid)).toMatchObject({ sessionsHandedOver: 1, errors: [] })
      // Calendar's session outlived its process (connect-redis).
      expect(await redis.exists(`${prefix}cal:${atCalendar.id}`)).toBe(1)

      // Back, with its first destroy held (a slow session store): the delivery is under way, and a
      // request of the session meanwhile is refused and ends it on the spot.
      const slow = await start('calendar', { hold: 'first' })
      await slow.printed((line) => Array.isArray(line.held))
      expect(slow.held).toEqual([atCalendar.id])
      const refused = await api(slow, { cookie: atCalendar.cookie })
      expect(refused.status).toBe(401)
      expect(await redis.exists(`${prefix}cal:${atCalendar.id}`)).toBe(0)

      // The instance dies mid-delivery: the entry it held is taken over by the next instance.
      await slow.kill()
      calendar = await start('calendar')
      expect(await ended(calendar)).toMatchObject({ reason: 'service', sessionsDestroyed: 1, errors: [] })
      expect(await sessions(calendar)).not.toContain(atCalendar.id)
    })

    it('an instance that dies holding a batch loses nothing: another instance of the service takes it over', async () => {
      const sid = `sid-${randomUUID()}`
      const jwt = await token(sid)
      const [atNotes, atMail] = await Promise.all([login(notes, jwt), login(mail, jwt)])
      // Mail's only instance takes the delivery and dies before destroying anything.
      await mail.stop()
      const dying = await start('mail', {
        hold: 'first',
        sessionStore: 'connect-redis',
        sessionPrefix: `${prefix}mail:`,
      })
      const res = await logoutAt(notes, { token: jwt, cookie: atNotes.cookie })
      expect(res.status).toBe(303)
      await dying.printed((line) => Array.isArray(line.held))
      await dying.kill()
      mail = await start('mail')
      // The MemoryStore session died with the first Mail process; what matters is that the id held by
      // the dead instance is delivered again, to the new one.
      expect(await mail.event((e) => e.reason === 'service')).toMatchObject({
        sessionsDestroyed: 1,
        errors: [],
      })
      expect(dying.held).toEqual([atMail.id])
    })

    it('a duplicate delivery is harmless: the session is gone once, and nothing else is touched', async () => {
      const sid = `sid-${randomUUID()}`
      const jwt = await token(sid)
      const [atNotes, atCalendar, bystander] = await Promise.all([
        login(notes, jwt),
        login(calendar, jwt),
        token(`other-${sid}`).then((t) => login(calendar, t)),
      ])
      const before = eventsOf(calendar)
      await logoutAt(notes, { token: jwt, cookie: atNotes.cookie })
      await nextDelivery(calendar, before)
      // The same entry once more, as a retry after a lost acknowledgement would deliver it.
      const stream = redisKeys(prefix).stream(serviceTag('calendar'))
      await redis.sendCommand([
        'XADD',
        stream,
        '*',
        'a',
        String(Date.now()),
        'i',
        JSON.stringify([atCalendar.id]),
      ])
      expect(await nextDelivery(calendar, before + 1)).toMatchObject({ sessionsDestroyed: 1, errors: [] })
      expect(await sessions(calendar)).not.toContain(atCalendar.id)
      expect(await sessions(calendar)).toContain(bystander.id)
      expect(await api(calendar, { cookie: bystander.cookie })).toMatchObject({
        status: 200,
        user: 'someone',
      })
    })

    it('keeps delivering when the wake-up subscription is cut, and after Redis restarts empty', async () => {
      // Every pub/sub connection is cut: wake-ups are lost until the services resubscribe, and the
      // poll finds the entry meanwhile.
      await redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      const first = await token(`sid-${randomUUID()}`)
      const [atNotes, atCalendar] = await Promise.all([login(notes, first), login(calendar, first)])
      let before = eventsOf(calendar)
      await logoutAt(notes, { token: first, cookie: atNotes.cookie })
      await nextDelivery(calendar, before)
      expect(await sessions(calendar)).not.toContain(atCalendar.id)

      // Redis restarts empty: streams and groups are gone, and the next hand-over makes them again.
      // The services reconnect on their own schedule; each says when it is back.
      const readies = (at: Service) => at.lines.filter((line) => line.redis === 'ready').length
      const [notesReady, calendarReady] = [readies(notes), readies(calendar)]
      await redis.close()
      await server.stop()
      await server.start()
      redis = await nodeRedisClient(server)
      await Promise.all([
        notes.printed(() => readies(notes) > notesReady),
        calendar.printed(() => readies(calendar) > calendarReady),
      ])
      const second = await token(`sid-${randomUUID()}`)
      const again = await Promise.all([login(notes, second), login(calendar, second)])
      before = eventsOf(calendar)
      const res = await logoutAt(notes, { token: second, cookie: again[0].cookie })
      expect(res.status).toBe(303)
      await nextDelivery(calendar, before)
      expect(await redis.exists(`${prefix}cal:${again[1].id}`)).toBe(0)
    })
  },
)
