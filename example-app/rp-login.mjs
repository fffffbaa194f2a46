// Sign-in for the example apps with openid-client v6: the authorization code flow with PKCE
// (RFC 7636), then one call that links the new session to the Demo ID session for sso-logout.
import * as client from 'openid-client'
import { API_SCOPE } from './op.mjs'

const promisify = (fn) => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())))

/**
 * Adds `GET /login` and `GET /callback` for one app (`{ baseURL, issuer, clientId, clientSecret }`);
 * `mw` is the app's sso-logout middleware.
 */
export function loginRoutes(router, app, mw) {
  const redirectUri = `${app.baseURL}/callback`
  // Discovery (OpenID Connect Discovery 1.0 §4), once. Plain http is allowed only because Demo ID
  // runs on 127.0.0.1; drop `allowInsecureRequests` for a real provider.
  let configuration
  const discover = () => {
    configuration ??= client
      .discovery(new URL(app.issuer), app.clientId, app.clientSecret, client.ClientSecretBasic(), {
        execute: [client.allowInsecureRequests],
      })
      .catch((err) => {
        configuration = undefined
        throw err
      })
    return configuration
  }

  router.get('/login', async (req, res) => {
    const login = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
    }
    req.session.login = login
    const url = client.buildAuthorizationUrl(await discover(), {
      redirect_uri: redirectUri,
      scope: `openid profile email ${API_SCOPE}`,
      code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    })
    // express-session sends the response's headers before its own save completes, so with a
    // store over the network the provider can send the browser back to /callback before the
    // login data is stored: save it first.
    await new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())))
    res.redirect(303, url.href)
  })

  router.get('/callback', async (req, res) => {
    const login = req.session.login
    delete req.session.login
    if (!login) throw new Error('No sign-in is under way in this browser: click "Sign in" again.')
    // Checks state, PKCE and the ID token (signature, iss, aud, nonce), and redeems the code.
    const tokens = await client.authorizationCodeGrant(
      await discover(),
      new URL(req.originalUrl, app.baseURL),
      {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      },
    )
    const { sub, email, name } = tokens.claims()
    // A new session id at sign-in, so an id planted before it is worth nothing (session fixation).
    await promisify((cb) => req.session.regenerate(cb))
    req.session.user = { sub, email, name }
    req.session.accessToken = tokens.access_token
    req.session.refreshToken = tokens.refresh_token
    // Ties this session to the Demo ID session (the access token's sid), so a back-channel logout
    // ends it, and keeps the ID token where the logout reads it for `id_token_hint`.
    await mw.link(req, { idToken: tokens.id_token })
    await promisify((cb) => req.session.save(cb))
    res.redirect(303, '/')
  })
}
