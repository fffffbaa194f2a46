import { randomUUID } from 'node:crypto'
import { CompactEncrypt } from 'jose'
import type { JWTPayload } from 'jose'
import request from 'supertest'
import type { Provider } from '../../lib/index.js'
import { ISSUER } from './app.js'
import type { TestApp } from './app.js'
import { mint } from './jwt.js'
import type { TestKey } from './jwt.js'

export const CLIENT_ID = 'app-client'
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/**
 * A provider for the receivers: an issuer (the test issuer by default), a client id, and what
 * discovery would advertise (RS256 unless `metadata` says otherwise).
 */
export function testProvider(
  metadata: Awaited<ReturnType<Provider['metadata']>> = {},
  identity: { issuer?: string; clientId?: string } = {},
): Provider {
  return {
    name: 'test-idp',
    issuer: identity.issuer ?? ISSUER,
    clientId: identity.clientId ?? CLIENT_ID,
    metadata: () => ({ idTokenSigningAlgValues: ['RS256'], ...metadata }),
    endSession: () => ({}),
  }
}

/** The claims of a valid logout token (BCL §2.4), fresh `jti` and `iat`; `overrides` may unset with `undefined`. */
export function logoutClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    events: { [BACKCHANNEL_EVENT]: {} },
    sid: 'sid-X',
    sub: 'user-1',
    ...overrides,
  }
  // JSON.stringify drops undefined members: that is how a test removes a claim.
  return claims as JWTPayload
}

/** Signs a logout token with `key` (header `typ: logout+jwt` unless `header` overrides it). */
export function signLogoutToken(
  key: TestKey,
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return mint(key, logoutClaims(overrides), { typ: 'logout+jwt', ...header })
}

/** An unsecured JWT (`alg: none`, empty signature) carrying otherwise valid claims. */
export function unsecuredToken(overrides: Record<string, unknown> = {}): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part(logoutClaims(overrides))}.`
}

/** Nests a signed logout token in a JWE (RSA-OAEP-256 + A256GCM, `cty: JWT`, `iss` repeated per BCL §2.4). */
export function encrypt(jws: string, publicKey: Parameters<CompactEncrypt['encrypt']>[0]): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', iss: ISSUER })
    .encrypt(publicKey)
}

/** POSTs `logout_token=<token>` as an IdP does (BCL §2.5). */
export function postLogoutToken(app: TestApp, token: string, path = '/backchannel') {
  return request(app.server)
    .post(path)
    .type('form')
    .send(new URLSearchParams({ logout_token: token }).toString())
}

/** Creates a real express-session session through the app and links it to `sid`/`sub` at `iss`. */
export async function linkedSession(
  app: TestApp,
  link: { sid?: string; sub?: string; iss?: string },
): Promise<{ cookie: string; id: string }> {
  const session = await app.login()
  await app.mw.link({ iss: ISSUER, ...link, sessionId: session.id })
  return session
}
