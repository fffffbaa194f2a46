/** Cookies: the `Cookie` header parsed, and `Set-Cookie` deletions with the attributes they were set with. */
import type { ServerResponse } from 'node:http'

/** A cookie to clear, described with the attributes it was set with (RFC 6265bis §3.1). */
export interface CookieSpec {
  name: string
  /** Defaults to `'/'`. Must match the `Path` the cookie was set with, or the browser keeps it. */
  path?: string
  /** Omit for a host-only cookie; a host-only cookie and a `Domain=` cookie are different cookies. */
  domain?: string
  secure?: boolean
  httpOnly?: boolean
  sameSite?: 'strict' | 'lax' | 'none'
  /** `true` for cookies set with the `Partitioned` attribute (CHIPS). */
  partitioned?: boolean
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
const ATTRIBUTE_VALUE = /^[\x21-\x3A\x3C-\x7E]+$/
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

/** `true` when `name` is a valid cookie name (an RFC 7230 token). */
export function isCookieName(name: string): boolean {
  return COOKIE_NAME.test(name)
}

/** `true` when `value` can be an attribute value (`Path`, `Domain`) without breaking the header. */
export function isAttributeValue(value: string): boolean {
  return ATTRIBUTE_VALUE.test(value)
}

/**
 * Applies the prefix rules of RFC 6265bis §4.1.3: `__Secure-` needs `Secure`; `__Host-` needs
 * `Secure`, `Path=/` and no `Domain`. Prefixes match case-insensitively (§5.4).
 */
export function withPrefixRules(spec: CookieSpec): CookieSpec {
  const lower = spec.name.toLowerCase()
  if (lower.startsWith('__host-')) return { ...spec, secure: true, path: '/', domain: undefined }
  if (lower.startsWith('__secure-')) return { ...spec, secure: true }
  return spec
}

/** Serialises one `Set-Cookie` value. Callers pass validated names and attributes only. */
export function serializeCookie(
  spec: CookieSpec,
  value: string,
  lifetime: { maxAge: number } | 'expired',
): string {
  if (!COOKIE_VALUE.test(value)) throw new TypeError(`cookie value for "${spec.name}" has invalid characters`)
  const s = withPrefixRules(spec)
  const parts = [`${s.name}=${value}`, `Path=${s.path ?? '/'}`]
  if (s.domain) parts.push(`Domain=${s.domain}`)
  if (lifetime === 'expired') parts.push(`Expires=${EPOCH}`, 'Max-Age=0')
  else parts.push(`Max-Age=${Math.floor(lifetime.maxAge)}`)
  if (s.httpOnly) parts.push('HttpOnly')
  if (s.secure || s.sameSite === 'none') parts.push('Secure')
  if (s.sameSite) parts.push(`SameSite=${s.sameSite[0]!.toUpperCase()}${s.sameSite.slice(1)}`)
  if (s.partitioned) parts.push('Partitioned')
  return parts.join('; ')
}

/** Adds `Set-Cookie` values to a response, keeping any the app already set. */
export function appendSetCookie(res: ServerResponse, values: string[]): void {
  if (values.length === 0) return
  const current = res.getHeader('Set-Cookie')
  const existing = current === undefined ? [] : Array.isArray(current) ? current : [String(current)]
  res.setHeader('Set-Cookie', [...existing, ...values])
}

/** Parses a `Cookie` request header into a name -> value map (first occurrence wins). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const name = pair.slice(0, eq).trim()
    if (cookies.has(name)) continue
    let value = pair.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    cookies.set(name, safeDecode(value))
  }
  return cookies
}

function safeDecode(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
