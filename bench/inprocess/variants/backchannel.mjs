// OIDC Back-Channel Logout (POST /backchannel-logout with a form-encoded logout_token), by
// sso-logout's receiver and by its twin. Every operation is a fresh logout token naming one
// user's sid, whose session was stored and linked at login, before the token was issued.
import express from 'express'
import { importJWK, jwtVerify } from 'jose'
import { formBody } from '../inject.mjs'
import {
  CLIENT_ID,
  ISSUER,
  TOKEN_LIFETIME,
  inBatches,
  redisClient,
  session,
  sessionCount,
  ssoOptions,
  ssoStore,
  storeSessions,
} from './common.mjs'
import { twinMemoryStore, twinRedisStore } from './twin-store.mjs'

const PATH = '/backchannel-logout'
const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const BODY_LIMIT = 16384

export async function sso(ctx) {
  const { store } = await ssoStore(ctx)
  const sessionStore = new session.MemoryStore()
  const auth = ctx.pkg.logout(
    ssoOptions(ctx, store, { sessionStore, backchannel: { path: PATH, maxAge: TOKEN_LIFETIME } }),
  )
  const { users } = ctx
  await storeSessions(sessionStore, users)
  // Through the store's contract rather than link(), which dates a link now: after the tokens'
  // iat, so the receiver would rightly spare every session (the IdP may reuse a sid).
  await inBatches(users.length, (i) =>
    store.link({ iss: ISSUER, ...pickIds(users[i]), at: ctx.fixtures.loginAt }, TOKEN_LIFETIME),
  )
  const app = express()
  app.use(auth)
  return route(ctx, app, sessionStore)
}

const pickIds = ({ sid, sub, sessionId }) => ({ sid, sub, sessionId })

/**
 * The least a receiver does (BCL 1.0 §2.6 to §2.8): read the form body within a limit, exactly one
 * logout_token, verify it with the pinned algorithm, issuer, audience, age and required claims,
 * check `typ` when present, the event member, no nonce, sid or sub; claim the jti once; record the
 * revocation; take the sessions linked before the token's iat and destroy them; 200 no-store.
 * Left out, and done by sso-logout: encrypted tokens, tombstones, releasing the jti when a
 * destroy fails, onLogout events.
 */
export async function twin(ctx) {
  const key = await importJWK(ctx.fixtures.rsPublic, 'RS256')
  const index =
    ctx.spec.store === 'redis'
      ? await twinRedisStore(await redisClient(ctx), ctx.spec.prefix, TOKEN_LIFETIME)
      : twinMemoryStore()
  const sessionStore = new session.MemoryStore()
  const { users } = ctx
  await storeSessions(sessionStore, users)
  await inBatches(users.length, (i) => index.link({ ...users[i], at: ctx.fixtures.loginAt }))
  const destroy = (id) =>
    new Promise((resolve, reject) => sessionStore.destroy(id, (e) => (e ? reject(e) : resolve())))
  const app = express()
  app.post(PATH, async (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    let claims
    try {
      claims = await logoutClaims(await readForm(req), key)
    } catch (err) {
      return refuse(res, err.message)
    }
    try {
      const at = Math.min(claims.iat * 1000 + 999, Date.now())
      const subject = claims.sid !== undefined ? { sid: claims.sid } : { sub: claims.sub }
      const ids = await endOnce(index, subject, at, claims.jti)
      if (ids === null) return refuse(res, 'The logout token was already received')
      await Promise.all(ids.map(destroy))
      res.statusCode = 200
      res.setHeader('Content-Length', 0)
      res.end()
    } catch (err) {
      next(err)
    }
  })
  return route(ctx, app, sessionStore)
}

/** Claims the jti, then ends the subject; resolves to the ids taken, or null for a replay. */
async function endOnce(index, subject, at, jti) {
  if (index.claimJti) return index.claimJti(jti) ? index.end(subject, at, at) : null
  // Redis: claim and end in one script call.
  return index.end(subject, at, at, jti, TOKEN_LIFETIME)
}

function readForm(req) {
  if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
    return Promise.reject(new Error('The body must be a form'))
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > BODY_LIMIT) reject(new Error('The body is too large'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))))
    req.on('error', reject)
  })
}

async function logoutClaims(form, key) {
  const tokens = form.getAll('logout_token')
  if (tokens.length !== 1) throw new Error('Exactly one logout_token is required')
  const { payload, protectedHeader } = await jwtVerify(tokens[0], key, {
    issuer: ISSUER,
    audience: CLIENT_ID,
    algorithms: ['RS256'],
    maxTokenAge: TOKEN_LIFETIME,
    requiredClaims: ['iat', 'jti', 'events'],
  })
  const typ = protectedHeader.typ?.toLowerCase()
  if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'application/logout+jwt')
    throw new Error('Wrong typ')
  const event = payload.events?.[BCL_EVENT]
  if (typeof event !== 'object' || event === null) throw new Error('No back-channel logout event')
  if (payload.nonce !== undefined) throw new Error('A logout token has no nonce')
  if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string') throw new Error('No sid or sub')
  return payload
}

function refuse(res, description) {
  res.statusCode = 400
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify({ error: 'invalid_request', error_description: description }))
}

function route(ctx, app, sessionStore) {
  return {
    handler: app,
    expect: 200,
    request(i) {
      const { body, headers } = formBody({ logout_token: ctx.users[i].logoutToken })
      return { method: 'POST', url: PATH, headers, body }
    },
    check: (res) => (String(res.getHeader('cache-control')).includes('no-store') ? undefined : 'no no-store'),
    async destroyed() {
      return ctx.users.length - (await sessionCount(sessionStore))
    },
  }
}
