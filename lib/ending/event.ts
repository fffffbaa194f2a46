/** The `onLogout` event: reported once per logout, whatever its reason; a failing hook is only logged. */
import type { Config } from '../options/config.js'
import type { LogoutEvent } from '../options/types.js'

/** Logs each failure of the logout, then calls `onLogout` once; a throwing hook never fails the logout. */
export async function emit(config: Config, event: LogoutEvent): Promise<void> {
  for (const error of event.errors)
    config.logger.warn(`sso-logout: ${event.reason} logout: ${error.code}: ${error.message}`)
  if (!config.onLogout) return
  try {
    await config.onLogout(event)
  } catch (err) {
    config.logger.error(`sso-logout: onLogout threw: ${err instanceof Error ? err.message : String(err)}`)
  }
}
