// "Demo ID": a real OpenID Provider (oidc-provider v9) with one demo user and the example's two
// apps registered as first-party clients (authorization code + PKCE, RP-initiated logout,
// back-channel logout with sid, revocation, JWT access tokens carrying sid).
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import express from 'express'
import Provider from 'oidc-provider'
import {
  ACCENT,
  loginPage,
  logoutSource,
  opHomePage,
  postLogoutSuccessSource,
  renderError,
} from './op-pages.mjs'
import { favicon, sendPage } from './html.mjs'

export const DEMO_USER = { sub: 'demo-user', email: 'demo@example.test', name: 'Dana Demo' }
/** The API the access tokens are for; a resource indicator (RFC 8707) makes them JWTs. */
export const API_RESOURCE = 'urn:sso-logout-example:api'
export const API_SCOPE = 'api:read'

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...privateKey.export({ format: 'jwk' }), kid: 'demo-rs256', use: 'sig', alg: 'RS256' }
}

function clientMetadata({ id, name, secret, baseURL }) {
  return {
    client_id: id,
    client_secret: secret,
    client_name: name,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [`${baseURL}/callback`],
    post_logout_redirect_uris: [`${baseURL}/`],
    backchannel_logout_uri: `${baseURL}/backchannel-logout`,
    backchannel_logout_session_required: true,
  }
}

async function findAccount(_ctx, id) {
  if (id !== DEMO_USER.sub) return undefined
  return {
    accountId: id,
    claims: () => ({ sub: id, email: DEMO_USER.email, email_verified: true, name: DEMO_USER.name }),
  }
}

// Every client here is first-party, so consent is granted without asking (the documented way to
// skip the consent prompt in oidc-provider is to return a grant from loadExistingGrant).
async function loadExistingGrant(ctx) {
  const { client, session, provider } = ctx.oidc
  const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId)
  const existing = grantId ? await provider.Grant.find(grantId) : undefined
  if (existing || !session.accountId) return existing
  const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId })
  grant.addOIDCScope('openid profile email')
  grant.addResourceScope(API_RESOURCE, API_SCOPE)
  await grant.save()
  return grant
}

// oidc-provider refuses outgoing requests to loopback addresses (SSRF guard). The apps of this demo
// live on 127.0.0.1, so the guard is replaced by an exact allow-list of their origins.
function allowListFetch(origins) {
  return (url, { dispatcher: _ssrfGuard, ...options }) => {
    if (!origins.has(new URL(url).origin)) return Promise.reject(new Error(`fetch to ${url} not allowed`))
    return globalThis.fetch(url, options)
  }
}

function configuration(clients) {
  return {
    clients: clients.map(clientMetadata),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount,
    loadExistingGrant,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The apps read the user from the ID token instead of calling userinfo.
    conformIdTokenClaims: false,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Lifetimes in seconds; short, because everything lives in memory for one demo run.
    ttl: {
      Interaction: 600,
      Session: 28800,
      Grant: 28800,
      IdToken: 3600,
      AccessToken: 600,
      RefreshToken: 28800,
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The OP's own per-client session id, so a resource server can tie the token to its session.
    extraTokenClaims: async (_ctx, token) =>
      token.kind === 'AccessToken' && token.sid ? { sid: token.sid } : undefined,
    fetch: allowListFetch(new Set(clients.map((c) => new URL(c.baseURL).origin))),
    renderError,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
      // RFC 7009 §2.1: a client may revoke only the tokens issued to it.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: API_SCOPE,
          audience: API_RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  }
}

function interactionRoutes(app, provider) {
  app.get('/interaction/:uid', async (req, res) => {
    const { uid, prompt, params } = await provider.interactionDetails(req, res)
    const client = await provider.Client.find(params.client_id)
    const clientName = client?.clientName ?? String(params.client_id)
    if (prompt.name !== 'login') throw new Error(`unexpected prompt "${prompt.name}"`)
    sendPage(res, loginPage({ uid, clientName, email: DEMO_USER.email }))
  })
  app.post(
    '/interaction/:uid/login',
    express.urlencoded({ extended: false, limit: '2kb' }),
    async (req, res) => {
      const { uid, params } = await provider.interactionDetails(req, res)
      const email = String(req.body?.email ?? '')
        .trim()
        .toLowerCase()
      if (email !== DEMO_USER.email) {
        const client = await provider.Client.find(params.client_id)
        const error = `Unknown user "${email}". Use ${DEMO_USER.email}.`
        return sendPage(res, loginPage({ uid, clientName: client?.clientName, email, error }), 400)
      }
      await provider.interactionFinished(req, res, { login: { accountId: DEMO_USER.sub } })
    },
  )
}

/**
 * Builds the OP on `issuer` for `clients` (`{ id, name, secret, baseURL }`), as an Express app.
 * `onEvent(name, detail)` hears back-channel deliveries (success and failure) for the console.
 */
export function createOP({ issuer, clients, onEvent = () => {} }) {
  const provider = new Provider(issuer, configuration(clients))
  provider.on('backchannel.success', (_ctx, client, _sub, sid) =>
    onEvent('backchannel.success', { client: client.clientId, sid }),
  )
  provider.on('backchannel.error', (_ctx, err, client) =>
    onEvent('backchannel.error', { client: client.clientId, error: err.message }),
  )
  provider.on('end_session.success', () => onEvent('end_session.success', {}))
  const app = express()
  app.disable('x-powered-by')
  app.get('/favicon.ico', favicon('D', ACCENT))
  const apps = clients.map((c) => ({ name: c.name, url: `${c.baseURL}/` }))
  app.get('/', (_req, res) => sendPage(res, opHomePage({ issuer, demoEmail: DEMO_USER.email, apps })))
  interactionRoutes(app, provider)
  app.use(provider.callback())
  return app
}
