/** `oidc()`: any OpenID Provider, found by discovery; and the options every OIDC preset shares. */
import { invalidArg, optionError } from '../options/check.js'
import { ASYMMETRIC_ALGORITHMS } from '../tokens/access-token.js'
import type { Provider } from './contract.js'
import { optionalBoolean, optionalSource, optionalString, optionalTimeout } from './check.js'
import { optionsRecord, requiredString } from './check.js'
import { oidcProvider } from './oidc-core.js'
import type { OidcPlan } from './oidc-core.js'
import type { RevocableToken } from './revocation.js'
import { secureUrl } from './url.js'

/** Options every OpenID Provider adapter (`oidc()` and the presets) accepts. */
export interface OidcCommonOptions {
  /** Client secret for RFC 7009 revocation (`client_secret_basic`). Omit for a public client. */
  clientSecret?: string | undefined
  /** Where the ID token for `id_token_hint` is kept. Defaults to `'session:idToken'`. */
  idToken?: string | undefined
  /** Tokens to revoke (RFC 7009) before the redirect. Defaults to `[]`. */
  revoke?: RevocableToken[] | undefined
  /** Where the refresh token is kept. Defaults to `'session:refreshToken'`. */
  refreshToken?: string | undefined
  /** Where the access token to revoke is kept. Defaults to the route's defaults (header, cookie, session). */
  accessToken?: string | undefined
  /** Send `post_logout_redirect_uri` (= `returnTo`) and `state`. Defaults to `true`. */
  postLogoutRedirect?: boolean | undefined
  /** `ui_locales`: space-separated BCP47 tags. Defaults to none. */
  uiLocales?: string | undefined
  /** `logout_hint`: `'sid'` (the verified sid) or `'session:FIELD'`/`'cookie:NAME'`. Defaults to none. */
  logoutHint?: string | undefined
  /** Milliseconds for discovery and revocation calls. Defaults to `5000`. */
  timeout?: number | undefined
  /**
   * The client's registered ID-token algorithm (`id_token_signed_response_alg`), which pins the
   * logout-token algorithm (Back-Channel Logout 1.0 §2.6 step 2). An asymmetric JWS algorithm.
   * Defaults to `'RS256'`, the default of OpenID Connect Core 1.0 §3.1.3.7.
   */
  idTokenSigningAlg?: string | undefined
}

/** Options of {@link oidc}. */
export interface OidcOptions extends OidcCommonOptions {
  /** The issuer identifier; discovery is fetched from `{issuer}/.well-known/openid-configuration`. */
  issuer: string
  /** The app's client id at the OP. */
  clientId: string
  /** Overrides discovery's `end_session_endpoint`. */
  endSessionEndpoint?: string | undefined
  /** Overrides discovery's `revocation_endpoint`. */
  revocationEndpoint?: string | undefined
}

/** Keys of {@link OidcCommonOptions}, for presets that accept them too. */
export const COMMON_KEYS = [
  'clientSecret',
  'idToken',
  'revoke',
  'refreshToken',
  'accessToken',
  'postLogoutRedirect',
  'uiLocales',
  'logoutHint',
  'timeout',
  'idTokenSigningAlg',
] as const
const KEYS = ['issuer', 'clientId', 'endSessionEndpoint', 'revocationEndpoint', ...COMMON_KEYS] as const

/**
 * Any OpenID Provider: discovery, RFC 7009 revocation of the refresh and/or access token, then
 * RP-Initiated Logout with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and a `state`
 * that {@link checkLogoutState} verifies on return. An OP with no `end_session_endpoint` (Google)
 * gets the revocation and a redirect to `returnTo`.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: oidc({
 *     issuer: 'https://id.example.com',
 *     clientId: 'app',
 *     clientSecret: process.env.OIDC_SECRET,
 *     revoke: ['refresh_token'],
 *   }),
 *   baseURL: 'https://app.example.com',
 * }))
 * ```
 */
export function oidc(options: OidcOptions): Provider {
  const o = optionsRecord('oidc', options, KEYS)
  const issuer = requiredString('oidc', o, 'issuer')
  secureUrl('oidc.issuer', issuer)
  const endSession = optionalString('oidc', o, 'endSessionEndpoint', "discovery's endpoint is used")
  const revocation = optionalString('oidc', o, 'revocationEndpoint', "discovery's endpoint is used")
  return oidcProvider({
    ...commonPlan('oidc', o),
    name: 'oidc',
    issuer,
    clientId: requiredString('oidc', o, 'clientId'),
    endSessionEndpoint:
      endSession === undefined ? undefined : secureUrl('oidc.endSessionEndpoint', endSession),
    revocationEndpoint:
      revocation === undefined ? undefined : secureUrl('oidc.revocationEndpoint', revocation),
    sendClientId: true,
  })
}

type CommonPlan = Pick<
  OidcPlan,
  | 'clientSecret'
  | 'idToken'
  | 'revoke'
  | 'refreshToken'
  | 'accessToken'
  | 'postLogoutRedirect'
  | 'uiLocales'
  | 'logoutHint'
  | 'timeout'
  | 'idTokenSigningAlg'
>

/** Validates and resolves the {@link OidcCommonOptions} of the adapter `name`. */
export function commonPlan(name: string, o: Record<string, unknown>): CommonPlan {
  const accessToken = o.accessToken === 'header' ? 'header' : optionalSource(name, o, 'accessToken')
  const logoutHint = o.logoutHint === 'sid' ? 'sid' : optionalSource(name, o, 'logoutHint')
  const revoke = revokeList(name, o.revoke)
  // The secret only matters for revocation: without `revoke`, leaving it unset changes nothing.
  const publicClient = 'the client is public: RFC 7009 revocation is sent without client authentication'
  return {
    clientSecret: optionalString(name, o, 'clientSecret', revoke.length > 0 ? publicClient : undefined),
    idToken: optionalSource(name, o, 'idToken') ?? 'session:idToken',
    revoke,
    refreshToken: optionalSource(name, o, 'refreshToken') ?? 'session:refreshToken',
    accessToken,
    postLogoutRedirect: optionalBoolean(name, o, 'postLogoutRedirect') ?? true,
    uiLocales: optionalString(name, o, 'uiLocales'),
    logoutHint,
    timeout: optionalTimeout(name, o, 'timeout') ?? 5000,
    idTokenSigningAlg: signingAlg(name, o.idTokenSigningAlg),
  }
}

function signingAlg(name: string, value: unknown): string {
  if (value === undefined) return 'RS256'
  if (typeof value === 'string' && ASYMMETRIC_ALGORITHMS.includes(value)) return value
  throw invalidArg(
    `${name}.idTokenSigningAlg`,
    `an asymmetric JWS algorithm: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
    value,
  )
}

function revokeList(name: string, value: unknown): RevocableToken[] {
  if (value === undefined) return []
  const allowed = ['refresh_token', 'access_token']
  if (
    Array.isArray(value) &&
    value.every((v) => allowed.includes(v)) &&
    new Set(value).size === value.length
  ) {
    return value as RevocableToken[]
  }
  throw optionError(`"${name}.revoke" must be a list of 'refresh_token' and/or 'access_token'`)
}
