/** The RP-Initiated Logout `state`: issued in a cookie, checked when the OP sends the browser back. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
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
 * What the `state` on a return from the OP means for this browser (RP-Initiated Logout 1.0 §3):
 * - `'valid'`: the `state` this browser was given when it left; its logout came back.
 * - `'used'`: the `state` of a logout this browser already finished here (a reload, or Back).
 * - `'missing'`: no `state` on the request (the page was opened directly, or the OP dropped it).
 * - `'unknown'`: a `state` this browser is not waiting for: issued to another browser, made up,
 *   or older than ten minutes. Not this browser's logout response.
 */
export type LogoutState = 'valid' | 'used' | 'missing' | 'unknown'

/**
 * Cookie that remembers, for as long as a `state` lives, the hash of the last `state` this browser
 * finished: a reload or Back then reads `'used'` instead of looking like a stranger's response.
 */
export const USED_STATE_COOKIE = 'sso_logout_state_used'

/**
 * Reads the `state` on the page the IdP sends the browser back to (your `returnTo`) against the one
 * this browser was given when it left. Pass `res` to make a state good once: the `state` cookie is
 * deleted, and a `'valid'` state is remembered as used (by its hash, for ten minutes), so a reload
 * or Back reads `'used'`. Only `'valid'` proves that a logout this browser started came back; no
 * answer changes anything for the user, so none calls for an error page.
 *
 * @example
 * ```ts
 * app.get('/goodbye', (req, res) => {
 *   if (logoutStateOf(req, res) === 'unknown')
 *     return res.status(400).send('This sign-out was not started in this browser. Nothing was changed.')
 *   res.send('You are signed out.')
 * })
 * ```
 */
export function logoutStateOf(req: IncomingMessage, res?: ServerResponse): LogoutState {
  // The request's one context: its cookies are parsed once, whoever else reads them.
  const context = contextOf(req)
  const expected = context.cookie(STATE_COOKIE)
  const values = new URL(req.url ?? '/', 'http://placeholder').searchParams.getAll('state')
  const received = values.length === 1 ? values[0] : undefined
  const result = judge(values.length, received, expected, context.cookie(USED_STATE_COOKIE))
  if (res) remember(res, expected !== undefined, result === 'valid' ? hashOf(received!) : undefined)
  return result
}

function judge(
  count: number,
  received: string | undefined,
  expected: string | undefined,
  used: string | undefined,
): LogoutState {
  if (count === 0 || received === '') return 'missing'
  // A repeated `state` is ambiguous (which one did the OP send?): it is nobody's response.
  if (received === undefined) return 'unknown'
  if (statesMatch(expected, received)) return 'valid'
  return statesMatch(used, hashOf(received)) ? 'used' : 'unknown'
}

/**
 * Checks, on the page the IdP sends the browser back to (your `returnTo`), that the `state` query
 * parameter is the one this browser was given when it left: `logoutStateOf(req, res) === 'valid'`.
 * Pass `res` to also delete the cookie, so a state is good once. Returns `false` when either side is
 * missing or they differ; {@link logoutStateOf} tells a reload from a stranger's state.
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
  return logoutStateOf(req, res) === 'valid'
}

/** Deletes the live `state` cookie (when the browser sent one) and remembers a finished state's hash. */
function remember(res: ServerResponse, hadState: boolean, usedHash: string | undefined): void {
  const spec = (name: string): CookieSpec => ({ name, path: '/', httpOnly: true, sameSite: 'lax' })
  const cookies = hadState ? [serializeCookie(spec(STATE_COOKIE), '', 'expired')] : []
  if (usedHash !== undefined)
    cookies.push(serializeCookie(spec(USED_STATE_COOKIE), usedHash, { maxAge: STATE_MAX_AGE }))
  appendSetCookie(res, cookies)
}

/** The used-state cookie keeps a hash: the value that proved a return is never written back. */
function hashOf(state: string): string {
  return createHash('sha256').update(state).digest('base64url')
}

/** `true` when both are present and equal, compared in constant time. */
export function statesMatch(expected: string | undefined, received: string | undefined): boolean {
  if (!expected || !received) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(received)
  return a.length === b.length && timingSafeEqual(a, b)
}
