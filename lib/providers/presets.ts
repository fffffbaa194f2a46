/** Thin `oidc()` presets with each provider's known endpoints: Okta, Keycloak, Microsoft Entra ID. */
import { optionError } from '../options/check.js'
import type { Provider } from './contract.js'
import { optionalString, optionsRecord, requiredString } from './check.js'
import { COMMON_KEYS, commonPlan } from './oidc.js'
import type { OidcCommonOptions } from './oidc.js'
import { oidcProvider } from './oidc-core.js'
import { appendPath, hostOrigin, secureUrl } from './url.js'

/** Options of {@link okta}. */
export interface OktaOptions extends OidcCommonOptions {
  /** The Okta org or custom domain (`acme.okta.com`). */
  domain: string
  clientId: string
  /** Custom authorization server id (`default`, `aus...`). Defaults to the org authorization server. */
  authorizationServerId?: string | undefined
}

/**
 * Okta: `GET /oauth2/{authorizationServerId}/v1/logout` (org server: `/oauth2/v1/logout`). Okta
 * REQUIRES `id_token_hint` and shows an error page without a valid one (Okta's logout documentation), so with no ID
 * token the user is sent to `returnTo` and `event.notes` says the Okta session was not ended.
 *
 * @example
 * ```ts
 * logout({ provider: okta({ domain: 'acme.okta.com', authorizationServerId: 'default', clientId: '0oa1' }) })
 * ```
 */
export function okta(options: OktaOptions): Provider {
  const o = optionsRecord('okta', options, ['domain', 'clientId', 'authorizationServerId', ...COMMON_KEYS])
  const origin = hostOrigin('okta.domain', requiredString('okta', o, 'domain'))
  const server = optionalString(
    'okta',
    o,
    'authorizationServerId',
    "the org authorization server's endpoints and issuer are used",
  )
  const base = server === undefined ? appendPath(origin, 'oauth2') : appendPath(origin, 'oauth2', server)
  const plan = commonPlan('okta', o)
  return oidcProvider({
    ...plan,
    name: 'okta',
    // The org server's issuer is the bare origin; a custom server's is its /oauth2/{id} URL.
    issuer: server === undefined ? origin.origin : base.href,
    clientId: requiredString('okta', o, 'clientId'),
    endSessionEndpoint: appendPath(base, 'v1', 'logout'),
    revocationEndpoint: appendPath(base, 'v1', 'revoke'),
    jwksUri: appendPath(base, 'v1', 'keys').href,
    sendClientId: false,
    requireIdTokenHint: `no ID token in ${plan.idToken}: Okta requires id_token_hint, so the Okta session was not ended`,
  })
}

/** Options of {@link keycloak}. */
export interface KeycloakOptions extends OidcCommonOptions {
  /** The server URL, including `/auth` on Keycloak 16 and older (`https://sso.example.com`). */
  baseUrl: string
  realm: string
  clientId: string
}

/**
 * Keycloak: `{baseUrl}/realms/{realm}/protocol/openid-connect/logout`. `client_id` is always sent:
 * Keycloak answers 400 to a `post_logout_redirect_uri` with neither it nor `id_token_hint` (Keycloak's logout documentation).
 *
 * @example
 * ```ts
 * logout({ provider: keycloak({ baseUrl: 'https://sso.example.com', realm: 'acme', clientId: 'web' }) })
 * ```
 */
export function keycloak(options: KeycloakOptions): Provider {
  const o = optionsRecord('keycloak', options, ['baseUrl', 'realm', 'clientId', ...COMMON_KEYS])
  const base = secureUrl('keycloak.baseUrl', requiredString('keycloak', o, 'baseUrl'))
  const realm = appendPath(base, 'realms', requiredString('keycloak', o, 'realm'))
  return oidcProvider({
    ...commonPlan('keycloak', o),
    name: 'keycloak',
    issuer: realm.href,
    clientId: requiredString('keycloak', o, 'clientId'),
    endSessionEndpoint: appendPath(realm, 'protocol', 'openid-connect', 'logout'),
    revocationEndpoint: appendPath(realm, 'protocol', 'openid-connect', 'revoke'),
    jwksUri: appendPath(realm, 'protocol', 'openid-connect', 'certs').href,
    sendClientId: true,
  })
}

/** Options of {@link entra}. */
export interface EntraOptions extends Omit<OidcCommonOptions, 'revoke' | 'clientSecret'> {
  /** Tenant id (GUID) or verified domain. `common`/`organizations` work for the redirect, but their issuer varies: set `accessToken.issuer`. */
  tenant: string
  clientId: string
}

const ENTRA = new URL('https://login.microsoftonline.com')

/**
 * Microsoft Entra ID: `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/logout` with
 * `post_logout_redirect_uri` (Microsoft identity platform's sign-out documentation). Entra has no RFC 7009 endpoint, so `revoke` is not offered.
 *
 * @example
 * ```ts
 * logout({ provider: entra({ tenant: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000000' }) })
 * ```
 */
export function entra(options: EntraOptions): Provider {
  const keys = COMMON_KEYS.filter((key) => key !== 'revoke' && key !== 'clientSecret')
  const o = optionsRecord('entra', options, ['tenant', 'clientId', ...keys])
  const tenant = requiredString('entra', o, 'tenant')
  if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw optionError('"entra.tenant" must be a tenant id or domain name')
  return oidcProvider({
    ...commonPlan('entra', o),
    name: 'entra',
    issuer: appendPath(ENTRA, tenant, 'v2.0').href,
    clientId: requiredString('entra', o, 'clientId'),
    endSessionEndpoint: appendPath(ENTRA, tenant, 'oauth2', 'v2.0', 'logout'),
    jwksUri: appendPath(ENTRA, tenant, 'discovery', 'v2.0', 'keys').href,
    sendClientId: false,
  })
}
