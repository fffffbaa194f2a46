// A protected route (GET /protected) in an app with express-session and sso-logout mounted
// app-wide, in steady state: every request carries a valid access token and the cookie of its
// stored session, which was linked at login; the store already holds revocations of other users.
// sso-logout's side is `auth.guard` verifying the token itself; the twin is the route verifying
// the token itself and looking its sid and sub up in the revocation list.
import express from 'express'
import { importJWK, jwtVerify } from 'jose'
import { GUARD_REVOKED } from '../config.mjs'
import {
  ISSUER,
  TOKEN_LIFETIME,
  bearer,
  inBatches,
  redisClient,
  session,
  sessionMiddleware,
  ssoOptions,
  ssoStore,
  storeSessions,
  userHeaders,
} from './common.mjs'
import { twinMemoryStore, twinRedisStore } from './twin-store.mjs'

const BODY = '{"ok":true}'

function protectedRoute(_req, res) {
  res.setHeader('content-type', 'application/json')
  res.end(BODY)
}

/** The field and shape sso-logout's link leaves in a session; the twin reads the same field. */
const linkOf = (user, at) => ({ ssoLogout: { iss: ISSUER, sid: user.sid, sub: user.sub, at } })

export async function sso(ctx) {
  const { store } = await ssoStore(ctx)
  const auth = ctx.pkg.logout(ssoOptions(ctx, store))
  const { users } = ctx
  const at = Date.now() - 1000
  const sessionStore = new session.MemoryStore()
  await storeSessions(sessionStore, users, (u) => linkOf(u, at))
  await inBatches(users.length, (i) =>
    auth.link({ sid: users[i].sid, sub: users[i].sub, sessionId: users[i].sessionId }),
  )
  await inBatches(GUARD_REVOKED, (i) => store.revoke({ iss: ISSUER, sid: `gone-${i}` }, at, TOKEN_LIFETIME))
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.use(auth)
  app.get('/protected', auth.guard, protectedRoute)
  return route(ctx, app)
}

export async function twin(ctx) {
  const key = await importJWK(ctx.fixtures.rsPublic, 'RS256')
  const index =
    ctx.spec.store === 'redis'
      ? await twinRedisStore(await redisClient(ctx), ctx.spec.prefix, TOKEN_LIFETIME)
      : twinMemoryStore()
  const { users } = ctx
  const at = Date.now() - 1000
  const sessionStore = new session.MemoryStore()
  await storeSessions(sessionStore, users, (u) => linkOf(u, at))
  await inBatches(users.length, (i) => index.link({ ...users[i], at }))
  await inBatches(GUARD_REVOKED, (i) => index.revoke({ sid: `gone-${i}` }, at))
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.get('/protected', async (req, res, next) => {
    let payload
    try {
      ;({ payload } = await jwtVerify(bearer(req) ?? '', key, { issuer: ISSUER, algorithms: ['RS256'] }))
    } catch {
      res.statusCode = 401
      return res.end()
    }
    try {
      // The session's own link counts too when it names another sid or sub than the token.
      const link = req.session.ssoLogout
      const other = link && (link.sid !== payload.sid || link.sub !== payload.sub)
      const revoked = await index.revokedAt(payload)
      const linkRevoked = other ? await index.revokedAt(link) : undefined
      if ((revoked !== undefined && payload.iat * 1000 <= revoked) || (other && linkRevoked >= link.at)) {
        res.statusCode = 401
        return res.end()
      }
    } catch (err) {
      return next(err)
    }
    protectedRoute(req, res)
  })
  return route(ctx, app)
}

function route(ctx, app) {
  return {
    handler: app,
    expect: 200,
    request: (i) => ({ method: 'GET', url: '/protected', headers: userHeaders(ctx.users[i]) }),
    check: (res) => (res.getHeader('content-type') === 'application/json' ? undefined : 'not the route'),
  }
}
