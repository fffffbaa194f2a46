/** The `Provider` contract: what an identity-provider adapter is given and must answer. */
import type { IncomingMessage, ServerResponse } from 'node:http'
// jose is an ES module: this package's CommonJS declarations must say so (TS1541 under node16).
import type { JWTPayload } from 'jose' with { 'resolution-mode': 'import' }
import type { CookieSpec } from '../request/cookies.js'
import type { LogoutError } from '../errors.js'
import type { Awaitable } from '../stores/contract.js'

/** Verification facts a provider knows, or discovers, about its tokens. */
export interface ProviderMetadata {
  /** JWKS URL for access tokens and logout tokens. */
  jwksUri?: string | undefined
  /**
   * `id_token_signing_alg_values_supported` from discovery: what the OP can sign with. Informational:
   * logout tokens are pinned to the client's own ID-token algorithm ({@link Provider.idTokenSigningAlg}),
   * never to this list.
   */
  idTokenSigningAlgValues?: string[] | undefined
}

/** What the logout route hands a provider once the local logout is done. */
export interface EndSessionContext {
  /** Claims of the verified access token, or `undefined` when none verified. */
  claims: JWTPayload | undefined
  /** The verified IdP session id (from `accessToken.sidClaim`), if any. */
  sid: string | undefined
  /** The validated, normalised, absolute `returnTo` (or `undefined` when no `baseURL` was set). */
  returnTo: URL | undefined
  /**
   * Reads `'cookie:NAME'`, `'session:FIELD'` or `'header'` from the request as it was before the
   * session was destroyed (ID tokens and refresh tokens usually live in the session).
   */
  read(source: string): string | undefined
  /** Adds a `Set-Cookie` to the response (for example a `state` cookie). */
  setCookie(
    name: string,
    value: string,
    spec?: Omit<CookieSpec, 'name'> & { maxAge?: number | undefined },
  ): void
  req: IncomingMessage
  res: ServerResponse
}

/** How a provider ended (or could not end) the IdP session. */
export interface EndSessionResult {
  /** Where to send the browser next. Absent: the route redirects to `returnTo`. */
  redirect?: URL | undefined
  /** Upstream failures that did not stop the local logout; passed to `onLogout` as `event.errors`. */
  errors?: LogoutError[] | undefined
  /** Plain-language notes for `onLogout` (for example "no sid: IdP session not ended"). */
  notes?: string[] | undefined
  /**
   * Work to finish when the browser comes back from the IdP with the `state` this logout issued
   * (an opaque string, kept server-side in the store for the `state` cookie's life and handed to
   * {@link Provider.completeLogout}). Ignored when no `state` was issued.
   */
  pending?: string | undefined
}

/** What finishing a logout on the browser's return did. */
export interface CompleteLogoutResult {
  errors?: LogoutError[] | undefined
  notes?: string[] | undefined
}

/**
 * An identity-provider adapter. Shipped ones are built by `auth0()`, `workos()`, `descope()`,
 * `oidc()` and its presets; a custom IdP needs only an object of this shape.
 *
 * @example
 * ```ts
 * const acme: Provider = {
 *   name: 'acme',
 *   issuer: 'https://id.acme.test/',
 *   metadata: () => ({ jwksUri: 'https://id.acme.test/jwks' }),
 *   endSession: ({ sid, returnTo }) => {
 *     const url = new URL('https://id.acme.test/logout')
 *     if (sid) url.searchParams.set('session', sid)
 *     if (returnTo) url.searchParams.set('next', returnTo.href)
 *     return { redirect: url }
 *   },
 * }
 * ```
 */
export interface Provider {
  /** Short name, reported as `event.provider`. */
  readonly name: string
  /** Token issuer (`iss`); the default for `accessToken.issuer` and the back-channel check. */
  readonly issuer?: string | undefined
  /** The app's client id at the IdP: the audience of logout tokens. */
  readonly clientId?: string | undefined
  /**
   * The client's registered ID-token algorithm (`id_token_signed_response_alg`): logout tokens are
   * validated as ID tokens are (Back-Channel Logout 1.0 §2.6 step 2), so this is the one algorithm
   * they may use. OpenID Connect Core 1.0 §3.1.3.7 makes `RS256` the default. Defaults to `'RS256'`.
   */
  readonly idTokenSigningAlg?: string | undefined
  /** Where the ID token for `id_token_hint` is kept (`'session:FIELD'` or `'cookie:NAME'`), so `link()` can keep it there. */
  readonly idTokenSource?: string | undefined
  /** Cookies the provider's SDK sets, cleared on logout (Descope's `DS` and `DSR`). */
  readonly cookies?: readonly CookieSpec[] | undefined
  /** Whether `endSession` needs an absolute `returnTo` (then `baseURL` is required). */
  readonly needsAbsoluteReturnTo?: boolean | undefined
  /** Verification defaults; may discover them (and may throw a `LogoutError` when it cannot). */
  metadata(): Awaitable<ProviderMetadata>
  /** Ends the IdP session: returns the URL to send the browser to, or calls the IdP itself. */
  endSession(context: EndSessionContext): Awaitable<EndSessionResult>
  /**
   * Finishes what `endSession` left `pending`, once the browser is back with the verified `state`
   * (RP-Initiated Logout 1.0 §3): for `oidc()`, the RFC 7009 revocations held back so that revoking
   * a refresh token (which ends the SSO session at Keycloak, for one) cannot stop the OP from
   * ending its session and notifying the other apps.
   */
  completeLogout?(pending: string): Awaitable<CompleteLogoutResult>
}
