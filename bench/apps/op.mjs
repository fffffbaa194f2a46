// A local stand-in OpenID Provider: discovery, JWKS and an end_session_endpoint on 127.0.0.1.
// The logout routes under test redirect to its end_session_endpoint; express-openid-connect reads
// its discovery document once, and sso-logout's back-channel receiver fetches its JWKS once.
import { createServer } from 'node:http'

/** Starts the stand-in OP on a free port and resolves to `{ origin, issuer, jwksUri, endSession, close }`. */
export async function startOp(publicJwks) {
  let origin = ''
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname
    if (path === '/.well-known/openid-configuration') return json(res, discovery(origin))
    if (path === '/jwks') return json(res, { keys: publicJwks })
    if (path === '/session/end') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      return res.end('signed out')
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${server.address().port}`
  return {
    origin,
    issuer: `${origin}/`,
    jwksUri: `${origin}/jwks`,
    endSession: `${origin}/session/end`,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

function discovery(origin) {
  return {
    issuer: `${origin}/`,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    jwks_uri: `${origin}/jwks`,
    end_session_endpoint: `${origin}/session/end`,
    response_types_supported: ['code', 'id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  }
}

function json(res, body) {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}
