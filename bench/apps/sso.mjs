// The sso-logout scenarios, built on the package as published (`dist/esm`, see ../package.mjs): the logout route
// (3, 4, 7), the guard (6), the back-channel receiver (8) and the two instances of the
// propagation trial (8). Each scenario gets its own store: memory, or Redis under its own prefix.
import express from 'express'
import { decodeJwt, jwtVerify, importJWK } from 'jose'
import { createClient } from 'redis'
import { BASE_URL, CLIENT_ID, ISSUER, RETURN_TO, TOKEN_LIFETIME } from '../config.mjs'
import { importPackage } from '../package.mjs'
import { fillRedis } from '../redis-fill.mjs'
import { preloadSessions, session, sessionMiddleware } from './sessions.mjs'

const pkg = importPackage
const BATCH = 5000

/** A custom `Provider` that ends the IdP session at the stand-in OP, as an OIDC provider would. */
function benchProvider(op) {
  return {
    name: 'bench-op',
    issuer: ISSUER,
    clientId: CLIENT_ID,
    metadata: () => ({ jwksUri: op.jwksUri, idTokenSigningAlgValues: ['RS256'] }),
    endSession: ({ returnTo }) => {
      const url = new URL(op.endSession)
      url.searchParams.set('client_id', CLIENT_ID)
      if (returnTo) url.searchParams.set('post_logout_redirect_uri', returnTo.href)
      return { redirect: url }
    },
  }
}

/** The scenario's sso-logout store; for Redis, also the client (the filler writes through it). */
async function makeStore(ctx) {
  const { memoryStore, redisStore } = await pkg()
  if (ctx.spec.store !== 'redis') return { store: memoryStore({ maxEntries: 4_000_000 }) }
  if (typeof redisStore !== 'function') throw new Error('redisStore is not in dist yet')
  const client = createClient({ url: ctx.spec.redisUrl })
  await client.connect()
  ctx.onClose.push(() => client.quit())
  return { store: redisStore({ client, prefix: ctx.spec.prefix }), client }
}

async function middleware(ctx, store, extra = {}) {
  const { logout } = await pkg()
  return logout({
    accessToken: { jwks: { keys: [ctx.keys.rsPublic] }, issuer: ISSUER },
    store,
    baseURL: BASE_URL,
    returnTo: { default: RETURN_TO },
    provider: benchProvider(ctx.op),
    ...extra,
  })
}

async function inBatches(count, fn) {
  for (let i = 0; i < count; i += BATCH) {
    const jobs = []
    for (let j = i; j < Math.min(count, i + BATCH); j++) jobs.push(fn(j))
    await Promise.all(jobs)
  }
}

/** Links `count` sessions that no request touches: the store's population in the scaling runs. */
async function fill(ctx, { store, client }, count) {
  const tag = String(count)
  if (client) return fillRedis(client, store, ctx.spec.prefix, count, tag)
  const at = Date.now()
  for (let i = 0; i < count; i++) {
    const record = {
      iss: ISSUER,
      sid: `fill-${tag}-${i}`,
      sub: `fill-user-${i}`,
      sessionId: `fill-sess-${tag}-${i}`,
      at,
    }
    const pending = store.link(record, TOKEN_LIFETIME)
    if (pending) await pending
  }
}

/** 3, 4, 7: the full logout route, one fresh linked session per request. */
export async function ssoLogout(ctx) {
  const stores = await makeStore(ctx)
  const { store } = stores
  if (ctx.spec.filler && !ctx.spec.fillerLoaded) await fill(ctx, stores, ctx.spec.filler)
  const sessionStore = new session.MemoryStore()
  const mw = await middleware(ctx, store)
  await preloadSessions(sessionStore, ctx)
  const { sids, subs, sessionIds } = ctx.slice
  await inBatches(sids.length, (i) => mw.link({ sid: sids[i], sub: subs[i], sessionId: sessionIds[i] }))
  const app = express()
  app.use(sessionMiddleware(sessionStore))
  app.use(mw)
  return app
}

function protectedRoute(_req, res) {
  res.setHeader('content-type', 'application/json')
  res.end('{"ok":true}')
}

/**
 * 6: a protected route. `upstream` is how the token was checked before it: `'decode'` (already
 * verified elsewhere; only its claims are read), `'verify'` (jose `jwtVerify` here) or `'none'`
 * (the guard verifies it itself). `guarded` mounts `guard` or not.
 */
export async function guardRoute(ctx, { upstream, guarded }) {
  const app = express()
  const key = await importJWK(ctx.keys.rsPublic, 'RS256')
  const token = (req) => (req.headers.authorization ?? '').slice(7)
  if (upstream === 'decode') {
    app.use((req, _res, next) => {
      req.auth = { payload: decodeJwt(token(req)) }
      next()
    })
  }
  if (upstream === 'verify') {
    app.use((req, _res, next) => {
      jwtVerify(token(req), key, { issuer: ISSUER, algorithms: ['RS256'] }).then(({ payload }) => {
        req.auth = { payload }
        next()
      }, next)
    })
  }
  if (guarded) {
    const claims = upstream === 'none' ? undefined : { claims: (req) => req.auth?.payload }
    const { store } = await makeStore(ctx)
    const mw = await middleware(ctx, store, claims ? { guard: claims } : {})
    app.get('/protected', mw.guard, protectedRoute)
  } else {
    app.get('/protected', protectedRoute)
  }
  return app
}

/**
 * 8: the back-channel receiver; each prepared logout token names one linked session. The links are
 * dated at the users' login, before the logout tokens were issued: the receiver spares sessions
 * linked after a token's `iat` (the IdP may have reused the sid), so linking now would spare all.
 */
export async function backchannel(ctx) {
  const { store } = await makeStore(ctx)
  const sessionStore = new session.MemoryStore()
  const mw = await middleware(ctx, store, {
    sessionStore,
    backchannel: { path: '/backchannel-logout', maxAge: TOKEN_LIFETIME },
  })
  await preloadSessions(sessionStore, ctx)
  const { sids, subs, sessionIds, loginAt } = ctx.slice
  await inBatches(sids.length, (i) =>
    store.link(
      { iss: ISSUER, sid: sids[i], sub: subs[i], sessionId: sessionIds[i], at: loginAt },
      TOKEN_LIFETIME,
    ),
  )
  const app = express()
  app.use(mw)
  return app
}

/** 8: instance A (logs out) and instance B (guards), sharing one Redis prefix. */
export async function propagation(ctx) {
  const { store } = await makeStore(ctx)
  const mw = await middleware(ctx, store)
  const app = express()
  app.use(mw)
  app.get('/protected', mw.guard, protectedRoute)
  return app
}
