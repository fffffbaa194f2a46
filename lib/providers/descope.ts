/** `descope()`: ends the Descope session server-side with its logout API. */
import { LogoutError } from '../errors.js'
import type { EndSessionContext, EndSessionResult, Provider } from './contract.js'
import { optionalBoolean, optionalSource, optionalString, optionalTimeout } from './check.js'
import { optionsRecord, requiredString } from './check.js'
import { jsonObject, send } from '../outbound.js'
import { appendPath, atPath, originUrl } from './url.js'

/** Options of {@link descope}. */
export interface DescopeOptions {
  /** The Descope project id (`P2...`). */
  projectId: string
  /** API origin. Defaults to `'https://api.descope.com'` (set it for a custom domain). */
  baseUrl?: string | undefined
  /** End every session of the user (`/v1/auth/logoutall`) instead of this one. Defaults to `false`. */
  all?: boolean | undefined
  /** Where the refresh JWT is kept. Defaults to `'cookie:DSR'`, where the Descope SDKs put it. */
  refreshToken?: string | undefined
  /** Milliseconds to wait for Descope. Defaults to `5000`. */
  timeout?: number | undefined
  /** `Domain` the `DS`/`DSR` cookies were set with (Descope's `cookieDomain`). Defaults to host-only. */
  cookieDomain?: string | undefined
  /**
   * Expected `iss` of session JWTs, compared as a string. Defaults to `{baseUrl}/{projectId}`; older
   * projects issue the bare project id, so set it to that there.
   */
  issuer?: string | undefined
}

const KEYS = ['projectId', 'baseUrl', 'all', 'refreshToken', 'timeout', 'cookieDomain', 'issuer'] as const
const PURPOSE = 'Descope logout'

/**
 * Descope. Ends the session server-side with `POST {baseUrl}/v1/auth/logout` (or `/logoutall`),
 * `Authorization: Bearer {projectId}:{refreshJwt}` and body `{}` (Descope's Logout API
 * documentation), clears the `DS` and `DSR` cookies, and lets the route redirect to `returnTo`. A Descope failure never blocks the
 * local logout: it is reported in `event.errors`.
 *
 * @example
 * ```ts
 * app.use(logout({
 *   provider: descope({ projectId: process.env.DESCOPE_PROJECT_ID! }),
 *   accessToken: { from: ['cookie:DS'] },
 * }))
 * ```
 */
export function descope(options: DescopeOptions): Provider {
  const o = optionsRecord('descope', options, KEYS)
  const projectId = requiredString('descope', o, 'projectId')
  const base = originUrl(
    'descope.baseUrl',
    optionalString('descope', o, 'baseUrl', 'https://api.descope.com is called') ?? 'https://api.descope.com',
  )
  const all = optionalBoolean('descope', o, 'all') ?? false
  const source = optionalSource('descope', o, 'refreshToken') ?? 'cookie:DSR'
  const timeout = optionalTimeout('descope', o, 'timeout') ?? 5000
  const domain = optionalString(
    'descope',
    o,
    'cookieDomain',
    'the DS and DSR cookies are cleared host-only, and ones set with a Domain stay',
  )
  const issuer =
    optionalString('descope', o, 'issuer', 'session JWTs must carry the issuer {baseUrl}/{projectId}') ??
    appendPath(base, projectId).href
  const endpoint = atPath(base, all ? '/v1/auth/logoutall' : '/v1/auth/logout')
  const jwksUri = appendPath(base, 'v2', 'keys', projectId).href
  return {
    name: 'descope',
    issuer,
    cookies: [
      { name: 'DS', path: '/', domain },
      { name: 'DSR', path: '/', domain },
    ],
    metadata: () => ({ jwksUri }),
    endSession: async function descopeLogout(context: EndSessionContext): Promise<EndSessionResult> {
      const refreshJwt = context.read(source)
      if (!refreshJwt)
        return { notes: [`no Descope refresh token in ${source}: the Descope session was not ended`] }
      const error = await callLogout(endpoint, `${projectId}:${refreshJwt}`, timeout)
      return error ? { errors: [error] } : {}
    },
  }
}

/** Calls the logout endpoint; resolves to the failure, if any, instead of throwing it. */
async function callLogout(
  endpoint: URL,
  credentials: string,
  timeout: number,
): Promise<LogoutError | undefined> {
  try {
    const inbound = await send({
      url: endpoint,
      method: 'POST',
      headers: { authorization: `Bearer ${credentials}`, 'content-type': 'application/json' },
      body: '{}',
      timeout,
      purpose: PURPOSE,
    })
    if (inbound.status < 200 || inbound.status > 299) {
      return new LogoutError('ERR_PROVIDER_RESPONSE', `${PURPOSE} answered HTTP ${inbound.status}`)
    }
    jsonObject(inbound, PURPOSE)
    return undefined
  } catch (cause) {
    if (cause instanceof LogoutError) return cause
    return new LogoutError('ERR_PROVIDER_REQUEST', `${PURPOSE} failed`, { cause })
  }
}
