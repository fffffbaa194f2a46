/** Store calls of a logout whose failures are collected, not thrown, without a promise where none is needed. */
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { Awaitable } from '../stores/contract.js'

/**
 * Runs one store call; a failure, thrown or rejected, is added to `errors` as `ERR_STORE` and
 * answers `fallback`. The answer stays synchronous when the store answers synchronously (the
 * memory store), so a logout on it creates no promise per record; callers await only a promise.
 */
export function collect<T>(
  call: () => Awaitable<T>,
  fallback: T,
  errors: LogoutError[],
  message: string,
): Awaitable<T> {
  const fail = (err: unknown): T => {
    errors.push(asLogoutError('ERR_STORE', message, err))
    return fallback
  }
  try {
    const answer = call()
    return answer instanceof Promise ? answer.catch(fail) : answer
  } catch (err) {
    return fail(err)
  }
}

/** Waits for every answer that is a promise; synchronous answers need no await. */
export function settled<T>(answers: Array<Awaitable<T>>): Awaitable<T[]> {
  return answers.some((a) => a instanceof Promise) ? Promise.all(answers) : (answers as T[])
}
