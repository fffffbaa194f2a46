/** The logout route's CSRF gate: which requests a browser made on behalf of another site. */
import type { IncomingMessage } from 'node:http'

/**
 * Logout CSRF defence (README "What happens on /logout", step 1). A request is cross-site when the browser says so
 * (`Sec-Fetch-Site: cross-site`), or when it is a POST whose `Origin` is neither the configured
 * `baseURL` origin nor the origin the request was sent to. A POST without `Origin` comes from a
 * non-browser client or an old browser and is let through; every current browser sends `Origin`
 * on cross-origin POSTs.
 */
export function isCrossSite(req: IncomingMessage, trustedOrigins: ReadonlySet<string>): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true
  if (req.method !== 'POST') return false
  const origin = req.headers.origin
  if (origin === undefined) return false
  if (trustedOrigins.has(origin)) return false
  return !isRequestOrigin(origin, req.headers.host)
}

function isRequestOrigin(origin: string, host: string | undefined): boolean {
  if (!host || !URL.canParse(origin)) return false
  const url = new URL(origin)
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.host === host.toLowerCase()
}
