/** The strict parse of a `returnTo` value: only two shapes, normalised with WHATWG `URL`. */

/** Longer values are refused unread: no allowed target needs more, and parsing cost stays bounded. */
const MAX_LENGTH = 2048
/** Printable ASCII only: rejects spaces, tabs, CR/LF, DEL and every non-ASCII (IDN, full-width) char. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/
/** Percent-encoded controls would be decoded by some downstream proxy or framework into a header break. */
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i
/** A `%` that starts no escape: decoders disagree on it (some throw, some keep it). */
const BROKEN_ESCAPE = /%(?![0-9a-f]{2})/i
/** An encoded `/` or `\` in a path can turn into `//host` once something decodes it again. */
const ENCODED_SLASH = /%(?:2f|5c)/i
/** Host names and IPv4 literals as typed, with an optional port: no userinfo, no `[v6]`, no `%`. */
const AUTHORITY = /^[a-z0-9.-]+(?::[0-9]{1,5})?$/i
const ABSOLUTE = /^(https?):\/\/([^/?#]*)/

/** A value after strict parsing: `key` is what allow-list entries are compared on. */
export interface Candidate {
  /** The normalised href (absolute), or the normalised path plus query (relative, no `baseURL`). */
  key: string
  url: URL | undefined
  /** `url.origin`, or `''` for a relative value. */
  origin: string
  pathname: string
}

/** The path of a value that passed {@link parseValue}: what follows the authority, up to the query. */
export function rawPath(raw: string): string {
  const start = raw.startsWith('/') ? 0 : (ABSOLUTE.exec(raw)?.[0].length ?? raw.length)
  const queryAt = raw.indexOf('?', start)
  return raw.slice(start, queryAt === -1 ? undefined : queryAt)
}

/**
 * Strict parse of a raw value. Only two shapes exist: a lowercase `http://` / `https://` URL whose
 * authority is a plain host, or a path with a single leading `/`. Everything else (`//host`, `/\host`,
 * `https:host`, `javascript:`, `#x`, `?q`, `.`) is `undefined`.
 */
export function parseValue(raw: string, base: URL | undefined): Candidate | undefined {
  if (raw.length > MAX_LENGTH || !PRINTABLE_ASCII.test(raw)) return undefined
  // `\` is a `/` to WHATWG parsers and browsers; `#` would be kept client-side and never compared.
  if (raw.includes('\\') || raw.includes('#')) return undefined
  if (ENCODED_CONTROL.test(raw) || BROKEN_ESCAPE.test(raw)) return undefined
  if (raw.startsWith('/')) return raw.startsWith('//') ? undefined : parsePath(raw, base)
  return parseAbsolute(raw)
}

export function parsePath(raw: string, base: URL | undefined): Candidate | undefined {
  const queryAt = raw.indexOf('?')
  if (ENCODED_SLASH.test(queryAt === -1 ? raw : raw.slice(0, queryAt))) return undefined
  // Without a baseURL the path is still normalised (dot segments, encoding) against a throwaway origin.
  const url = safeURL(raw, base ?? 'http://relative.invalid')
  // `/.//evil.example` normalises to the path `//evil.example`: a scheme-relative Location.
  if (!url || url.pathname.includes('//')) return undefined
  if (base) return fromURL(url)
  // The href minus the throwaway origin keeps a bare trailing `?`, exactly as the absolute form does.
  return { key: url.href.slice(url.origin.length), url: undefined, origin: '', pathname: url.pathname }
}

function parseAbsolute(raw: string): Candidate | undefined {
  const match = ABSOLUTE.exec(raw)
  const authority = match?.[2]
  if (!match || authority === undefined || !AUTHORITY.test(authority)) return undefined
  if (ENCODED_SLASH.test(raw.slice(match[0].length).split('?', 1)[0] ?? '')) return undefined
  const url = safeURL(raw)
  // The host as typed must already be the normalised host: `2130706433`, `127.1`, `0x7f.1` are refused.
  if (!url || withoutDefaultPort(authority.toLowerCase(), url.protocol) !== url.host) return undefined
  if (url.pathname.includes('//')) return undefined
  return fromURL(url)
}

function safeURL(raw: string, base?: string | URL): URL | undefined {
  try {
    return new URL(raw, base)
  } catch {
    return undefined
  }
}

export function fromURL(url: URL): Candidate {
  return { key: url.href, url, origin: url.origin, pathname: url.pathname }
}

function withoutDefaultPort(authority: string, protocol: string): string {
  const port = protocol === 'https:' ? ':443' : ':80'
  return authority.endsWith(port) ? authority.slice(0, -port.length) : authority
}
