// A real OpenID Provider (oidc-provider 9) for the conformance tests, in a child process like
// __tests__/support/op-server.mjs (oidc-provider is ESM-only with top-level await, which Jest cannot
// load). Differences from that server, each needed by the logout flows:
//
// - Signing keys RSA and P-256, so a client may register id_token_signed_response_alg ES256.
// - Every request and response is printed in order ({"event":"request"|"response",...}), so a test
//   can tell whether the RP's RFC 7009 revocation came before or after the OP's end-session.
// - Front-Channel Logout. oidc-provider 9 has no such feature (features.frontchannelLogout is
//   refused as unknown). This server adds the OP side of Front-Channel Logout 1.0 §2-§3 with
//   oidc-provider's own hooks: clients may register frontchannel_logout_uri and
//   frontchannel_logout_session_required (extraClientMetadata); such clients get `sid` in ID
//   tokens, as Front-Channel Logout §3 has it; and once the user confirms a logout, the OP answers
//   with a page that loads each frontchannel_logout_uri of the session's clients (with iss and the
//   session's sid for that client) in an iframe before it goes on to the post-logout redirect.
//
// Usage: node oidc-provider-server.mjs '<json config>'; config: { clients: [ClientMetadata...] }.
// It listens on 127.0.0.1, port 0, prints {"issuer":"http://127.0.0.1:PORT"} and then one JSON line
// per event, and exits when its stdin closes.
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import Provider from 'oidc-provider'

const config = JSON.parse(process.argv[2] ?? '{}')

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const server = createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${server.address().port}`

const backchannelOrigins = new Set(
  (config.clients ?? []).flatMap((c) =>
    c.backchannel_logout_uri ? [new URL(c.backchannel_logout_uri).origin] : [],
  ),
)
// oidc-provider refuses outgoing requests to loopback (SSRF protection); the test apps listen on
// 127.0.0.1, so exactly their registered backchannel_logout_uri origins are let through.
function clientFetch(url, { dispatcher: _ssrfGuard, ...options }) {
  if (!backchannelOrigins.has(new URL(url).origin))
    return Promise.reject(new Error(`fetch to ${url} not allowed`))
  return globalThis.fetch(url, options)
}

function privateJwk(pair, extra) {
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', ...extra }
}
const keys = [
  privateJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), { alg: 'RS256' }),
  privateJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), { alg: 'ES256' }),
]

/** xsrf secret of a pending logout -> the front-channel URLs to load once it is confirmed. */
const frontchannelPending = new Map()

function frontchannelUrls(session) {
  return Object.keys(session.authorizations ?? {}).map(async (clientId) => {
    const client = await provider.Client.find(clientId)
    if (!client?.frontchannel_logout_uri) return undefined
    const url = new URL(client.frontchannel_logout_uri)
    if (client.frontchannel_logout_session_required) {
      url.searchParams.set('iss', issuer)
      url.searchParams.set('sid', session.sidFor(clientId))
    }
    return url.href
  })
}

function htmlSafe(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  fetch: clientFetch,
  jwks: { keys },
  cookies: { keys: ['sso-logout-conformance-cookie-key'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  extraClientMetadata: { properties: ['frontchannel_logout_uri', 'frontchannel_logout_session_required'] },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // The confirmation page (RP-Initiated Logout §2: the OP asks). While the session still
      // exists, the front-channel URLs for its clients and sids are worked out and kept for later.
      async logoutSource(ctx, form) {
        const urls = (await Promise.all(frontchannelUrls(ctx.oidc.session))).filter(Boolean)
        frontchannelPending.set(ctx.oidc.session.state.secret, urls)
        ctx.body = `<!doctype html><meta charset="utf-8"><title>Logout Request</title>
<h1>Do you want to sign-out from ${htmlSafe(ctx.host)}?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`
      },
    },
  },
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
})

// Front-Channel Logout §3: `sid` in the ID token for clients that asked for it.
const includeSid = provider.Client.prototype.includeSid
provider.Client.prototype.includeSid = function includeSidForFrontchannel() {
  return (
    includeSid.call(this) ||
    Boolean(this.frontchannel_logout_uri && this.frontchannel_logout_session_required)
  )
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/frontchannel-loaded') {
    // The front-channel page's "iframe loaded" callback.
    ctx.body = { ok: true }
    return
  }
  await next()
  if (ctx.method !== 'POST' || ctx.path !== '/session/end/confirm' || ctx.status !== 303) return
  const xsrf = ctx.oidc?.params?.xsrf
  const urls = frontchannelPending.get(xsrf) ?? []
  frontchannelPending.delete(xsrf)
  if (urls.length === 0) return
  // Front-Channel Logout §2: the OP renders iframes with each RP's frontchannel_logout_uri, then
  // goes on to where it would have redirected.
  const next_ = ctx.response.get('location')
  ctx.remove('location')
  ctx.status = 200
  ctx.type = 'html'
  const data = JSON.stringify({
    rp_frontchannel_logout_uris: urls,
    iframe_loaded_callback_url: `${issuer}/frontchannel-loaded`,
    post_logout_redirect_uri_redirect: next_,
  }).replace(/</g, '\\u003c')
  ctx.body = `<!doctype html><meta charset="utf-8"><title>Signing out</title>
<script type="application/json" id="frontchannel">${data}</script>\n`
})

provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
  print({ event: 'backchannel.success', clientId: client.clientId, accountId, sid })
})
provider.on('backchannel.error', (_ctx, error, client, accountId, sid) => {
  print({ event: 'backchannel.error', clientId: client.clientId, accountId, sid, error: error.message })
})
provider.on('end_session.success', () => print({ event: 'end_session.success' }))
provider.on('grant.revoked', (_ctx, grantId) => print({ event: 'grant.revoked', grantId }))
provider.on('server_error', (_ctx, error) => print({ event: 'server_error', error: error.message }))

const callback = provider.callback()
server.on('request', (req, res) => {
  const path = new URL(req.url ?? '/', issuer).pathname
  print({ event: 'request', method: req.method, path })
  res.on('finish', () => print({ event: 'response', method: req.method, path, status: res.statusCode }))
  callback(req, res)
})
print({ issuer })

process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
