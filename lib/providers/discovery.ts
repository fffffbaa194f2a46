/** OpenID Connect Discovery 1.0: the provider metadata document, cached, with a backoff after failures. */
import { LogoutError } from '../errors.js'
import { jsonObject, send } from '../outbound.js'
import { isSecureOrLoopback } from './url.js'

/** The discovery fields sso-logout uses (OpenID Connect Discovery 1.0 §3, RFC 8414 §2). */
export interface DiscoveryDocument {
  issuer: string
  jwks_uri?: string
  end_session_endpoint?: string
  revocation_endpoint?: string
  revocation_endpoint_auth_methods_supported?: string[]
  id_token_signing_alg_values_supported?: string[]
}

/** A cached discovery document: fetched once, reused, fetched again after a failure with a backoff. */
export interface Discovery {
  get(): Promise<DiscoveryDocument>
}

/** Longest a good document is reused before it is fetched again (a stale one is kept if that fails). */
const MAX_AGE = 60 * 60 * 1000
const FIRST_BACKOFF = 1000
const MAX_BACKOFF = 5 * 60 * 1000

/**
 * Discovery for `issuer`. A failure is an `ERR_PROVIDER_DISCOVERY` with status 502; while in
 * backoff the last failure is rethrown without a request, so an outage does not turn every logout
 * into another slow call to a dead IdP.
 */
export function createDiscovery(issuer: string, timeout: number): Discovery {
  const url = new URL(issuer)
  url.pathname = `${url.pathname.replace(/\/$/, '')}/.well-known/openid-configuration`
  let document: DiscoveryDocument | undefined
  let fetchedAt = 0
  let failure: { error: LogoutError; retryAt: number; backoff: number } | undefined
  let inFlight: Promise<DiscoveryDocument> | undefined

  async function refresh(): Promise<DiscoveryDocument> {
    try {
      document = parse(await send({ url, method: 'GET', timeout, purpose: 'OIDC discovery' }), issuer)
      fetchedAt = Date.now()
      failure = undefined
      return document
    } catch (cause) {
      const backoff = failure ? Math.min(failure.backoff * 2, MAX_BACKOFF) : FIRST_BACKOFF
      failure = { error: discoveryError(issuer, cause), retryAt: Date.now() + backoff, backoff }
      if (document) return document
      throw failure.error
    } finally {
      inFlight = undefined
    }
  }

  return {
    get() {
      const now = Date.now()
      if (document && now - fetchedAt < MAX_AGE) return Promise.resolve(document)
      if (failure && now < failure.retryAt)
        return document ? Promise.resolve(document) : Promise.reject(failure.error)
      inFlight ??= refresh()
      return inFlight
    },
  }
}

/** Every discovery failure carries the discovery code, whatever failed underneath (kept as `cause`). */
function discoveryError(issuer: string, cause: unknown): LogoutError {
  if (cause instanceof LogoutError && cause.code === 'ERR_PROVIDER_DISCOVERY') return cause
  const detail = cause instanceof Error ? `: ${cause.message}` : ''
  return new LogoutError('ERR_PROVIDER_DISCOVERY', `OIDC discovery of ${issuer} failed${detail}`, {
    cause,
  })
}

function parse(inbound: { status: number; body: string }, issuer: string): DiscoveryDocument {
  if (inbound.status !== 200) {
    throw new LogoutError(
      'ERR_PROVIDER_DISCOVERY',
      `OIDC discovery of ${issuer} answered HTTP ${inbound.status}`,
    )
  }
  const doc = jsonObject(inbound, 'OIDC discovery')
  // Discovery §4.3: the issuer in the document MUST be identical to the one it was fetched for.
  if (doc.issuer !== issuer) {
    throw new LogoutError('ERR_PROVIDER_DISCOVERY', `OIDC discovery issuer mismatch: expected ${issuer}`)
  }
  for (const key of ['jwks_uri', 'end_session_endpoint', 'revocation_endpoint'] as const) {
    const value = doc[key]
    if (value !== undefined && !isEndpoint(value)) {
      throw new LogoutError('ERR_PROVIDER_DISCOVERY', `OIDC discovery ${key} must be an https URL`)
    }
  }
  return {
    issuer,
    jwks_uri: doc.jwks_uri as string | undefined,
    end_session_endpoint: doc.end_session_endpoint as string | undefined,
    revocation_endpoint: doc.revocation_endpoint as string | undefined,
    revocation_endpoint_auth_methods_supported: stringList(doc.revocation_endpoint_auth_methods_supported),
    id_token_signing_alg_values_supported: stringList(doc.id_token_signing_alg_values_supported),
  }
}

/** RP-Initiated Logout §2.1 and RFC 7009 §2: endpoints MUST be https (loopback http for development). */
function isEndpoint(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false
  return isSecureOrLoopback(new URL(value))
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
}
