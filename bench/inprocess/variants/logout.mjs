// The logout route (GET /logout with the user's access token and session cookie), by sso-logout
// and by its twin. Every operation logs out a fresh user: its session is stored and linked first.
// With `spec.filler`, sso-logout's store also holds that many other links (the scaling scenarios).
import express from 'express'
import { importJWK, jwtVerify } from 'jose'
import { fillRedis } from '../../redis-fill.mjs'
import {
  END_SESSION,
  ISSUER,
  SESSION_COOKIE,
  TOKEN_LIFETIME,
  bearer,
  inBatches,
  redisClient,
  session,
  sessionCount,
  sessionMiddleware,
  ssoOptions,
  ssoStore,
  storeSessions,
  userHeaders,
} from './common.mjs'
import { twinMemoryStore, twinRedisStore } from './twin-store.mjs'

const CLEARED = `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly`

export async function sso(ctx) {
  const stores = await ssoStore(ctx)
  const auth = ctx.pkg.logout(ssoOptions(ctx, stores.store))
  if (ctx.spec.filler) await fill(ctx, auth, stores, ctx.spec.filler)
  const sessionStore = new session.MemoryStore()
  const { users } = ctx
  await storeSessions(sessionStore, users)
  await inBatches(users.length, (i) =>
    auth.link({ sid: users[i].sid, sub: users[i].sub, sessionId: users[i].sessionId }),
  )
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.use(auth)
  return route(ctx, app, sessionStore)
}

/**
 * Links `count` sessions no request touches, each its own user. Memory: through the public
 * `link()`. Redis: bench/redis-fill.mjs writes the store's layout in bulk (a million script calls
 * would take minutes) and checks it through the store's own take(); the runner usually did so
 * already (`spec.prefilled`), while it prepared the users.
 */
async function fill(ctx, auth, { store, client }, count) {
  if (client)
    return ctx.spec.prefilled ? undefined : fillRedis(client, store, ctx.spec.prefix, count, 'inprocess')
  await inBatches(count, (i) =>
    auth.link({ sid: `fill-${i}`, sub: `fill-user-${i}`, sessionId: `fill-sess-${i}` }),
  )
}

/**
 * The least a logout does: refuse a cross-site request (403), verify the token, record the sid
 * as revoked (so the still-valid token is refused from now on), take the sid's linked sessions
 * from the index and destroy them, destroy the browser's own session, clear its cookie, send
 * no-store and redirect to the IdP's end-session endpoint. What it leaves out, and sso-logout
 * does: `returnTo` and Origin checks, tokens from other places, several issuers, tombstones
 * against in-flight writes, onLogout events.
 */
export async function twin(ctx) {
  const key = await importJWK(ctx.fixtures.rsPublic, 'RS256')
  const index =
    ctx.spec.store === 'redis'
      ? await twinRedisStore(await redisClient(ctx), ctx.spec.prefix, TOKEN_LIFETIME)
      : twinMemoryStore()
  const sessionStore = new session.MemoryStore()
  const { users } = ctx
  const at = Date.now()
  await storeSessions(sessionStore, users)
  await inBatches(users.length, (i) => index.link({ ...users[i], at }))
  const destroy = (id) =>
    new Promise((resolve, reject) => sessionStore.destroy(id, (e) => (e ? reject(e) : resolve())))
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.get('/logout', async (req, res, next) => {
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      res.statusCode = 403
      return res.end()
    }
    try {
      const payload = await verified(bearer(req), key)
      if (payload?.sid !== undefined) {
        const now = Date.now()
        const ids = await index.end({ sid: payload.sid }, now, now)
        await Promise.all(ids.filter((id) => id !== req.sessionID).map(destroy))
      }
      req.session.destroy((err) => {
        if (err) return next(err)
        res.statusCode = 302
        res.setHeader('Cache-Control', 'no-store')
        res.setHeader('Set-Cookie', CLEARED)
        res.setHeader('Location', END_SESSION)
        res.end()
      })
    } catch (err) {
      next(err)
    }
  })
  return route(ctx, app, sessionStore)
}

/** A token that does not verify logs nobody out but the browser's own session. */
async function verified(token, key) {
  if (token === undefined) return undefined
  try {
    return (await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['RS256'] })).payload
  } catch {
    return undefined
  }
}

function route(ctx, app, sessionStore) {
  return {
    handler: app,
    expect: 302,
    // A same-origin link, as a browser marks it (Fetch Metadata): sso-logout refuses a GET without proof.
    request: (i) => ({
      method: 'GET',
      url: '/logout',
      headers: { 'sec-fetch-site': 'same-origin', ...userHeaders(ctx.users[i]) },
    }),
    /** The first response, checked in full before anything is measured. */
    check(res) {
      const cookies = [res.getHeader('set-cookie') ?? []].flat().join('\n')
      if (res.getHeader('location') !== END_SESSION) return `Location is ${res.getHeader('location')}`
      if (!cookies.includes(`${SESSION_COOKIE}=;`)) return `the session cookie is not cleared (${cookies})`
      if (!String(res.getHeader('cache-control')).includes('no-store')) return 'no Cache-Control: no-store'
      return undefined
    },
    /** Sessions gone from the store: one per operation when every logout did its work. */
    async destroyed() {
      return ctx.users.length - (await sessionCount(sessionStore))
    },
  }
}
