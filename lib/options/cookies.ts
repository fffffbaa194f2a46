/** The `cookies` and `clearSiteData` options: what a logout deletes from the browser. */
import type { CookieSpec } from '../request/cookies.js'
import { isAttributeValue, isCookieName } from '../request/cookies.js'
import type { Source } from '../request/sources.js'
import * as v from './check.js'

const CLEAR_SITE_DATA = ['cache', 'cookies', 'storage', 'executionContexts', 'clientHints', '*']
const COOKIE_KEYS = ['name', 'path', 'domain', 'secure', 'httpOnly', 'sameSite', 'partitioned']

/** The access-token cookies named in `accessToken.from`: cleared when `cookies` is not given. */
export function defaultCookies(sources: Source[]): CookieSpec[] {
  return sources.flatMap((s) => (s.kind === 'cookie' ? [{ name: s.name, path: '/' }] : []))
}

/** `options.cookies`: names or full specs; `undefined` when not given. */
export function cookiesOption(value: unknown): CookieSpec[] | undefined {
  const list = v.arrayOption(value, 'options.cookies')
  return list?.map((item, i) =>
    cookieSpec(typeof item === 'string' ? { name: item } : item, `options.cookies[${i}]`),
  )
}

function cookieSpec(value: unknown, path: string): CookieSpec {
  const o = v.objectOption(value, path, COOKIE_KEYS)!
  if (typeof o.name !== 'string' || !isCookieName(o.name))
    throw v.invalidArg(`${path}.name`, 'a valid cookie name', o.name)
  for (const attr of ['path', 'domain'] as const) {
    const attrValue = o[attr]
    if (attrValue !== undefined && (typeof attrValue !== 'string' || !isAttributeValue(attrValue))) {
      throw v.invalidArg(`${path}.${attr}`, 'a string without spaces, ";" or control characters', attrValue)
    }
  }
  if (o.name.toLowerCase().startsWith('__host-') && (o.domain !== undefined || (o.path ?? '/') !== '/')) {
    throw v.invalidArg(path, 'a __Host- cookie with Path "/" and no Domain (RFC 6265bis §4.1.3.2)', value)
  }
  if (o.sameSite !== undefined && !['strict', 'lax', 'none'].includes(o.sameSite as string)) {
    throw v.invalidArg(`${path}.sameSite`, '"strict", "lax" or "none"', o.sameSite)
  }
  return {
    name: o.name,
    path: (o.path as string | undefined) ?? '/',
    domain: o.domain as string | undefined,
    secure: v.booleanOption(o.secure, `${path}.secure`, false),
    httpOnly: v.booleanOption(o.httpOnly, `${path}.httpOnly`, false),
    sameSite: o.sameSite as CookieSpec['sameSite'],
    partitioned: v.booleanOption(o.partitioned, `${path}.partitioned`, false),
  }
}

/** `options.clearSiteData`: the header value, serialised once, or `undefined` for none. */
export function clearSiteDataOption(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  const list =
    value === true ? ['cache', 'cookies', 'storage'] : v.arrayOption(value, 'options.clearSiteData')!
  list.forEach((d, i) => {
    if (typeof d !== 'string' || !CLEAR_SITE_DATA.includes(d)) {
      throw v.invalidArg(`options.clearSiteData[${i}]`, `one of ${CLEAR_SITE_DATA.join(', ')}`, d)
    }
  })
  // Directives are quoted strings (Clear-Site-Data §3.1).
  return list.map((d) => `"${d as string}"`).join(', ')
}
