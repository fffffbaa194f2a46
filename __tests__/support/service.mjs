// One service of the many-instances tests, run as its own Node process against the BUILT package
// (dist/esm), the way an application would install it. Several of these share one Redis for
// sso-logout while each keeps its own express-session store (or shares connect-redis).
//
// Usage: node service.mjs '<json config>'
// Config: {
//   name: string,                    // reported by GET /api
//   redisUrl: string,
//   prefix?: string,                 // redisStore prefix
//   jwk: JWK, issuer: string, clientId: string,
//   sessionStore?: 'memory' | 'connect-redis', sessionPrefix?: string,
//   timeout?: number,                // Redis client timeout, ms
//   service?: string,                // logout({ service }); its sessionStore is then passed too
//   delivery?: { pollInterval?, claimAfter? },  // redisStore({ delivery })
//   hold?: 'first'                   // the first destroy in the session store never answers (a
//                                    // slow store, an instance about to die mid-batch): prints
//                                    // {"held":[id]} instead; later destroys work
// }
// It listens on 127.0.0.1, port 0, and prints one JSON line `{"url":"http://127.0.0.1:PORT"}`, then
// one JSON line per logout event (`{"event":{...}}`) and per log message (`{"log":"..."}`).
// It exits when its stdin closes, so it never outlives the test that started it.
import { createServer } from 'node:http'
import cookieParser from 'cookie-parser'
import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { logout, redisStore } from '../../dist/esm/index.js'

const config = JSON.parse(process.argv[2] ?? '{}')
const timeout = config.timeout ?? 1000

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

// The fail-fast settings redisStore's documentation recommends for node-redis v5.
const client = createClient({
  url: config.redisUrl,
  disableOfflineQueue: true,
  pingInterval: Math.ceil(timeout / 2),
  commandOptions: { timeout },
  socket: {
    connectTimeout: timeout,
    socketTimeout: timeout,
    reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500),
  },
})
client.on('error', (err) => print({ log: `redis client: ${err.message}` }))
// Each (re)connection, so a test that restarts Redis can wait until this service is back on it.
client.on('ready', () => print({ redis: 'ready' }))
await client.connect()

const sessionStore =
  config.sessionStore === 'connect-redis'
    ? new RedisStore({ client, prefix: config.sessionPrefix ?? 'sess:' })
    : new session.MemoryStore()
if (config.hold === 'first') {
  const destroy = sessionStore.destroy.bind(sessionStore)
  let held = false
  sessionStore.destroy = (sid, callback) => {
    if (held) return destroy(sid, callback)
    held = true
    print({ held: [sid] })
  }
}

// A provider object of its own (the Provider interface): the test IdP issues the tokens.
const provider = {
  name: 'test-idp',
  issuer: config.issuer,
  clientId: config.clientId,
  metadata: () => ({ idTokenSigningAlgValues: ['RS256'] }),
  endSession: () => ({}),
}

const auth = logout({
  provider,
  accessToken: { jwks: { keys: [config.jwk] }, issuer: config.issuer },
  baseURL: 'https://app.test',
  returnTo: { allowed: ['/bye'] },
  backchannel: { path: '/backchannel' },
  store: redisStore({ client, prefix: config.prefix, delivery: config.delivery }),
  ...(config.service === undefined ? {} : { service: config.service, sessionStore }),
  onLogout: (event) =>
    print({
      event: {
        reason: event.reason,
        sid: event.sid,
        sessionsDestroyed: event.sessionsDestroyed,
        sessionsHandedOver: event.sessionsHandedOver,
        errors: event.errors.map((e) => e.code),
      },
    }),
  logger: { warn: (message) => print({ log: message }), error: (message) => print({ log: message }) },
})

const app = express()
app.use(cookieParser())
app.use(session({ secret: 'service-secret', resave: false, saveUninitialized: false, store: sessionStore }))
app.use(auth)
// Signs the user in; the middleware links the session to the bearer token's sid on this request.
app.get('/login', (req, res) => {
  req.session.user = 'someone'
  res.json({ id: req.sessionID })
})
// Signs the user in with an opaque access token: nothing to verify, so the session is linked
// explicitly, the way the README's login recipes do it, and holds no link of its own.
app.get('/login-explicit', (req, res, next) => {
  req.session.user = 'someone'
  req.session.save(async (err) => {
    if (err) return next(err)
    try {
      const { sid, sub } = req.query
      await auth.link({ sid: String(sid), sub: String(sub), sessionId: req.sessionID })
      res.json({ id: req.sessionID })
    } catch (error) {
      next(error)
    }
  })
})
app.get('/api', auth.guard, (req, res) => {
  res.json({ service: config.name, user: req.session.user ?? null })
})
// Test-only introspection and admin actions (loopback only, like the whole service).
app.get('/admin/sessions', (_req, res, next) => {
  // MemoryStore answers an object keyed by session id; connect-redis an array of sessions with `id`.
  sessionStore.all((err, sessions) => {
    if (err) return next(err)
    res.json(Array.isArray(sessions) ? sessions.map((s) => s.id) : Object.keys(sessions ?? {}))
  })
})
app.post('/admin/revoke', express.json(), async (req, res, next) => {
  try {
    res.json({ destroyed: await auth.revoke(req.body) })
  } catch (err) {
    next(err)
  }
})
app.use((err, _req, res, _next) => {
  print({ log: `app error: ${err.code ?? err.message}` })
  res.status(500).json({ error: err.code ?? 'error' })
})

const server = createServer(app)
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
print({ url: `http://127.0.0.1:${server.address().port}` })

process.stdin.resume()
process.stdin.on('end', async () => {
  server.closeAllConnections()
  server.close()
  await client.close().catch(() => undefined)
  process.exit(0)
})
