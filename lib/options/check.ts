/** Every construction-time check of options: one `TypeError` shape, with `code` and the option's path. */

/** A `TypeError` for a bad construction option, with the option quoted (oauth4webapi style). */
export function invalidArg(path: string, expectation: string, received?: unknown): TypeError {
  return optionError(`"${path}" must be ${expectation}`, { expected: expectation, received })
}

/** A `TypeError` with the stable `code` callers and tests match on, for a bad construction option. */
export function optionError(message: string, cause?: unknown): TypeError {
  const error = new TypeError(message, cause === undefined ? undefined : { cause })
  Object.defineProperty(error, 'code', { value: 'ERR_INVALID_ARG_VALUE', enumerable: true })
  return error
}

/**
 * Checks `value` is a plain object (or absent) and that it has no key outside `known`; `label`
 * names it in the "must be an object" message when the path alone reads badly.
 */
export function objectOption(
  value: unknown,
  path: string,
  known: readonly string[],
  label = `"${path}"`,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError(`${label} must be an object`, { expected: 'an object', received: value })
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const hint = didYouMean(key, known)
    const suggestion = hint ? `; did you mean "${hint}"?` : `; known options: ${known.join(', ')}`
    throw optionError(`"${path}.${key}" is not a known option${suggestion}`, {
      expected: known,
      received: key,
    })
  }
  return value as Record<string, unknown>
}

export function stringOption(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw invalidArg(path, 'a non-empty string', value)
  return value
}

export function booleanOption(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidArg(path, 'a boolean', value)
  return value
}

export function numberOption(value: unknown, path: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidArg(path, `a finite number >= ${min}`, value)
  }
  return value
}

export function functionOption<T>(value: unknown, path: string): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw invalidArg(path, 'a function', value)
  return value as T
}

export function arrayOption(value: unknown, path: string): unknown[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw invalidArg(path, 'an array', value)
  return value
}

/** A route path: starts with "/", no query, no fragment, no whitespace. */
export function pathOption(value: unknown, path: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'string' || !/^\/[^\s?#]*$/.test(value)) {
    throw invalidArg(path, 'a path starting with "/" without query or fragment', value)
  }
  return value
}

/** An http(s) URL; plain http only for loopback hosts (local development and tests). */
export function httpsUrlOption(value: unknown, path: string): URL {
  let url: URL | undefined
  if (typeof value === 'string' && URL.canParse(value)) url = new URL(value)
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)))) {
    throw invalidArg(path, 'an https URL (http only for localhost, 127.0.0.1 or [::1])', value)
  }
  if (url.username || url.password) throw invalidArg(path, 'a URL without user name or password', value)
  return url
}

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]'
}

/**
 * The known name a typo most likely meant: one it abbreviates (a prefix of at least three
 * letters), else the closest by edit distance when that is close enough.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase()
  const prefixed = lower.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(lower)) : undefined
  if (prefixed !== undefined) return prefixed
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === input.toLowerCase() ? 0 : levenshtein(input, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * `{ sid?, sub?, iss? }` as `link()` and `revoke()` take it: non-empty strings, `sid` or `sub` at
 * least, `iss` defaulting to the configured issuer. Returns the subject with its issuer resolved.
 */
export function subjectArg(
  input: { sid?: unknown; sub?: unknown; iss?: unknown },
  defaultIssuer: string | undefined,
): { sid?: string; sub?: string; iss: string } {
  for (const key of ['sid', 'sub', 'iss'] as const) {
    const value = input[key]
    if (value !== undefined && (typeof value !== 'string' || value.length === 0))
      throw invalidArg(`input.${key}`, 'a non-empty string', value)
  }
  if (input.sid === undefined && input.sub === undefined)
    throw invalidArg('input', 'an object with sid or sub')
  const iss = (input.iss as string | undefined) ?? defaultIssuer
  if (iss === undefined)
    throw invalidArg('input.iss', 'set when no issuer is configured (accessToken.issuer or a provider)')
  return { sid: input.sid as string | undefined, sub: input.sub as string | undefined, iss }
}
