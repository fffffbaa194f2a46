/** Cookies: the `Cookie` header parsed, and `Set-Cookie` deletions with the attributes they were set with. */
import type { ServerResponse } from 'node:http'
import { parse, serialize } from 'cookie'

/** A cookie to clear, described with the attributes it was set with (RFC 6265bis §3.1). */
export interface CookieSpec {
  name: string
  /** Defaults to `'/'`. Must match the `Path` the cookie was set with, or the browser keeps it. */
  path?: string | undefined
  /** Omit for a host-only cookie; a host-only cookie and a `Domain=` cookie are different cookies. */
  domain?: string | undefined
  secure?: boolean | undefined
  httpOnly?: boolean | undefined
  sameSite?: 'strict' | 'lax' | 'none' | undefined
  /**
   * `true` for cookies set with the `Partitioned` attribute (CHIPS): a partitioned cookie lives in
   * its own jar, and a deletion without `Partitioned` does not reach it.
   */
  partitioned?: boolean | undefined
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const ATTRIBUTE_VALUE = /^[\x21-\x3A\x3C-\x7E]+$/
const EPOCH = new Date(0)

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

/**
 * Serialises one `Set-Cookie` value with the `cookie` package (the serialiser Express and
 * express-session use). Callers pass validated names and attributes only; the value must be a
 * cookie-octet string, which the package checks.
 */
export function serializeCookie(
  spec: CookieSpec,
  value: string,
  lifetime: { maxAge: number } | 'expired',
): string {
  const s = withPrefixRules(spec)
  return serialize(s.name, value, {
    path: s.path ?? '/',
    domain: s.domain,
    ...(lifetime === 'expired' ? { expires: EPOCH, maxAge: 0 } : { maxAge: Math.floor(lifetime.maxAge) }),
    httpOnly: s.httpOnly,
    // Browsers drop `SameSite=None` without `Secure` (RFC 6265bis §5.6.7), and a partitioned cookie
    // must be `Secure` (CHIPS).
    secure: s.secure || s.sameSite === 'none' || s.partitioned,
    sameSite: s.sameSite,
    partitioned: s.partitioned,
    // The value is written as given: callers pass empty strings or base64url state values.
    encode: (v) => v,
  })
}

/** Deletions already serialised, by their attributes: most apps clear one or two distinct cookies. */
const deletions = new Map<string, string>()
const MAX_DELETIONS = 64
const SEPARATOR = '\u0001'

/**
 * The `Set-Cookie` value that deletes the cookie `spec` describes: {@link serializeCookie} with an
 * empty value, expired. Kept by attributes, because a logout sends the same deletion every time.
 */
export function deletionOf(spec: CookieSpec): string {
  // Fields joined by U+0001, which no valid cookie name, path or domain holds (RFC 6265bis §4.1.1:
  // no control characters); the path and domain are marked when set, so a missing attribute never
  // reads as an empty one. A spec with U+0001 in it is not kept, and the serialiser refuses it.
  const { name, path, domain } = spec
  if (name.includes(SEPARATOR) || path?.includes(SEPARATOR) || domain?.includes(SEPARATOR))
    return serializeCookie(spec, '', 'expired')
  const flags = (spec.secure === true ? 4 : 0) + (spec.httpOnly === true ? 2 : 0) + (spec.partitioned ? 1 : 0)
  const key = `${name}${SEPARATOR}${marked(path)}${SEPARATOR}${marked(domain)}${SEPARATOR}${spec.sameSite ?? ''}${SEPARATOR}${flags}`
  let value = deletions.get(key)
  if (value === undefined) {
    value = serializeCookie(spec, '', 'expired')
    // A bound, so attributes that vary without end (a path per tenant) cannot grow the map forever.
    if (deletions.size >= MAX_DELETIONS) deletions.clear()
    deletions.set(key, value)
  }
  return value
}

const marked = (attribute: string | undefined): string => (attribute === undefined ? '' : `=${attribute}`)

/** Adds `Set-Cookie` values to a response, keeping any the app already set. */
export function appendSetCookie(res: ServerResponse, values: string[]): void {
  if (values.length === 0) return
  const current = res.getHeader('Set-Cookie')
  const existing = current === undefined ? [] : Array.isArray(current) ? current : [String(current)]
  res.setHeader('Set-Cookie', [...existing, ...values])
}

/** Parses a `Cookie` request header into a name -> value map (first occurrence wins). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  if (!header) return new Map()
  // `cookie.parse` keeps the first of repeated names, strips quotes and URI-decodes values (a value
  // that is not valid percent-encoding is kept as it is).
  const parsed = parse(header)
  const cookies = new Map<string, string>()
  for (const name in parsed) {
    const value = parsed[name]
    if (value !== undefined) cookies.set(name, value)
  }
  return cookies
}
