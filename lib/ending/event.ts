/** The `onLogout` event: reported once per logout, whatever its reason; a failing hook is only logged. */
import type { Config } from '../options/config.js'
import type { LogoutEvent } from '../options/types.js'
import type { Awaitable } from '../stores/contract.js'

/**
 * Logs each failure of the logout, then calls `onLogout` once; a throwing hook never fails the
 * logout. Synchronous when there is no hook.
 */
export function emit(config: Config, event: LogoutEvent): Awaitable<void> {
  for (const error of event.errors)
    config.logger.warn(`sso-logout: ${event.reason} logout: ${error.code}: ${error.message}`)
  if (config.onLogout) return callHook(config, config.onLogout, event)
}

async function callHook(
  config: Config,
  hook: NonNullable<Config['onLogout']>,
  event: LogoutEvent,
): Promise<void> {
  try {
    await hook(event)
  } catch (err) {
    config.logger.error(`sso-logout: onLogout threw: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The event's `sessionsHandedOver`, spread in only when some were, so single-service events stay as they were. */
export function handedOver(count: number): Pick<LogoutEvent, 'sessionsHandedOver'> {
  return count > 0 ? { sessionsHandedOver: count } : {}
}
