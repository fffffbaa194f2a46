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
import { hasDotSegment } from './dot-segments.js'
import { fromURL, parsePath, parseValue, rawPath } from './return-to-parse.js'
import type { Candidate } from './return-to-parse.js'

/** Where a caller may go back to, compiled once by {@link compileReturnTo}. */
export interface ReturnToPolicy {
  /** raw: the caller's value (query or body field, already URL-decoded once), or `undefined` for none. */
  resolve(raw: string | undefined): ReturnToResult
}

/** The outcome of {@link ReturnToPolicy.resolve}. */
export type ReturnToResult =
  { ok: true; location: string; readonly url: URL | undefined } | { ok: false; message: string }

/** What `compileReturnTo` reads: `options.returnTo` plus the resolved `baseURL`. */
export interface ReturnToInput {
  allowed?: unknown
  default?: unknown
  baseURL?: URL
}

const SHAPE_MESSAGE = 'must be an absolute http(s) URL or a path starting with "/"'
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
function accepted(candidate: Candidate): ReturnToResult {
  const compiled = candidate.url
  let copy: URL | undefined
  return {
    ok: true,
    location: candidate.key,
    // A fresh URL per result, made when first read: callers may mutate it without touching the
    // compiled policy, and a logout whose provider never reads `returnTo` parses no URL.
    get url() {
      if (compiled) copy ??= new URL(compiled.href)
      return copy
    },
  }
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
