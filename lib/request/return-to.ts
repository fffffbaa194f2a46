/**
 * The `returnTo` allow-list: where a caller may ask to be sent after logout.
 *
 * An open redirect on a logout route is a phishing primitive (OWASP "Unvalidated Redirects and Forwards";
 * RFC 9700 §4.11 for the OAuth flavour), so the policy is an exact allow-list, not a blocklist: a raw value
 * is parsed strictly, normalised with WHATWG `URL`, and accepted only when it equals an allowed entry (or
 * sits under a `/*` prefix entry with no dot segment in any encoding). Anything ambiguous is refused
 * before normalisation gets a say.
 */
import { optionError } from '../options/check.js'

/** Where a caller may go back to, compiled once by {@link compileReturnTo}. */
export interface ReturnToPolicy {
  /** raw: the caller's value (query or body field, already URL-decoded once), or `undefined` for none. */
  resolve(raw: string | undefined): ReturnToResult
}

/** The outcome of {@link ReturnToPolicy.resolve}. */
export type ReturnToResult =
  { ok: true; location: string; url: URL | undefined } | { ok: false; message: string }

/** What `compileReturnTo` reads: `options.returnTo` plus the resolved `baseURL`. */
export interface ReturnToInput {
  allowed?: unknown
  default?: unknown
  baseURL?: URL
}

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
/** One percent-encoded octet (RFC 3986 §2.1); a `%` left over by a decoding round is kept as is. */
const ESCAPE = /%([0-9a-f]{2})/gi
/**
 * How many times a path under a prefix entry may change when percent-decoded again. RFC 3986 §2.4
 * forbids decoding a string twice, but proxies, frameworks and apps that do exist, and each layer of
 * `%25` hides the next; no real link needs more than a few. A path that still changes after this many
 * rounds is refused, whatever it would end up as.
 */
const MAX_DECODE_ROUNDS = 8
/**
 * A dot segment (RFC 3986 §3.3) once fully decoded, with or without `;params` after it: Servlet
 * containers strip path parameters before resolving `..` (the `..;/` trick of Orange Tsai's
 * "Breaking Parser Logic", Black Hat USA 2018), so `..;x` is a `..` to them.
 */
const DOT_SEGMENT = /^\.\.?(?:;|$)/
const SHAPE_MESSAGE = 'must be an absolute http(s) URL or a path starting with "/"'

/** A value after strict parsing: `key` is what allow-list entries are compared on. */
interface Candidate {
  /** The normalised href (absolute), or the normalised path plus query (relative, no `baseURL`). */
  key: string
  url: URL | undefined
  /** `url.origin`, or `''` for a relative value. */
  origin: string
  pathname: string
}

/** The allow-list after compilation: exact keys and `/*` prefixes grouped by origin. */
interface Compiled {
  exact: Set<string>
  prefixes: Map<string, string[]>
  fallback: Candidate
}

/**
 * Validates `options.returnTo` once and returns the policy the logout route asks per request.
 *
 * @example
 * ```ts
 * const policy = compileReturnTo({ allowed: ['/goodbye', '/docs/*'], baseURL: new URL('https://app.example.com') })
 * policy.resolve('/docs/a') // { ok: true, location: 'https://app.example.com/docs/a', url: URL }
 * policy.resolve('//evil.example') // { ok: false, message: 'returnTo "//evil.example" is not allowed' }
 * ```
 */
export function compileReturnTo(input: ReturnToInput, optionPath = 'options.returnTo'): ReturnToPolicy {
  const base = input.baseURL
  const compiled: Compiled = {
    exact: new Set(),
    prefixes: new Map(),
    fallback: compileDefault(input, optionPath),
  }
  compiled.exact.add(compiled.fallback.key)
  const allowed = input.allowed ?? []
  if (!Array.isArray(allowed)) throw invalidArg(`${optionPath}.allowed`, 'must be an array of strings')
  allowed.forEach((entry: unknown, index) =>
    addEntry(compiled, entry, base, `${optionPath}.allowed[${index}]`),
  )
  return {
    resolve(raw) {
      if (raw === undefined) return accepted(compiled.fallback)
      const candidate = typeof raw === 'string' ? parseValue(raw, base) : undefined
      if (candidate && isAllowed(compiled, candidate, raw)) return accepted(candidate)
      return { ok: false, message: `returnTo ${describe(raw)} is not allowed` }
    },
  }
}

function compileDefault(input: ReturnToInput, optionPath: string): Candidate {
  const value = input.default
  if (value === undefined)
    return input.baseURL ? fromURL(withoutHash(input.baseURL)) : parsePath('/', undefined)!
  const parsed =
    typeof value === 'string' && !value.includes('*') ? parseValue(value, input.baseURL) : undefined
  if (!parsed) throw invalidArg(`${optionPath}.default`, SHAPE_MESSAGE, value)
  return parsed
}

/** `baseURL` is trusted configuration (it may be `http://[::1]:3000`), so it skips the strict parse. */
function withoutHash(base: URL): URL {
  const url = new URL(base.href)
  url.hash = ''
  return url
}

/** A trailing `/*` marks a prefix entry; a `*` anywhere else is a typo, not a wildcard. */
function addEntry(compiled: Compiled, entry: unknown, base: URL | undefined, name: string): void {
  if (typeof entry !== 'string') throw invalidArg(name, SHAPE_MESSAGE, entry)
  const isPrefix = entry.endsWith('/*')
  const body = isPrefix ? entry.slice(0, -1) : entry
  const parsed = body.includes('*') ? undefined : parseValue(body, base)
  if (!parsed) throw invalidArg(name, SHAPE_MESSAGE, entry)
  if (!isPrefix) {
    compiled.exact.add(parsed.key)
    return
  }
  if (body.includes('?')) {
    throw invalidArg(name, 'must not carry a query when it ends with "/*"', entry)
  }
  const list = compiled.prefixes.get(parsed.origin) ?? []
  list.push(parsed.pathname)
  compiled.prefixes.set(parsed.origin, list)
}

function isAllowed(compiled: Compiled, candidate: Candidate, raw: string): boolean {
  if (compiled.exact.has(candidate.key)) return true
  const prefixes = compiled.prefixes.get(candidate.origin)
  if (prefixes === undefined || !prefixes.some((prefix) => candidate.pathname.startsWith(prefix))) {
    return false
  }
  // An exact entry names the one path it allows; a prefix admits paths nobody reviewed, so it only
  // admits those that mean the same to every server behind it. WHATWG `URL` resolves `..` and `%2e`
  // (RFC 3986 §5.2.4) but leaves `..;` and `%252e%252e` as they are, and a backend that strips path
  // parameters or decodes again would walk out of the prefix. The raw path is checked as well as the
  // normalised one: normalisation resolves a plain `/docs/x/../y` before the prefix sees it.
  return !hasDotSegment(rawPath(raw)) && !hasDotSegment(candidate.pathname)
}

/** The path of a value that passed {@link parseValue}: what follows the authority, up to the query. */
function rawPath(raw: string): string {
  const start = raw.startsWith('/') ? 0 : (ABSOLUTE.exec(raw)?.[0].length ?? raw.length)
  const queryAt = raw.indexOf('?', start)
  return raw.slice(start, queryAt === -1 ? undefined : queryAt)
}

/**
 * Whether any segment of `path` is a dot segment once percent-decoding no longer changes it, or
 * `path` is still changing after {@link MAX_DECODE_ROUNDS}. Octets are decoded one by one, not as
 * UTF-8: a dot is one ASCII octet, and a strict UTF-8 decoder would throw on what a lenient server
 * accepts. Segments are split after decoding, so an encoded `/` (`%252f`) that a server decodes
 * into a separator separates here too.
 */
function hasDotSegment(path: string): boolean {
  let decoded = path
  for (let round = 0; ; round++) {
    const next = decoded.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    if (next === decoded) break
    if (round === MAX_DECODE_ROUNDS) return true
    decoded = next
  }
  // `\` is a separator to WHATWG parsers and to Windows servers alike.
  return decoded.split(/[/\\]/).some((segment) => DOT_SEGMENT.test(segment))
}

/**
 * Strict parse of a raw value. Only two shapes exist: a lowercase `http://` / `https://` URL whose
 * authority is a plain host, or a path with a single leading `/`. Everything else (`//host`, `/\host`,
 * `https:host`, `javascript:`, `#x`, `?q`, `.`) is `undefined`.
 */
function parseValue(raw: string, base: URL | undefined): Candidate | undefined {
  if (raw.length > MAX_LENGTH || !PRINTABLE_ASCII.test(raw)) return undefined
  // `\` is a `/` to WHATWG parsers and browsers; `#` would be kept client-side and never compared.
  if (raw.includes('\\') || raw.includes('#')) return undefined
  if (ENCODED_CONTROL.test(raw) || BROKEN_ESCAPE.test(raw)) return undefined
  if (raw.startsWith('/')) return raw.startsWith('//') ? undefined : parsePath(raw, base)
  return parseAbsolute(raw)
}

function parsePath(raw: string, base: URL | undefined): Candidate | undefined {
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

function fromURL(url: URL): Candidate {
  return { key: url.href, url, origin: url.origin, pathname: url.pathname }
}

function withoutDefaultPort(authority: string, protocol: string): string {
  const port = protocol === 'https:' ? ':443' : ':80'
  return authority.endsWith(port) ? authority.slice(0, -port.length) : authority
}

function accepted(candidate: Candidate): ReturnToResult {
  // A fresh URL per call: callers may mutate it without touching the compiled policy.
  return { ok: true, location: candidate.key, url: candidate.url ? new URL(candidate.url.href) : undefined }
}

/** Quotes a refused value for a message: at most 100 chars, every non-printable char escaped. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return `of type ${value === null ? 'null' : typeof value}`
  const cut = value.length > 100 ? `${value.slice(0, 100)}...` : value
  return JSON.stringify(cut).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** The core's option error, with the refused value quoted the way `describe` does it here. */
function invalidArg(name: string, rule: string, ...got: unknown[]): TypeError {
  const detail = got.length > 0 ? ` (got ${describe(got[0])})` : ''
  return optionError(`"${name}" ${rule}${detail}`, { expected: rule, received: got[0] })
}
