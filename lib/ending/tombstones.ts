/** Tombstones: the local sessions a logout ended, so an in-flight request cannot write them back. */
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'

/**
 * Seconds a tombstone of a destroyed session is kept: far longer than any request that was in
 * flight at the logout. A session that could not be destroyed here is buried for `retention`.
 */
export const TOMBSTONE_TTL = 86400

/**
 * Records that local sessions were logged out, before they are destroyed. A request that was in
 * flight at the logout ends later, and express-session then writes its session back (`store.set`):
 * `protectFromWriteBack` drops such writes for buried ids. A store failure is added to `errors`
 * (reported in the logout event), never thrown: the sessions are still destroyed.
 *
 * @example
 * ```ts
 * await bury(config, [ctx.storedSessionId], errors)
 * await destroyCurrent(ctx)
 * ```
 */
export async function bury(
  config: Config,
  sessionIds: readonly string[],
  errors: LogoutError[],
  ttl = TOMBSTONE_TTL,
): Promise<void> {
  if (sessionIds.length === 0) return
  try {
    await config.store.bury(sessionIds, ttl)
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Recording the logged-out session ids failed', err))
  }
}
