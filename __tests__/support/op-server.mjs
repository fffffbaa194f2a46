// A real OpenID Provider (the `oidc-provider` package) for tests, run as a child process because
// oidc-provider is ESM-only with top-level await and cannot be loaded by Jest.
//
// Usage: node op-server.mjs '<json config>'
// Config: { clients: [ClientMetadata...], resource?: string, accessTokenTTL?: number }
// It listens on 127.0.0.1, port 0, and prints one JSON line `{"issuer":"http://127.0.0.1:PORT"}`;
// afterwards it prints one JSON line per event of interest (`{"event":"backchannel.success",...}`).
// It exits when its stdin closes, so it never outlives the test that started it.
import { createServer } from 'node:http'
import Provider from 'oidc-provider'

const config = JSON.parse(process.argv[2] ?? '{}')
const resource = config.resource ?? 'urn:sso-logout:test-api'

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const server = createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${server.address().port}`

// oidc-provider refuses outgoing requests to loopback addresses (SSRF protection). The test apps
// listen on 127.0.0.1, so back-channel logout may reach exactly the clients' registered
// `backchannel_logout_uri` origins, and nothing else.
const backchannelOrigins = new Set(
  (config.clients ?? []).flatMap((c) =>
    c.backchannel_logout_uri ? [new URL(c.backchannel_logout_uri).origin] : [],
  ),
)
function clientFetch(url, { dispatcher: _ssrfGuard, ...options }) {
  if (!backchannelOrigins.has(new URL(url).origin))
    return Promise.reject(new Error(`fetch to ${url} not allowed`))
  return globalThis.fetch(url, options)
}

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  fetch: clientFetch,
  cookies: { keys: ['sso-logout-test-cookie-key'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.test` }) }),
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    revocation: { enabled: true },
    backchannelLogout: { enabled: true },
    // Access tokens for one resource are JWTs, so the middleware can verify them with the OP's JWKS.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: config.accessTokenTTL ?? 3600,
      }),
    },
  },
  // The IdP session id travels in the access token, as Auth0 and WorkOS do, for sid-based logout.
  // oidc-provider puts `sid` in ID tokens only for clients with backchannel_logout_session_required;
  // access tokens get the client's sid from the session in every case.
  extraTokenClaims: async (_ctx, token) => {
    if (token.kind !== 'AccessToken' || !token.sessionUid) return undefined
    const session = await provider.Session.findByUid(token.sessionUid)
    const sid = token.sid ?? session?.sidFor(token.clientId)
    return sid ? { sid } : undefined
  },
  // Refresh tokens without offline_access, so tests need no consent prompt for them.
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
})

provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
  print({ event: 'backchannel.success', clientId: client.clientId, accountId, sid })
})
provider.on('backchannel.error', (_ctx, error, client, accountId, sid) => {
  print({ event: 'backchannel.error', clientId: client.clientId, accountId, sid, error: error.message })
})
provider.on('end_session.success', () => print({ event: 'end_session.success' }))
provider.on('server_error', (_ctx, error) => print({ event: 'server_error', error: error.message }))

server.on('request', provider.callback())
print({ issuer })

process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
