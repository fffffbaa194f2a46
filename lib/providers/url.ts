/** URL options of the provider factories: https (http on loopback only), hosts, origins, query parameters. */
import { isLoopback as isLoopbackHost } from '../options/check.js'
import { optionError } from '../options/check.js'

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[::1\])(?::\d{1,5})?$/i

/** `true` for the hosts that may use plain http (local development and tests only). */
export function isLoopback(url: URL): boolean {
  return isLoopbackHost(url.hostname)
}

/** `true` when `url` is https, or http on a loopback host. */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))
}

/**
 * The origin of a bare host option such as `acme.eu.auth0.com` or `127.0.0.1:4000`: https, except
 * for loopback hosts, which get http so a local stand-in can answer.
 */
export function hostOrigin(option: string, host: string): URL {
  if (!HOST.test(host)) {
    throw optionError(`"${option}" must be a host name such as "tenant.example.com" (no scheme, no path)`)
  }
  const url = new URL('https://localhost')
  url.host = host
  if (isLoopback(url)) url.protocol = 'http:'
  return url
}

/** An absolute URL option: https (or loopback http), no credentials, no fragment. */
export function secureUrl(option: string, value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw optionError(`"${option}" must be an absolute URL`)
  }
  if (!isSecureOrLoopback(url) || url.username || url.password || url.hash) {
    throw optionError(
      `"${option}" must be an https URL without credentials or fragment (http only on loopback)`,
    )
  }
  return url
}

/** An origin option (`https://api.descope.com`): a {@link secureUrl} with no path or query. */
export function originUrl(option: string, value: string): URL {
  const url = secureUrl(option, value)
  if (url.pathname !== '/' || url.search)
    throw optionError(`"${option}" must be an origin, with no path or query`)
  return url
}

/** A copy of `base` at `path` (absolute path on the same origin). */
export function atPath(base: URL, path: string): URL {
  return new URL(path, base.origin)
}

/**
 * A copy of `base` (query and fragment dropped) with path `segments` appended, each one
 * percent-encoded: `appendPath(new URL('https://kc.test/auth'), 'realms', realm)`.
 */
export function appendPath(base: URL, ...segments: string[]): URL {
  const url = new URL(base.origin)
  const path = segments.map((segment) => encodeURIComponent(segment)).join('/')
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/${path}`
  return url
}

/**
 * A copy of `endpoint` with `params` set. Query parameters already on the endpoint are kept
 * (RP-Initiated Logout §2 lets an OP advertise an endpoint with its own query string); `undefined`
 * values are skipped and `true` adds a parameter with no value (Auth0's `federated` flag).
 */
export function withParams(endpoint: URL, params: Record<string, string | true | undefined>): URL {
  const url = new URL(endpoint.href)
  const flags: string[] = []
  for (const [name, value] of Object.entries(params)) {
    if (value === true) flags.push(name)
    else if (value !== undefined) url.searchParams.set(name, value)
  }
  if (flags.length === 0) return url
  // URLSearchParams always writes `name=`; a bare flag has to be appended to the serialised query.
  const query = [url.searchParams.toString(), ...flags.map(encodeURIComponent)].filter(Boolean)
  url.search = query.join('&')
  return url
}
