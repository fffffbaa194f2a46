// The cookie-session recipe of docs/login-recipes.md (openid-client for the login), as the app runs
// it: the code between the markers is the documentation's (docs.test.ts checks it).
import cookieSession from 'cookie-session'
import express from 'express'
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
  // Signed (the default): the session, and the link in it, cannot be forged or edited by the browser.
  app.use(cookieSession({ name: 'session', keys: [SESSION_SECRET], maxAge: 8 * 3600 * 1000 }))
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
    // A new session object at login; the access token stays out of the cookie, the ID token is kept.
    req.session = { user: tokens.claims().sub }
    const { iss, sub, sid } = tokens.claims()
    await auth.link({ iss, sub, sid, req, idToken: tokens.id_token })
    res.redirect('/')
  })

  // Everything after this sees a session logged out elsewhere refused (401) and its cookie cleared:
  // a logout elsewhere cannot reach a cookie, so guard is where it ends.
  app.use(auth.guard)

  app.get('/api/me', (req, res) => {
    res.json({ user: req.session.user ?? null })
  })
  // recipe:end
  app.get('/', (req, res) => void res.json({ user: req.session?.user ?? null }))
  return { app, auth }
}
