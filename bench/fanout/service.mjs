// One service of the fan-out benchmark (bench/fanout.mjs), in its own process: Express,
// express-session on the service's own session store (a MemoryStore, or connect-redis under the
// service's own key prefix), and sso-logout as `options.service` on the Redis every service shares.
// The driver passes a JSON spec as argv[2]: { name, sessionStore: 'memory' | 'connect-redis',
// redisUrl, prefix, jwk, entry } (entry: the URL of the built package's copy, see ../package.mjs).
//
// Times are `process.hrtime.bigint()`, sent as decimal strings: on Linux it reads CLOCK_MONOTONIC,
// one clock for the whole machine, so the driver can subtract them from its own readings. Node
// documents it only as "relative to an arbitrary time in the past", so the driver checks that the
// clocks agree before it measures (see `checkClock` in ../fanout.mjs). Wall-clock readings
// (`Date.now()`, `performance.timeOrigin + performance.now()`) would also compare across processes,
// but step with NTP, and each process's `timeOrigin` is its own start-up reading.
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { RedisStore } from 'connect-redis'
import express from 'express'
import { createClient } from 'redis'
import { BASE_URL, CLIENT_ID, ISSUER, RETURN_TO } from '../config.mjs'
import { session, sessionMiddleware } from '../apps/sessions.mjs'

const spec = JSON.parse(process.argv[2])
const now = () => process.hrtime.bigint().toString()
const send = (message) => process.connected && process.send(message)

/** The last wake-up notice for this service seen on the store's channel (see `watchNotices`). */
let lastNotice

/**
 * Reports, for every id, the moment the session store's destroy completed: the session is gone
 * (MemoryStore deletes before it defers the callback, connect-redis calls it on the DEL's reply).
 * The time is read before anything else runs, so the report itself is outside the measurement.
 */
function reportDestroys(store) {
  const destroy = store.destroy.bind(store)
  store.destroy = function destroyAndReport(id, callback) {
    destroy(id, (err, ...rest) => {
      const at = now()
      callback?.(err, ...rest)
      if (!err) send({ gone: id, at, notice: lastNotice })
    })
  }
}

/**
 * Records when the wake-up for this service's stream arrives, on a subscription of its own next to
 * the store's (the same PUBLISH reaches both): it splits a delivery's time into the notice's
 * arrival and the receiver's work after it. The notice is `{"h": tag}` on `<prefix>changes`, the
 * tag as serviceTag() in lib/stores/redis/keys.ts makes it; if that format changes, the split
 * reads "no notice seen" while the delivery times stay exact.
 */
async function watchNotices(client) {
  const tag = createHash('sha256').update(spec.name).digest('base64url').slice(0, 12)
  const subscriber = client.duplicate()
  subscriber.on('error', (err) => send({ log: `subscriber: ${err.message}` }))
  await subscriber.connect()
  await subscriber.subscribe(`${spec.prefix}changes`, (text) => {
    const at = now()
    if (text.includes(`"h":"${tag}"`)) lastNotice = at
  })
  return subscriber
}

async function build(client, sessionStore) {
  const { logout, redisStore } = await import(spec.entry)
  const auth = logout({
    service: spec.name,
    sessionStore,
    store: redisStore({ client, prefix: spec.prefix }),
    provider: {
      name: 'bench-op',
      issuer: ISSUER,
      clientId: CLIENT_ID,
      metadata: () => ({ idTokenSigningAlgValues: ['RS256'] }),
      endSession: () => ({}),
    },
    accessToken: { jwks: { keys: [spec.jwk] }, issuer: ISSUER },
    baseURL: BASE_URL,
    returnTo: { default: RETURN_TO },
    onLogout: (event) =>
      send({
        event: {
          reason: event.reason,
          sessionsDestroyed: event.sessionsDestroyed,
          errors: event.errors.map((e) => e.code),
        },
      }),
    logger: { warn: (log) => send({ log }), error: (log) => send({ log }) },
  })
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.use(auth)
  // Signs the user in: the middleware links the new session to the bearer token's sid first.
  app.get('/login', (req, res) => {
    req.session.user = spec.name
    res.json({ id: req.sessionID })
  })
  return { app, auth }
}

async function main() {
  const client = createClient({ url: spec.redisUrl })
  client.on('error', (err) => send({ log: `redis client: ${err.message}` }))
  await client.connect()
  const sessionStore =
    spec.sessionStore === 'connect-redis'
      ? new RedisStore({ client, prefix: `${spec.prefix}sess:${spec.name}:` })
      : new session.MemoryStore()
  reportDestroys(sessionStore)
  const subscriber = await watchNotices(client)
  const { app, auth } = await build(client, sessionStore)
  const server = createServer(app)
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.on('message', (message) => {
    if (message?.clock !== undefined) return send({ clock: message.clock, at: now() })
    if (message?.has !== undefined) {
      return sessionStore.get(message.has, (err, found) =>
        send({ has: message.has, present: Boolean(found), error: err?.message }),
      )
    }
    if (message === 'stop') void stop()
  })
  async function stop() {
    server.closeAllConnections()
    server.close()
    auth.store.close?.()
    await subscriber.close().catch(() => undefined)
    await client.close().catch(() => undefined)
    process.exit(0)
  }
  send({ ready: true, port: server.address().port })
}

// The driver is gone (interrupted): nothing will ask this service to stop.
process.on('disconnect', () => process.exit(0))

main().catch((err) => {
  send({ ready: false, error: err?.stack ?? String(err) })
  setTimeout(() => process.exit(1), 100)
})
