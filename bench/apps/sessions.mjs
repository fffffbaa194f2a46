// express-session set-up shared by every logout scenario, and the preloading of one fresh session
// per prepared user (written straight into the MemoryStore, as a login would have left it).
import session from 'express-session'
import { SESSION_SECRET, TOKEN_LIFETIME } from '../config.mjs'

export const SESSION_COOKIE = 'connect.sid'

export function sessionMiddleware(store) {
  return session({
    secret: SESSION_SECRET,
    name: SESSION_COOKIE,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, path: '/', maxAge: TOKEN_LIFETIME * 1000 },
  })
}

/**
 * Creates one logged-in session per user of the slice; resolves when all are stored. The store is
 * remembered on `ctx` so the server can report, when it stops, how many sessions the run destroyed.
 */
export async function preloadSessions(store, ctx) {
  const slice = ctx.slice
  const expires = new Date(Date.now() + TOKEN_LIFETIME * 1000).toISOString()
  const cookie = { originalMaxAge: TOKEN_LIFETIME * 1000, expires, httpOnly: true, path: '/' }
  await Promise.all(
    slice.sessionIds.map(
      (id, i) =>
        new Promise((resolve, reject) =>
          store.set(id, { cookie, user: { sub: slice.subs[i] } }, (err) => (err ? reject(err) : resolve())),
        ),
    ),
  )
  ctx.sessions = { store, preloaded: slice.sessionIds.length }
}

/** How many preloaded sessions are gone from the store. */
export function destroyedCount(sessions) {
  return new Promise((resolve, reject) =>
    sessions.store.length((err, n) => (err ? reject(err) : resolve(sessions.preloaded - n))),
  )
}

export { session }
