// The express-openid-connect recipe of docs/login-recipes.md (its login, sso-logout's logout), as
// the app runs it: the code between the markers is the documentation's (docs.test.ts checks it).
import express from 'express'
import { auth as openidConnect } from 'express-openid-connect'
import { logout, oidc } from '../../../lib/index.js'

/**
 * Builds the recipe's app; `env` holds the values the recipe names (ISSUER, BASE_URL...), `extra`
 * is merged into express-openid-connect's options (a session store, a large session).
 */
export function createApp(env, extra = {}) {
  const { ISSUER, BASE_URL, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, onLogout } = env
  // recipe:start
  const app = express()
  const auth = logout({
    provider: oidc({
      issuer: ISSUER,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      idToken: 'session:id_token',
    }),
    baseURL: BASE_URL,
    // express-openid-connect's session is req.appSession, its tokens are its fields.
    session: 'express-openid-connect',
    accessToken: { from: ['session:access_token'] },
    backchannel: { path: '/backchannel-logout' },
    onLogout, // (test)
  })
  app.use(
    openidConnect({
      issuerBaseURL: ISSUER,
      baseURL: BASE_URL,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SESSION_SECRET,
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: 'openid' },
      // sso-logout's /logout ends the session, here and at the OP.
      routes: { logout: false },
      // The session being made is `session`, not req.appSession (express-openid-connect puts back
      // the old one after this hook and copies the returned one in): link that object.
      afterCallback: async (req, res, session) => {
        const { iss, sub } = req.oidc.idTokenClaims
        await auth.link({ iss, sub, sid: session.sid, session })
        return session
      },
      ...extra, // (test)
    }),
  )
  app.use(auth)
  // A logout elsewhere cannot reach a cookie: guard refuses (401) a logged-out session, and ends it.
  app.use(auth.guard)

  app.get('/api/me', (req, res) => {
    res.json({ user: req.oidc.user?.sub ?? null })
  })
  // recipe:end
  app.get('/', (req, res) => void res.json({ user: req.oidc.user?.sub ?? null }))
  return { app, auth }
}
