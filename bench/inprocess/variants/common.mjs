// What the variants share: sso-logout configured for the job its twins do (one issuer, one key,
// the token in the Authorization header), the express-session set-up, the prepared sessions, and
// the stores (sso-logout's, and the twins' minimal ones in twin-store.mjs).
import { BASE_URL, CLIENT_ID, ISSUER, RETURN_TO, TOKEN_LIFETIME } from '../../config.mjs'
import { buildCopy } from '../../package.mjs'
import { MEMORY_MAX_ENTRIES } from '../config.mjs'

export { session, sessionMiddleware, SESSION_COOKIE } from '../../apps/sessions.mjs'

export const inprocessBuild = buildCopy('sso-logout-bench-inprocess')

/**
 * Where the bench's provider sends the browser: a constant, because the twins redirect to a
 * constant too (an OIDC provider adds an `id_token_hint` per user; neither side does here).
 */
export const END_SESSION = `http://127.0.0.1:9/session/end?${new URLSearchParams({
  client_id: CLIENT_ID,
  post_logout_redirect_uri: RETURN_TO,
})}`

/** A custom `Provider` (the public contract) that ends the IdP session with a redirect. */
function benchProvider() {
  const redirect = new URL(END_SESSION)
  return {
    name: 'bench-op',
    issuer: ISSUER,
    clientId: CLIENT_ID,
    metadata: () => ({ idTokenSigningAlgValues: ['RS256'] }),
    endSession: () => ({ redirect }),
  }
}

/**
 * logout() options for the job the twins do: the same single key and algorithm the twins verify
 * with, and the token read only where the requests carry it (the default sources would also look
 * for a cookie and a session field, which the twins do not).
 */
export function ssoOptions(ctx, store, extra = {}) {
  return {
    accessToken: { from: ['header'], key: ctx.fixtures.rsPublic, issuer: ISSUER, algorithms: ['RS256'] },
    store,
    baseURL: BASE_URL,
    returnTo: { default: RETURN_TO },
    provider: benchProvider(),
    ...extra,
  }
}

/**
 * A node-redis client of this process, closed when the variant stops. Imported here, not at the
 * top: memory variants need not load it, and a quick run starts many processes.
 */
/**
 * Commands this process has sent through the clients of redisClient(), for the report's commands
 * per operation: an exact count where CPU figures are noisy. A store's subscriber (a duplicate()
 * of the client) and the commands scripts run inside Redis are not counted: each script call is one.
 */
export const redisCommands = { sent: 0 }

export async function redisClient(ctx) {
  const { createClient } = await import('redis')
  const client = createClient({ url: ctx.spec.redisUrl })
  client.on('error', (err) => process.stderr.write(`redis client: ${err.message}\n`))
  await client.connect()
  const send = client.sendCommand.bind(client)
  client.sendCommand = (...args) => {
    redisCommands.sent++
    return send(...args)
  }
  ctx.onClose.push(() => client.quit())
  return client
}

/** sso-logout's store for the variant: memory, or Redis under the variant's own prefix. */
export async function ssoStore(ctx) {
  const { memoryStore, redisStore } = ctx.pkg
  if (ctx.spec.store !== 'redis') {
    const store = memoryStore({ maxEntries: MEMORY_MAX_ENTRIES })
    ctx.onClose.push(() => store.close?.())
    return { store }
  }
  const client = await redisClient(ctx)
  return { store: redisStore({ client, prefix: ctx.spec.prefix }), client }
}

/** Runs `fn(i)` for i < count, `size` at a time. */
export async function inBatches(count, fn, size = 5000) {
  for (let i = 0; i < count; i += size) {
    const jobs = []
    for (let j = i; j < Math.min(count, i + size); j++) jobs.push(fn(j))
    await Promise.all(jobs)
  }
}

/**
 * Stores one logged-in session per user in an express-session store, as a login would have left
 * it; `extra(user)` adds fields (the guard scenarios' link). Both sides of every pair get the same
 * session data, so express-session's parse and touch cost the same on both.
 */
export async function storeSessions(store, users, extra = () => ({})) {
  const expires = new Date(Date.now() + TOKEN_LIFETIME * 1000).toISOString()
  const cookie = { originalMaxAge: TOKEN_LIFETIME * 1000, expires, httpOnly: true, path: '/' }
  await inBatches(users.length, (i) => {
    const user = users[i]
    const data = { cookie, user: { sub: user.sub }, ...extra(user) }
    return new Promise((resolve, reject) =>
      store.set(user.sessionId, data, (e) => (e ? reject(e) : resolve())),
    )
  })
}

/** How many sessions an express-session MemoryStore holds. */
export function sessionCount(store) {
  return new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))
}

export function bearer(req) {
  const header = req.headers.authorization
  return header !== undefined && header.startsWith('Bearer ') ? header.slice(7) : undefined
}

/** The headers of a browser request of `user`: its access token and its session cookie. */
export function userHeaders(user) {
  return { authorization: `Bearer ${user.token}`, cookie: `connect.sid=${user.cookie}` }
}

export { CLIENT_ID, ISSUER, TOKEN_LIFETIME }
