// One example app (Notes or Calendar): signs in through the OP, keeps the tokens in an
// express-session, and uses sso-logout for logout, back-channel logout, guard and revoke.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { decodeJwt } from 'jose'
import { checkLogoutState, logout, oidc } from '../dist/esm/index.js'
import { codeFlow } from './rp-login.mjs'
import { errorPage, signedInPage, signedOutPage } from './rp-pages.mjs'
import { sendPage } from './html.mjs'

const promisify = (fn) => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())))

function sameString(a, b) {
  const x = Buffer.from(String(a ?? ''))
  const y = Buffer.from(String(b ?? ''))
  return x.length > 0 && x.length === y.length && timingSafeEqual(x, y)
}

// A form post from another site must not act for the user: the browser says where it came from.
function fromOwnOrigin(req, origin) {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false
  const sent = req.headers.origin
  return sent === undefined || sent === origin
}

function logoutOptions(app, sessionStore) {
  return {
    provider: oidc({
      issuer: app.issuer,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      idToken: 'session:idToken',
      // RFC 7009: the refresh token is revoked at the OP before the browser is sent there.
      revoke: ['refresh_token'],
    }),
    baseURL: app.baseURL,
    // revoke() runs outside any request, so it needs the store to destroy sessions in.
    sessionStore,
    returnTo: { allowed: ['/'] },
    backchannel: { path: '/backchannel-logout' },
    onLogout: (event) => {
      const why = event.errors.map((e) => e.code).join(', ')
      console.log(
        `[${app.name}] logout (${event.reason}): ${event.sessionsDestroyed} session(s) ended${why ? ` (${why})` : ''}`,
      )
    },
  }
}

function loginRoutes(router, app, mw) {
  const flow = codeFlow({ ...app, redirectUri: `${app.baseURL}/callback` })
  router.get('/login', async (req, res) => {
    res.redirect(303, (await flow.start(req)).href)
  })
  router.get('/callback', async (req, res) => {
    const { claims, tokens } = await flow.finish(req)
    // A new session id at sign-in, so an id planted before it is worth nothing (session fixation).
    await promisify((cb) => req.session.regenerate(cb))
    req.session.user = { sub: claims.sub, email: claims.email, name: claims.name }
    req.session.idToken = tokens.id_token
    req.session.accessToken = tokens.access_token
    req.session.refreshToken = tokens.refresh_token
    req.session.csrf = randomBytes(24).toString('base64url')
    // Ties this session to the OP session (the token's sid), so a back-channel logout can end it.
    await mw.link(req)
    await promisify((cb) => req.session.save(cb))
    res.redirect(303, '/')
  })
}

function pageRoutes(router, app, mw) {
  router.get('/', mw.guard, (req, res) => {
    const user = req.session.user
    // The OP sends the browser back here with the `state` the logout route issued: check it.
    const returned = typeof req.query.state === 'string' ? { stateOk: checkLogoutState(req, res) } : {}
    if (!user) return sendPage(res, signedOutPage(app, { ...req.query, ...returned }))
    const sid = decodeJwt(req.session.accessToken).sid
    sendPage(res, signedInPage(app, { user, sid, csrf: req.session.csrf }))
  })
  router.post(
    '/logout-everywhere',
    express.urlencoded({ extended: false, limit: '1kb' }),
    async (req, res) => {
      const user = req.session.user
      if (
        !user ||
        !fromOwnOrigin(req, new URL(app.baseURL).origin) ||
        !sameString(req.body?.csrf, req.session.csrf)
      ) {
        return sendPage(res, errorPage(app, 'Refused: this form did not come from this page.'), 403)
      }
      const ended = await mw.revoke({ sub: user.sub })
      await promisify((cb) => req.session.destroy(cb))
      res.redirect(303, `/?revoked=${ended}`)
    },
  )
}

/**
 * Builds one example app. `app` is `{ name, accent, baseURL, issuer, clientId, clientSecret,
 * cookieName, itemsTitle, items, peer: { name, url } }`.
 */
export function createRelyingParty(app) {
  const server = express()
  server.disable('x-powered-by')
  const store = new session.MemoryStore()
  server.use(
    session({
      name: app.cookieName,
      secret: randomBytes(32).toString('base64url'),
      store,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', path: '/' },
    }),
  )
  const mw = logout(logoutOptions(app, store))
  server.use(mw)
  loginRoutes(server, app, mw)
  pageRoutes(server, app, mw)
  server.use((err, _req, res, _next) => {
    console.error(`[${app.name}]`, err)
    const status = Number.isInteger(err?.status) && err.status >= 400 ? err.status : 500
    sendPage(res, errorPage(app, err instanceof Error ? err.message : String(err)), status)
  })
  return server
}
