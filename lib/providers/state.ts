/** The RP-Initiated Logout `state`: issued in a cookie, checked when the OP sends the browser back. */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { contextOf } from '../request/context.js'
import { appendSetCookie, serializeCookie } from '../request/cookies.js'
import type { CookieSpec } from '../request/cookies.js'
import type { EndSessionContext } from './contract.js'

/** Cookie that carries the logout `state` across the round trip through the IdP. */
export const STATE_COOKIE = 'sso_logout_state'
/** Ten minutes: long enough for a confirmation page at the IdP, short enough to be useless later. */
export const STATE_MAX_AGE = 600

/**
 * Creates a random `state` for an RP-Initiated Logout request and remembers it in a short-lived
 * HttpOnly, SameSite=Lax cookie (Lax, because the IdP brings the browser back with a top-level GET).
 * RP-Initiated Logout 1.0 §2 lets the RP pass `state` and §3 has the OP return it unchanged; checking it
 * proves the return belongs to a logout this browser started.
 */
export function issueState(context: EndSessionContext): string {
  const state = randomBytes(24).toString('base64url')
  const secure = context.returnTo?.protocol === 'https:'
  context.setCookie(STATE_COOKIE, state, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: STATE_MAX_AGE,
  })
  return state
}

/**
 * Checks, on the page the IdP sends the browser back to (your `returnTo`), that the `state` query
 * parameter is the one this browser was given when it left. Pass `res` to also delete the cookie,
 * so a state is good once. Returns `false` when either side is missing or they differ.
 *
 * @example
 * ```ts
 * app.get('/goodbye', (req, res) => {
 *   if (!checkLogoutState(req, res)) return res.status(400).send('Unexpected logout response')
 *   res.send('You are signed out.')
 * })
 * ```
 */
export function checkLogoutState(req: IncomingMessage, res?: ServerResponse): boolean {
  // The request's one context: its cookies are parsed once, whoever else reads them.
  const expected = contextOf(req).cookie(STATE_COOKIE)
  const received = new URL(req.url ?? '/', 'http://placeholder').searchParams.get('state')
  if (res && expected !== undefined) {
    const spec: CookieSpec = { name: STATE_COOKIE, path: '/', httpOnly: true, sameSite: 'lax' }
    appendSetCookie(res, [serializeCookie(spec, '', 'expired')])
  }
  return statesMatch(expected, received ?? undefined)
}

/** `true` when both are present and equal, compared in constant time. */
export function statesMatch(expected: string | undefined, received: string | undefined): boolean {
  if (!expected || !received) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(received)
  return a.length === b.length && timingSafeEqual(a, b)
}
