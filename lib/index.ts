/** The public surface of sso-logout: re-exports only. */
export { logout } from './middleware.js'
export type { LogoutMiddleware } from './middleware.js'
export { LogoutError } from './errors.js'
export type { LogoutErrorCode, LogoutErrorOptions } from './errors.js'
export { memoryStore } from './stores/memory/store.js'
export type { MemoryStoreOptions } from './stores/memory/store.js'
export { redisStore } from './stores/redis/store.js'
export type { RedisStoreOptions } from './stores/redis/store.js'
export type { LocalViewEvent, LocalViewOptions } from './stores/redis/view.js'
export type { DeliveryOptions } from './stores/redis/receiver.js'
export { auth0 } from './providers/auth0.js'
export type { Auth0Options } from './providers/auth0.js'
export { workos } from './providers/workos.js'
export type { WorkOSOptions } from './providers/workos.js'
export { descope } from './providers/descope.js'
export type { DescopeOptions } from './providers/descope.js'
export { oidc } from './providers/oidc.js'
export type { OidcOptions, OidcCommonOptions } from './providers/oidc.js'
export { okta, keycloak, entra } from './providers/presets.js'
export type { OktaOptions, KeycloakOptions, EntraOptions } from './providers/presets.js'
export { cognito } from './providers/cognito.js'
export type { CognitoOptions } from './providers/cognito.js'
export { checkLogoutState, logoutStateOf } from './providers/state.js'
export type { LogoutState } from './providers/state.js'
export type {
  Store,
  Subject,
  LinkRecord,
  TakeQuery,
  TakenSessions,
  Delivery,
  Receiver,
  ReceiveOptions,
  Awaitable,
} from './stores/contract.js'
export type { Provider, ProviderMetadata, EndSessionContext, EndSessionResult } from './providers/contract.js'
export type { CookieSpec } from './request/cookies.js'
export type { LinkInput, LinkOptions } from './companions/link.js'
export type { RevokeInput } from './companions/revoke.js'
export type * from './options/types.js'
