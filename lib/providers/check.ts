/** The provider factories' option readers, built on the core's checks so every error reads alike. */
import { invalidArg, objectOption, optionError } from '../options/check.js'

export { invalidArg }

/**
 * Options as a plain record, after checking that they are an object with only `known` keys. A bad
 * option is a programming error, so it throws the core's `TypeError` (with `code:
 * 'ERR_INVALID_ARG_VALUE'`) naming the option, the way `"auth0.domain" must be ...` reads.
 */
export function optionsRecord(
  provider: string,
  options: unknown,
  known: readonly string[],
): Record<string, unknown> {
  // `null` stands in for a missing argument so that it, too, is "not an object".
  return objectOption(options ?? null, provider, known, `"${provider}" options`)!
}

/** True when `key` is in the options with the value `undefined`, rather than left out. */
function givenAsUndefined(record: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(record, key) && record[key] === undefined
}

/** A required non-empty string. */
export function requiredString(provider: string, record: Record<string, unknown>, key: string): string {
  const value = record[key]
  // Given but undefined is nearly always `process.env.X` with X unset: the message says so.
  if (givenAsUndefined(record, key)) {
    throw optionError(
      `"${provider}.${key}" must be a non-empty string; it is undefined: is an environment variable missing?`,
      { expected: 'a non-empty string', received: value },
    )
  }
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidArg(`${provider}.${key}`, 'a non-empty string', value)
  return value
}

/** Option paths already warned about, so a factory called per request or per test says it once. */
const warned = new Set<string>()

/**
 * An optional non-empty string. `unset` is passed for deployment settings (a host, an endpoint, an
 * issuer, a client id or secret): the values an app reads from its environment, where leaving one
 * unset makes the IdP or the checks behave otherwise. For those, an option given as `undefined` is
 * still "not set", as its type (`?: string | undefined`) says, because some deployments mean just
 * that; throwing would refuse them. But it is usually `process.env.X` with X missing, which would
 * otherwise pass silently, so it is warned about once per process with `console.warn` (providers
 * are built before `logout()`, so there is no `logger` yet), saying what happens instead. Token
 * locations and display settings (`idToken`, `uiLocales`) are written in code and pass no `unset`.
 */
export function optionalString(
  provider: string,
  record: Record<string, unknown>,
  key: string,
  unset?: string,
): string | undefined {
  const path = `${provider}.${key}`
  if (unset !== undefined && givenAsUndefined(record, key) && !warned.has(path)) {
    warned.add(path)
    console.warn(
      `sso-logout: "${path}" is undefined; is an environment variable missing? Unset, ${unset}. ` +
        'Leave the option out to mean unset without this warning.',
    )
  }
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
  throw invalidArg(`${provider}.${key}`, 'a boolean', value)
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
  throw invalidArg(`${provider}.${key}`, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value)
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
  throw invalidArg(`${provider}.${key}`, "'session:FIELD' or 'cookie:NAME'", value)
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
  throw invalidArg(`${provider}.${key}`, 'a whole number of milliseconds between 1 and 60000', value)
}
