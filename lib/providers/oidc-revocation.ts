/** RFC 7009 revocation for `oidc()`: which tokens, and when, so it never cuts the OP's logout short. */
import type { LogoutError } from '../errors.js'
import type { EndSessionContext } from './contract.js'
import type { DiscoveryDocument } from './discovery.js'
import type { OidcPlan } from './oidc-core.js'
import { revokeTokens } from './revocation.js'
import type { RevocableToken } from './revocation.js'

/** One token to revoke, with its RFC 7009 §2.1 `token_type_hint`. */
export interface HeldToken {
  token: string
  hint: RevocableToken
}

const ACCESS_TOKEN_SOURCES = ['header', 'cookie:access_token', 'session:accessToken']

/** The tokens `plan.revoke` names, read from the request as it was before the session ended. */
export function tokensToRevoke(plan: OidcPlan, context: EndSessionContext, notes: string[]): HeldToken[] {
  const tokens: HeldToken[] = []
  for (const hint of plan.revoke) {
    const sources =
      hint === 'refresh_token'
        ? [plan.refreshToken]
        : plan.accessToken
          ? [plan.accessToken]
          : ACCESS_TOKEN_SOURCES
    const token = firstRead(context, sources)
    if (token) tokens.push({ token, hint })
    else notes.push(`no ${hint} found in ${sources.join(', ')}: not revoked`)
  }
  return tokens
}

/**
 * Splits the revocations around the OP's logout. Some OPs end the whole SSO session when a refresh
 * token is revoked (Keycloak does); revoked before the browser reaches `end_session_endpoint`, the
 * OP would then have no session left to end and would notify no other app by back-channel or
 * front-channel. So when the browser will come back (a `state` was issued, RP-Initiated Logout 1.0
 * §3), every revocation waits for that return (`later`, kept in the store). When it will not come
 * back, only access tokens are revoked now (revoking one ends no session), and the refresh token is
 * left to the OP's logout, which ends the session it belongs to.
 */
export function holdBack(
  plan: OidcPlan,
  tokens: HeldToken[],
  returns: boolean,
  notes: string[],
): { now: HeldToken[]; later?: string } {
  if (tokens.length === 0) return { now: [] }
  if (returns) return { now: [], later: JSON.stringify(tokens) }
  if (tokens.some((t) => t.hint === 'refresh_token')) {
    notes.push(
      `${plan.name}: the refresh token was not revoked: revoking it before the OP's logout could end the OP session ` +
        'before it notifies the other apps, and without post_logout_redirect_uri the browser does not come back',
    )
  }
  return { now: tokens.filter((t) => t.hint === 'access_token') }
}

/** Reads back what {@link holdBack} kept; anything malformed counts as nothing to do. */
export function parseHeld(pending: string): HeldToken[] {
  let value: unknown
  try {
    value = JSON.parse(pending)
  } catch {
    return []
  }
  if (!Array.isArray(value)) return []
  return value.filter(
    (t): t is HeldToken =>
      typeof t === 'object' &&
      t !== null &&
      typeof (t as HeldToken).token === 'string' &&
      ((t as HeldToken).hint === 'refresh_token' || (t as HeldToken).hint === 'access_token'),
  )
}

/** Revokes `tokens` at the OP's revocation endpoint; failures are returned, never thrown. */
export async function revokeAtOp(
  plan: OidcPlan,
  doc: DiscoveryDocument | undefined,
  tokens: HeldToken[],
  notes: string[],
): Promise<LogoutError[]> {
  if (tokens.length === 0) return []
  const endpoint = plan.revocationEndpoint ?? optionalUrl(doc?.revocation_endpoint)
  if (!endpoint) {
    notes.push(`${plan.name}: the OP has no revocation_endpoint; tokens were not revoked`)
    return []
  }
  const methods = doc?.revocation_endpoint_auth_methods_supported
  // RFC 8414 §2: the default is client_secret_basic; use post only when the server offers nothing else.
  const postOnly =
    methods !== undefined &&
    !methods.includes('client_secret_basic') &&
    methods.includes('client_secret_post')
  return revokeTokens(
    {
      endpoint,
      clientId: plan.clientId,
      clientSecret: plan.clientSecret,
      authMethod: postOnly ? 'client_secret_post' : 'client_secret_basic',
      timeout: plan.timeout,
    },
    tokens,
  )
}

function firstRead(context: EndSessionContext, sources: string[]): string | undefined {
  for (const source of sources) {
    const value = context.read(source)
    if (value) return value
  }
  return undefined
}

function optionalUrl(value: string | undefined): URL | undefined {
  return value === undefined ? undefined : new URL(value)
}
