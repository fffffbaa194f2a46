/** `auth0()`: Auth0's `/v2/logout` or its OIDC `/oidc/logout` endpoint. */
import { optionError } from '../options/check.js'
import type { EndSessionContext, EndSessionResult, Provider } from './contract.js'
import { optionalBoolean, optionalChoice, optionalSource, optionalString } from './check.js'
import { optionsRecord, requiredString } from './check.js'
import { rpLogoutUrl } from './rp-logout.js'
import { atPath, hostOrigin, withParams } from './url.js'

/** Options of {@link auth0}. */
export interface Auth0Options {
  /** The tenant domain (`acme.eu.auth0.com`) or custom domain; https is implied. */
  domain: string
  /** The application's client id. With it, Auth0 checks `returnTo` against the application's Allowed Logout URLs. */
  clientId?: string | undefined
  /** Also log the user out of the upstream IdP (Auth0's `federated` flag). Defaults to `false`. */
  federated?: boolean | undefined
  /** `'v2'` (`/v2/logout`) or `'oidc'` (`/oidc/logout`, RP-Initiated Logout). Defaults to `'v2'`. */
  endpoint?: 'v2' | 'oidc' | undefined
  /** Where the ID token for `id_token_hint` is kept (`'oidc'` only). Defaults to `'session:idToken'`. */
  idToken?: string | undefined
}

const KEYS = ['domain', 'clientId', 'federated', 'endpoint', 'idToken'] as const

/**
 * Auth0. `v2` sends the browser to `GET /v2/logout?returnTo=..&client_id=..[&federated]` (Auth0's
 * Logout documentation: no `id_token_hint` there); `oidc` to `/oidc/logout` with `id_token_hint`, or `logout_hint` (the
 * verified `sid`) + `client_id`, plus `post_logout_redirect_uri` and `state`.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: auth0({ domain: 'acme.eu.auth0.com', clientId: process.env.AUTH0_CLIENT_ID }),
 *   baseURL: 'https://app.example.com',
 * }))
 * ```
 */
export function auth0(options: Auth0Options): Provider {
  const o = optionsRecord('auth0', options, KEYS)
  const origin = hostOrigin('auth0.domain', requiredString('auth0', o, 'domain'))
  // Warned about, not refused, when given as undefined: the tenant-level list is a valid setup,
  // but a missing AUTH0_CLIENT_ID would otherwise switch to it silently (see optionalString).
  const clientId = optionalString(
    'auth0',
    o,
    'clientId',
    "Auth0 checks returnTo against the tenant's Allowed Logout URLs instead of the application's",
  )
  const federated = optionalBoolean('auth0', o, 'federated') ?? false
  const endpoint = optionalChoice('auth0', o, 'endpoint', ['v2', 'oidc'] as const) ?? 'v2'
  const idToken = optionalSource('auth0', o, 'idToken')
  if (endpoint === 'v2' && idToken !== undefined) {
    throw optionError(`"auth0.idToken" is only used with endpoint 'oidc': /v2/logout takes no id_token_hint`)
  }
  const jwksUri = atPath(origin, '/.well-known/jwks.json').href
  const end =
    endpoint === 'v2'
      ? v2Logout(atPath(origin, '/v2/logout'), clientId, federated)
      : oidcLogout(atPath(origin, '/oidc/logout'), clientId, federated, idToken ?? 'session:idToken')
  return {
    name: 'auth0',
    issuer: atPath(origin, '/').href,
    clientId,
    idTokenSource: endpoint === 'oidc' ? (idToken ?? 'session:idToken') : undefined,
    needsAbsoluteReturnTo: true,
    metadata: () => ({ jwksUri }),
    endSession: end,
  }
}

function v2Logout(endpoint: URL, clientId: string | undefined, federated: boolean) {
  return function auth0V2Logout(context: EndSessionContext): EndSessionResult {
    const redirect = withParams(endpoint, {
      returnTo: context.returnTo?.href,
      client_id: clientId,
      federated: federated || undefined,
    })
    return { redirect }
  }
}

function oidcLogout(endpoint: URL, clientId: string | undefined, federated: boolean, idToken: string) {
  return function auth0OidcLogout(context: EndSessionContext): EndSessionResult {
    const idTokenHint = context.read(idToken)
    const notes: string[] = []
    // Auth0 needs id_token_hint, or else logout_hint (= the Auth0 session's sid) with client_id.
    const logoutHint = idTokenHint ? undefined : context.sid
    if (!idTokenHint && !logoutHint)
      notes.push('no ID token and no verified sid: Auth0 may ask the user to confirm')
    const redirect = rpLogoutUrl(endpoint, context, {
      idTokenHint,
      logoutHint,
      clientId: idTokenHint ? undefined : clientId,
      postLogoutRedirect: true,
      extra: { federated: federated || undefined },
    })
    return notes.length > 0 ? { redirect, notes } : { redirect }
  }
}
