/** The logout route's CSRF gate: which requests a browser made on behalf of another site. */
import type { IncomingMessage } from 'node:http'

/** How the gate judged a request. `'unproven'`: a GET with no sign it came from the app's own pages. */
export type Verdict = 'same-origin' | 'cross-site' | 'unproven'

/**
 * Logout CSRF defence (README "What happens on /logout", step 1). Logging a user out is a state
 * change, so a page on another site must not be able to trigger it, and a browser sends a GET for
 * any `<img>` or link (RFC 9110 §9.2.1 means GET to be safe; logout is not).
 *
 * - `Sec-Fetch-Site` (Fetch Metadata) is set by the browser and cannot be forged by a page:
 *   `cross-site` is refused; `same-origin` and `none` (a typed URL, a bookmark) pass; `same-site`
 *   (a sibling subdomain) passes only with an `Origin` or `Referer` of a trusted origin.
 * - A POST is judged by `Origin`, which browsers send on every cross-origin POST: it must be
 *   `baseURL`'s origin or the request's own. A POST with no browser header at all comes from a
 *   non-browser client and passes.
 * - A GET without Fetch Metadata (a browser older than it, or a non-browser client) passes only with
 *   a `Referer` of a trusted origin; otherwise it is `'unproven'`, and the route asks the user to
 *   confirm with a POST instead of logging out (unless `allowUnverifiedGet`).
 */
export function judgeRequest(req: IncomingMessage, trustedOrigins: ReadonlySet<string>): Verdict {
  const site = req.headers['sec-fetch-site']
  if (site === 'cross-site') return 'cross-site'
  if (site === 'same-origin' || site === 'none') return 'same-origin'
  const claimed = req.method === 'POST' ? req.headers.origin : refererOrigin(req.headers.referer)
  if (claimed !== undefined) return isTrusted(claimed, req, trustedOrigins) ? 'same-origin' : 'cross-site'
  // A browser that says `same-site` but names no origin cannot be told apart from a sibling site.
  if (site === 'same-site') return 'cross-site'
  return req.method === 'POST' ? 'same-origin' : 'unproven'
}

function refererOrigin(referer: string | undefined): string | undefined {
  return referer !== undefined && URL.canParse(referer) ? new URL(referer).origin : undefined
}

function isTrusted(origin: string, req: IncomingMessage, trustedOrigins: ReadonlySet<string>): boolean {
  return trustedOrigins.has(origin) || isRequestOrigin(origin, req.headers.host)
}

function isRequestOrigin(origin: string, host: string | undefined): boolean {
  if (!host || !URL.canParse(origin)) return false
  const url = new URL(origin)
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.host === host.toLowerCase()
}
