// One example app (Notes or Calendar): signs in through the OP with openid-client, keeps the tokens
// in an express-session, and uses sso-logout for logout, "log out everywhere", back-channel logout
// and guard.
import { randomBytes } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { decodeJwt } from 'jose'
import { logout, logoutStateOf, oidc } from '../dist/esm/index.js'
import { loginRoutes } from './rp-login.mjs'
import { errorPage, signedInPage, signedOutPage } from './rp-pages.mjs'
import { favicon, sendPage } from './html.mjs'

function logoutOptions(app, sessionStore, store) {
  return {
    provider: oidc({
      issuer: app.issuer,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      // RFC 7009: the refresh token is revoked at the OP once the browser is back from it.
      revoke: ['refresh_token'],
    }),
    baseURL: app.baseURL,
    // This app's name among the services sharing `store`. Its links carry it, so a logout in the
    // other app hands this app's sessions over to it instead of destroying them in the wrong store.
    service: app.id,
    // revoke() and "everywhere" end sessions of other browsers: they need the store to find them in.
    // Given here, it also lets the middleware destroy at once, from its construction on, the
    // sessions the other app hands over.
    sessionStore,
    store,
    returnTo: { allowed: ['/'] },
    onLogout: (event) => {
      const why = event.errors.map((e) => e.code).join(', ')
      const handed = event.sessionsHandedOver ? `, ${event.sessionsHandedOver} handed over` : ''
      console.log(
        `[${app.name}] logout (${event.reason}): ${event.sessionsDestroyed} session(s) ended${handed}${why ? ` (${why})` : ''}`,
      )
    },
  }
}

function homeRoute(router, app, mw) {
  router.get('/', mw.guard, (req, res) => {
    const user = req.session.user
    // Demo ID sends the browser back here with the logout's `state`: a fresh return, a reload or
    // Back ('used'), or a state this browser never had ('unknown') each get their own calm line.
    const returned = 'state' in req.query ? logoutStateOf(req, res) : undefined
    if (!user) return sendPage(res, signedOutPage(app, returned))
    const sid = decodeJwt(req.session.accessToken).sid
    sendPage(res, signedInPage(app, { user, sid, returned }))
  })
}

/**
 * Builds one example app. `app` is `{ id, name, accent, baseURL, issuer, clientId, clientSecret,
 * cookieName, itemsTitle, items, peer: { name, url } }`; `sessionStore` is the app's own
 * express-session store and `store` the sso-logout store both apps share.
 */
export function createRelyingParty(app, { sessionStore, store }) {
  const server = express()
  server.disable('x-powered-by')
  server.get('/favicon.ico', favicon(app.name[0], app.accent))
  server.use(
    session({
      name: app.cookieName,
      secret: randomBytes(32).toString('base64url'),
      store: sessionStore,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', path: '/' },
    }),
  )
  // One store for both routes below and for the other app: the sid index, the revocations `guard`
  // checks, and the hand-over of each app's sessions to the app that owns them.
  const options = logoutOptions(app, sessionStore, store)
  const mw = logout({ ...options, backchannel: { path: '/backchannel-logout' } })
  // "Log out everywhere" is the same logout on its own path that also ends every session of the
  // user, in every browser and in both apps (`everywhere: true` revokes the user's `sub`): this
  // app's sessions here, the other app's by hand-over, destroyed there at once with no request.
  const everywhere = logout({ ...options, path: '/logout-everywhere', methods: ['POST'], everywhere: true })
  server.use(mw)
  server.post('/logout-everywhere', everywhere)
  loginRoutes(server, app, mw)
  homeRoute(server, app, mw)
  server.use((err, _req, res, _next) => {
    console.error(`[${app.name}]`, err)
    const status = Number.isInteger(err?.status) && err.status >= 400 ? err.status : 500
    sendPage(res, errorPage(app, err instanceof Error ? err.message : String(err)), status)
  })
  return server
}
