// The reference routes, written by hand with no abstraction: the floor (a bare 302), the floor
// plus one jose verification (RS256 or ES256), and the limit: exactly the unavoidable work of a
// logout (verify, destroy the session, one index lookup, clear the cookie, 302).
import express from 'express'
import { importJWK, jwtVerify } from 'jose'
import { ISSUER } from '../config.mjs'
import { preloadSessions, SESSION_COOKIE, session, sessionMiddleware } from './sessions.mjs'

const CLEARED = `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly`

function redirect(res, location) {
  res.statusCode = 302
  res.setHeader('location', location)
  res.setHeader('cache-control', 'no-store')
  res.end()
}

function bearer(req) {
  const header = req.headers.authorization ?? ''
  return header.startsWith('Bearer ') ? header.slice(7) : ''
}

/** 1. A bare Express route answering 302 with a `Location`. */
export function floor(ctx) {
  const app = express()
  app.get('/logout', (req, res) => redirect(res, ctx.op.logoutUrl))
  return app
}

/** 2. The floor after `jwtVerify` of the bearer token with a local key. */
export async function verify(ctx, alg) {
  const key = await importJWK(alg === 'ES256' ? ctx.keys.esPublic : ctx.keys.rsPublic, alg)
  const app = express()
  app.get('/logout', async (req, res, next) => {
    try {
      await jwtVerify(bearer(req), key, { issuer: ISSUER, algorithms: [alg] })
      redirect(res, ctx.op.logoutUrl)
    } catch (err) {
      next(err)
    }
  })
  return app
}

/** 2b. The limit: verify, one index lookup, `req.session.destroy`, clear the cookie, 302. */
export async function limit(ctx) {
  const key = await importJWK(ctx.keys.rsPublic, 'RS256')
  const store = new session.MemoryStore()
  await preloadSessions(store, ctx)
  const index = new Map(ctx.slice.sids.map((sid, i) => [`${ISSUER}\u0000${sid}`, [ctx.slice.sessionIds[i]]]))
  const app = express()
  app.use(sessionMiddleware(store))
  app.get('/logout', async (req, res, next) => {
    try {
      const { payload } = await jwtVerify(bearer(req), key, { issuer: ISSUER, algorithms: ['RS256'] })
      const key_ = `${payload.iss}\u0000${payload.sid}`
      const linked = index.get(key_) ?? []
      index.delete(key_)
      for (const id of linked) if (id !== req.sessionID) store.destroy(id)
      req.session.destroy((err) => {
        if (err) return next(err)
        res.setHeader('set-cookie', CLEARED)
        redirect(res, ctx.op.logoutUrl)
      })
    } catch (err) {
      next(err)
    }
  })
  return app
}
