/** `workos()`: WorkOS AuthKit's session logout, by the access token's `sid`. */
import type { EndSessionContext, EndSessionResult, Provider } from './contract.js'
import { optionalString, optionsRecord, requiredString } from './check.js'
import { appendPath, atPath, hostOrigin, secureUrl, withParams } from './url.js'

/** Options of {@link workos}. */
export interface WorkOSOptions {
  /** The WorkOS client id (`client_...`): selects the JWKS. */
  clientId: string
  /** API host name. Defaults to `'api.workos.com'` (set it for a custom authentication domain). */
  apiHostname?: string | undefined
  /**
   * Expected `iss` of access tokens. Defaults to none: WorkOS shows both `https://api.workos.com`
   * and `https://api.workos.com/user_management/{clientId}`, and a custom domain changes it, so set
   * the one your tokens carry (or `accessToken.issuer`) to have it checked.
   */
  issuer?: string | undefined
}

const KEYS = ['clientId', 'apiHostname', 'issuer'] as const
const NO_SID = 'no verified sid: the WorkOS session was not ended'

/**
 * WorkOS AuthKit. Sends the browser to
 * `GET https://api.workos.com/user_management/sessions/logout?session_id={sid}&return_to=..`;
 * `session_id` is the verified access token's `sid` (WorkOS AuthKit's session logout
 * documentation). Without one, WorkOS cannot end the session, so the route logs out locally, redirects to `returnTo` and says so in `event.notes`.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: workos({ clientId: process.env.WORKOS_CLIENT_ID! }),
 *   baseURL: 'https://app.example.com',
 *   accessToken: { from: ['cookie:wos_access_token'] },
 * }))
 * ```
 */
export function workos(options: WorkOSOptions): Provider {
  const o = optionsRecord('workos', options, KEYS)
  const clientId = requiredString('workos', o, 'clientId')
  const origin = hostOrigin(
    'workos.apiHostname',
    optionalString('workos', o, 'apiHostname', 'api.workos.com is used') ?? 'api.workos.com',
  )
  const issuer = optionalString('workos', o, 'issuer', 'the iss of access tokens is not checked')
  if (issuer !== undefined) secureUrl('workos.issuer', issuer)
  const endpoint = atPath(origin, '/user_management/sessions/logout')
  const jwksUri = appendPath(origin, 'sso', 'jwks', clientId).href
  return {
    name: 'workos',
    issuer,
    clientId,
    needsAbsoluteReturnTo: true,
    metadata: () => ({ jwksUri }),
    endSession: function workosLogout(context: EndSessionContext): EndSessionResult {
      if (!context.sid) return { notes: [NO_SID] }
      return {
        redirect: withParams(endpoint, { session_id: context.sid, return_to: context.returnTo?.href }),
      }
    },
  }
}
