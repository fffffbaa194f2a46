// Sign-in for the example apps: OpenID Connect authorization code flow with PKCE (RFC 7636),
// written by hand with fetch + jose so every step is visible.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { API_SCOPE } from './op.mjs'

const random = () => randomBytes(32).toString('base64url')
const s256 = (verifier) => createHash('sha256').update(verifier).digest('base64url')

function sameString(a, b) {
  const x = Buffer.from(String(a))
  const y = Buffer.from(String(b))
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Discovery (OpenID Connect Discovery 1.0 §4), fetched once and cached. */
function discover(issuer) {
  let pending
  return () => {
    pending ??= fetch(`${issuer}/.well-known/openid-configuration`).then(async (res) => {
      if (!res.ok) throw new Error(`discovery failed: HTTP ${res.status}`)
      const doc = await res.json()
      if (doc.issuer !== issuer) throw new Error('discovery issuer mismatch')
      return { ...doc, jwks: createRemoteJWKSet(new URL(doc.jwks_uri)) }
    })
    pending.catch(() => (pending = undefined))
    return pending
  }
}

async function exchangeCode(op, client, code, verifier) {
  const res = await fetch(op.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    }),
  })
  const body = await res.json()
  if (!res.ok) throw new Error(`token endpoint: ${body.error ?? res.status} ${body.error_description ?? ''}`)
  return body
}

/**
 * The two halves of the flow for one client (`{ issuer, clientId, clientSecret, redirectUri }`):
 * `start(req)` returns the authorization URL and keeps state, nonce and the PKCE verifier in the
 * session; `finish(req)` checks the callback, redeems the code and verifies the ID token.
 */
export function codeFlow(client) {
  const metadata = discover(client.issuer)
  async function start(req) {
    const op = await metadata()
    const pending = { state: random(), nonce: random(), verifier: random() }
    req.session.pendingLogin = pending
    const url = new URL(op.authorization_endpoint)
    url.search = new URLSearchParams({
      client_id: client.clientId,
      response_type: 'code',
      scope: `openid profile email ${API_SCOPE}`,
      redirect_uri: client.redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: s256(pending.verifier),
      code_challenge_method: 'S256',
    }).toString()
    return url
  }
  async function finish(req) {
    const pending = req.session.pendingLogin
    delete req.session.pendingLogin
    const { code, state, error, error_description: description } = req.query
    if (error) throw new Error(`sign-in refused: ${error} ${description ?? ''}`)
    if (!pending || typeof state !== 'string' || !sameString(state, pending.state))
      throw new Error('state mismatch')
    if (typeof code !== 'string') throw new Error('no code in the callback')
    const op = await metadata()
    const tokens = await exchangeCode(op, client, code, pending.verifier)
    const { payload } = await jwtVerify(tokens.id_token, op.jwks, {
      issuer: client.issuer,
      audience: client.clientId,
      algorithms: ['RS256'],
    })
    if (!sameString(payload.nonce, pending.nonce)) throw new Error('nonce mismatch')
    return { claims: payload, tokens }
  }
  return { start, finish }
}
