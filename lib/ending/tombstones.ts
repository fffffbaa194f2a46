/** Tombstones: the local sessions a logout ended, so an in-flight request cannot write them back. */
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { Awaitable } from '../stores/contract.js'
import { collect } from './collect.js'

/**
 * Seconds a tombstone of a destroyed session is kept: far longer than any request that was in
 * flight at the logout. A session that could not be destroyed here is buried for `retention`.
 */
export const TOMBSTONE_TTL = 86400

/**
 * Records that local sessions were logged out, before they are destroyed. A request that was in
 * flight at the logout ends later, and express-session then writes its session back (`store.set`):
 * `protectFromWriteBack` drops such writes for buried ids. A store failure is added to `errors`
 * (reported in the logout event), never thrown: the sessions are still destroyed. Synchronous
 * when the store is.
 *
 * @example
 * ```ts
 * await bury(config, [ctx.storedSessionId], errors)
 * await destroyCurrent(ctx)
 * ```
 */
export function bury(
  config: Config,
  sessionIds: readonly string[],
  errors: LogoutError[],
  ttl = TOMBSTONE_TTL,
): Awaitable<void> {
  if (sessionIds.length === 0) return
  const message = 'Recording the logged-out session ids failed'
  return collect(() => config.store.bury(sessionIds, ttl), undefined, errors, message)
}
