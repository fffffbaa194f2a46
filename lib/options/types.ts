/** The public option types of `logout()` and its receivers, each default stated on its field. */
import type { IncomingMessage } from 'node:http'
import type { KeyObject } from 'node:crypto'
// jose is an ES module: this package's CommonJS declarations must say so (TS1541 under node16).
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose' with { 'resolution-mode': 'import' }
import type { CookieSpec } from '../request/cookies.js'
import type { LogoutError } from '../errors.js'
import type { Provider } from '../providers/contract.js'
import type { Store } from '../stores/contract.js'

/** The part of an express-session `Store` that logout uses. */
export interface SessionStoreLike {
  destroy(sid: string, callback?: (err?: unknown) => void): void
}

/** Where and how the access token is found and verified. Every field is optional. */
export interface AccessTokenOptions {
  /**
   * Ordered places to look: `'header'` (Authorization: Bearer), `'cookie:NAME'`, `'session:FIELD'`,
   * `'body:FIELD'`. Defaults to `['header', 'cookie:access_token', 'session:accessToken']`.
   */
  from?: string[] | undefined
  /** JWKS URL (fetched and cached by jose) or a local JWKS. Defaults to the provider's. */
  jwks?: string | JSONWebKeySet | undefined
  /** One verification key instead of a JWKS; a `Uint8Array` is an HMAC secret (enables HS*). */
  key?: KeyObject | JWK | Uint8Array | undefined
  /** Expected `iss`. Defaults to the provider's issuer. */
  issuer?: string | undefined
  /** Expected `aud`. Defaults to no audience check. */
  audience?: string | string[] | undefined
  /** Accepted `alg` values. Defaults to asymmetric algorithms only (HS* only with a secret `key`). */
  algorithms?: string[] | undefined
  /** Claim that holds the IdP session id. Defaults to `'sid'`. */
  sidClaim?: string | undefined
  /** Seconds after `exp` during which a correctly signed token still identifies its session. Defaults to `86400`. */
  expiredGrace?: number | undefined
  /** Seconds of clock skew tolerated on `nbf`/`iat`. Defaults to `60`. */
  clockTolerance?: number | undefined
  /** Longest token accepted, in bytes; longer ones are ignored unread. Defaults to `16384`. */
  maxLength?: number | undefined
  /**
   * Milliseconds a remote JWKS fetch may take (a hung IdP must not hold logouts). Defaults to `5000`.
   */
  jwksTimeout?: number | undefined
  /**
   * Largest remote JWKS answer read, in bytes; a longer body is aborted unread, so a hostile peer
   * posing as the IdP cannot fill memory. Defaults to `524288` (512 KiB).
   */
  jwksMaxBytes?: number | undefined
}

/** Which `returnTo` values a caller may ask for. */
export interface ReturnToOptions {
  /** Absolute http(s) URLs and/or paths (`'/bye'`, or `'/docs/*'` for a prefix). Defaults to `[]`. */
  allowed?: string[] | undefined
  /** Where to go when no `returnTo` was asked for. Defaults to `baseURL`, or `'/'`. */
  default?: string | undefined
}

/**
 * OpenID Connect Back-Channel Logout 1.0 receiver. Logout tokens are checked against the provider's
 * issuer, JWKS (or `accessToken.jwks`/`key`) and `clientId`, which must be set. Linked sessions are
 * destroyed in `sessionStore`, or in `req.sessionStore` when express-session runs before `logout()`;
 * with neither, the `sid` is still revoked (so `guard` refuses it) but no session is destroyed.
 */
export interface BackchannelOptions {
  /** Route that receives `POST logout_token=...` (the client's `backchannel_logout_uri`). */
  path: string
  /**
   * Pinned logout-token algorithms (asymmetric JWS only). Defaults to the client's ID-token
   * algorithm: the provider's `idTokenSigningAlg` (`oidc({ idTokenSigningAlg })`), else `['RS256']`
   * (Back-Channel Logout 1.0 §2.6 step 2, OpenID Connect Core 1.0 §3.1.3.7).
   */
  algorithms?: string[] | undefined
  /**
   * Oldest `iat` accepted, in seconds (1 to 86400). Seen `jti` values are kept
   * `maxAge + 2 × clockTolerance` seconds. Defaults to `300`.
   */
  maxAge?: number | undefined
  /** Clock skew tolerated on `iat`/`exp`, in seconds (0 to 600). Defaults to `60`. */
  clockTolerance?: number | undefined
  /**
   * Key to decrypt encrypted (JWE) logout tokens: a private `KeyObject`, a private JWK, or a secret.
   * When set, unencrypted tokens are refused (Back-Channel Logout 1.0 §2.6 step 1). Defaults to none: JWE refused.
   */
  decryptionKey?: KeyObject | JWK | Uint8Array | undefined
  /** Largest request body read, in bytes (1024 to 1 MiB); larger ones get `413`. Defaults to `16384`. */
  bodyLimit?: number | undefined
}

/**
 * OpenID Connect Front-Channel Logout 1.0 receiver. Needs the provider's issuer: `iss` is checked
 * against it and only its origin may frame the page (`Content-Security-Policy: frame-ancestors`).
 */
export interface FrontchannelOptions {
  /** Route the IdP loads in an iframe: `GET path?iss=...&sid=...` (the `frontchannel_logout_uri`). */
  path: string
  /**
   * Act on `iss`+`sid` only when the browser's own session is linked to them. The OP loads this
   * page in a cross-site iframe, where a default `SameSite=Lax` session cookie is not sent
   * (Front-Channel Logout 1.0 §4 notes that browsers may withhold the RP's cookies there), so with
   * this on an OP-initiated logout ends nothing unless the session cookie is `SameSite=None`.
   * Off (the default), the request ends every session linked to `iss`+`sid`: the `sid` is a
   * per-session value only the OP, the RP and the user's own tokens carry, so knowing it is what
   * it takes, and at worst someone who learnt one logs that session out. Defaults to `false`.
   */
  requireSession?: boolean | undefined
}

/** Options of the `guard` handler. */
export interface GuardOptions {
  /** Let requests through when the store cannot be reached. Defaults to `false` (answer `503`). */
  failOpen?: boolean | undefined
  /**
   * Claims an upstream middleware already verified (for example `req => req.auth?.payload`);
   * when it returns an object, `guard` does not verify the token again.
   */
  claims?: ((req: IncomingMessage) => JWTPayload | undefined) | undefined
  /**
   * Most seconds of the identity provider's clock running ahead of the app's that guard allows
   * for. With the IdP's clock ahead, a token issued just before a logout carries a later `iat` and
   * would pass; guard measures the lead from the `iat` of the tokens it verifies and refuses tokens
   * within that lead after a logout, up to this bound. The cost, only while the IdP's clock is
   * ahead: with an IdP that reuses `sid` values, a token issued within the lead after a logout is
   * refused too, until the next one. 0 to 600. Defaults to `accessToken.clockTolerance` (60).
   */
  clockTolerance?: number | undefined
}

/** Where log lines go. Messages never contain tokens or session ids. Defaults to `console`. */
export interface Logger {
  warn(message: string): void
  error(message: string): void
}

/** What `onLogout` receives, once per logout. */
export interface LogoutEvent {
  /**
   * `'service'`: another service sharing the store ended these sessions (a logout there), and this
   * one destroyed them in its own session store.
   */
  reason: 'user' | 'backchannel' | 'frontchannel' | 'api' | 'service'
  iss?: string | undefined
  sid?: string | undefined
  sub?: string | undefined
  /** The logout token's `jti` (back-channel only). */
  jti?: string | undefined
  /** Local sessions destroyed, including the current one. */
  sessionsDestroyed: number
  /**
   * Sessions of other services sharing the store (`options.service`), handed to them to destroy
   * in their own session stores. Absent when there were none.
   */
  sessionsHandedOver?: number | undefined
  /** The provider's `name`, when one is configured. */
  provider?: string | undefined
  /** Failures that did not stop the logout (store down, IdP call failed). Empty when all went well. */
  errors: LogoutError[]
  /** Plain-language notes (for example why the IdP session was not ended). */
  notes: string[]
}

/** Which login session `logout()` reads, links and ends; see {@link LogoutOptions.session}. */
export type SessionOption =
  'express-openid-connect' | { library: 'express-openid-connect'; name?: string | undefined }

/** Options of {@link logout}. Every field is optional. */
export interface LogoutOptions {
  /** Where the IdP session is ended. Defaults to none: local logout only. */
  provider?: Provider | undefined
  /** The logout route. Defaults to `'/logout'`. */
  path?: string | undefined
  /** Methods accepted on `path`. Defaults to `['GET', 'POST']`. */
  methods?: Array<'GET' | 'POST'> | undefined
  /**
   * Let a GET logout through when nothing shows it came from the app's own pages: no
   * `Sec-Fetch-Site` (browsers older than Fetch Metadata, non-browser clients) and no `Referer` of
   * the app. Such a GET is otherwise answered `403` with a one-button page that confirms with a
   * POST. Turning this on lets another site's `<img>` log those browsers' users out (logout CSRF).
   * Defaults to `false`.
   */
  allowUnverifiedGet?: boolean | undefined
  /** The app's public origin; relative `returnTo` values resolve against it, never against `Host`. */
  baseURL?: string | undefined
  accessToken?: AccessTokenOptions | undefined
  returnTo?: ReturnToOptions | undefined
  /** The express-session store whose sessions are destroyed. Defaults to `req.sessionStore`. */
  sessionStore?: SessionStoreLike | undefined
  /**
   * The login session, when it is express-openid-connect's: `'express-openid-connect'` (its session
   * at `req.appSession`), or `{ library: 'express-openid-connect', name }` for its `session.name`.
   * Defaults to `req.session`, of express-session or cookie-session (each recognised by its shape).
   */
  session?: SessionOption | undefined
  /** Index, revocation list and replay cache. Defaults to one `memoryStore()` per middleware. */
  store?: Store | undefined
  /**
   * This app's name among the services sharing `store`, each with its own session store. Links
   * record it, and a logout anywhere hands each service the ids of its own sessions, which it
   * destroys in its own session store at once (with `redisStore`, durably; see
   * docs/many-instances.md). Every instance of one service must use the same name, and services
   * with separate session stores distinct ones: up to 200 printable ASCII characters, no space,
   * `{` or `}`. Defaults to `baseURL`'s origin, else the provider's `clientId`, else `'app'`.
   */
  service?: string | undefined
  /** Cookies to clear. Defaults to the access-token cookie of `from` and express-session's cookie. */
  cookies?: Array<string | CookieSpec> | undefined
  /** Send `Clear-Site-Data` (`true`: `"cache", "cookies", "storage"`, or a list). Defaults to `false`. */
  clearSiteData?: boolean | string[] | undefined
  backchannel?: BackchannelOptions | undefined
  frontchannel?: FrontchannelOptions | undefined
  /** Called once per logout. Defaults to none. */
  onLogout?: ((event: LogoutEvent) => void | Promise<void>) | undefined
  /** Also revoke the user (`sub`): every session of that user at the issuer. Defaults to `false`. */
  everywhere?: boolean | undefined
  /** Seconds links and revocation records are kept; cover your longest session. Defaults to 14 days. */
  retention?: number | undefined
  guard?: GuardOptions | undefined
  /** Defaults to `console`. */
  logger?: Logger | undefined
}
