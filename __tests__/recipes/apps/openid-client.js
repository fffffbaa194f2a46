// The openid-client v6 recipe of docs/login-recipes.md, as the app runs it: the recipe's code
// between the markers is the documentation's (docs.test.ts checks it, line for line).
import express from 'express'
import session from 'express-session'
import * as client from 'openid-client'
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
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }))
  app.use(auth)

  app.get('/login', async (req, res) => {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    req.session.login = { verifier, state }
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${BASE_URL}/callback`,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })
    res.redirect(url.href)
  })

  app.get('/callback', async (req, res) => {
    const { verifier, state } = req.session.login ?? {}
    const tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, BASE_URL), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    // A new session id at login (session fixation): link the new session, after this.
    await new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())))
    req.session.user = tokens.claims().sub
    req.session.accessToken = tokens.access_token
    // Verifies the access token, links this session to its sid, keeps the ID token for id_token_hint.
    await auth.link(req, { idToken: tokens.id_token })
    res.redirect('/')
  })

  app.get('/api/me', auth.guard, (req, res) => {
    res.json({ user: req.session.user ?? null })
  })
  // recipe:end
  app.get('/', (req, res) => void res.json({ user: req.session.user ?? null }))
  return { app, auth }
}
