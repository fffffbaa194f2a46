// The passport 0.7 recipe of docs/login-recipes.md (openid-client's passport strategy), as the app
// runs it: the code between the markers is the documentation's (docs.test.ts checks it).
import express from 'express'
import session from 'express-session'
import passport from 'passport'
import { Strategy } from 'openid-client/passport'
import { logout, oidc } from '../../../lib/index.js'

/** Builds the recipe's app; `env` holds the values the recipe names (ISSUER, BASE_URL, config...). */
export function createApp(env) {
  const { ISSUER, BASE_URL, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, config, onLogout } = env
  // recipe:start
  const app = express()
  const auth = logout({
    provider: oidc({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    baseURL: BASE_URL,
    backchannel: { path: '/backchannel-logout' },
    onLogout, // (test)
  })

  const strategy = { config, scope: 'openid', callbackURL: `${BASE_URL}/callback`, passReqToCallback: true }
  passport.use(
    'oidc',
    new Strategy(strategy, (req, tokens, verified) => {
      const { iss, sub, sid } = tokens.claims()
      // req.login regenerates the session after this callback (passport 0.6+): the link and the
      // ID token move to the new session with it, so the logged-in session is the one linked.
      auth
        .link({ iss, sub, sid, req, idToken: tokens.id_token })
        .then(() => verified(null, { sub }), verified)
    }),
  )
  passport.serializeUser((user, done) => done(null, user))
  passport.deserializeUser((user, done) => done(null, user))

  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }))
  app.use(passport.session())
  app.use(auth)

  app.get('/login', passport.authenticate('oidc'))
  app.get('/callback', passport.authenticate('oidc', { successRedirect: '/', failureRedirect: '/login' }))

  app.get('/api/me', auth.guard, (req, res) => {
    res.json({ user: req.user?.sub ?? null })
  })
  // recipe:end
  app.get('/', (req, res) => void res.json({ user: req.user?.sub ?? null }))
  return { app, auth, passport }
}
