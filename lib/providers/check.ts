import { didYouMean, optionError as invalidOption } from '../options/check.js'

export { invalidOption }

/**
 * Construction-time checks shared by every provider factory. A bad option is a programming error,
 * so it throws a `TypeError` (with `code: 'ERR_INVALID_ARG_VALUE'`) that names the option, the way
 * `"auth0.domain" must be ...` reads in a stack trace.
 */

/** Options as a plain record, after checking that they are an object with only `known` keys. */
export function optionsRecord(
  provider: string,
  options: unknown,
  known: readonly string[],
): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(`"${provider}" options must be an object`)
  }
  const record = options as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (known.includes(key)) continue
    const hint = didYouMean(key, known)
    throw invalidOption(
      `"${provider}.${key}" is not a known option${hint ? `; did you mean "${hint}"?` : ''}`,
    )
  }
  return record
}

/** A required non-empty string. */
export function requiredString(provider: string, record: Record<string, unknown>, key: string): string {
  const value = record[key]
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(`"${provider}.${key}" must be a non-empty string`)
  }
  return value
}

/** An optional non-empty string. */
export function optionalString(
  provider: string,
  record: Record<string, unknown>,
  key: string,
): string | undefined {
  return record[key] === undefined ? undefined : requiredString(provider, record, key)
}

/** An optional boolean. */
export function optionalBoolean(
  provider: string,
  record: Record<string, unknown>,
  key: string,
): boolean | undefined {
  const value = record[key]
  if (value === undefined || typeof value === 'boolean') return value
  throw invalidOption(`"${provider}.${key}" must be a boolean`)
}

/** An optional value out of a fixed list. */
export function optionalChoice<T extends string>(
  provider: string,
  record: Record<string, unknown>,
  key: string,
  choices: readonly T[],
): T | undefined {
  const value = record[key]
  if (value === undefined) return undefined
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T
  throw invalidOption(`"${provider}.${key}" must be one of ${choices.map((c) => `'${c}'`).join(', ')}`)
}

const SOURCE = /^(session|cookie):[^\s:]+$/

/** A place to read a token from: `'session:FIELD'` or `'cookie:NAME'`. */
export function optionalSource(
  provider: string,
  record: Record<string, unknown>,
  key: string,
): string | undefined {
  const value = record[key]
  if (value === undefined) return undefined
  if (typeof value === 'string' && SOURCE.test(value)) return value
  throw invalidOption(`"${provider}.${key}" must be 'session:FIELD' or 'cookie:NAME'`)
}

/** An optional timeout in milliseconds: a positive integer up to one minute. */
export function optionalTimeout(
  provider: string,
  record: Record<string, unknown>,
  key: string,
): number | undefined {
  const value = record[key]
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 60_000) return value
  throw invalidOption(`"${provider}.${key}" must be a whole number of milliseconds between 1 and 60000`)
}
