/** Work a logout leaves for the browser's return from the OP: kept under its `state`, done once. */
import { createHash } from 'node:crypto'
import createDebug from 'debug'
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { Provider } from '../providers/contract.js'
import { STATE_COOKIE, STATE_MAX_AGE, statesMatch } from '../providers/state.js'
import type { RequestContext } from '../request/context.js'
import { queryValues } from '../request/respond.js'

const debug = createDebug('sso-logout:pending')

/** The store key of a `state`: a hash, so the store never holds the value that proves a return. */
function keyOf(state: string): string {
  return createHash('sha256').update(state).digest('base64url')
}

/** Keeps the provider's pending work for as long as the `state` cookie lives. */
export async function keepPending(
  config: Config,
  pending: { state: string; value: string },
  errors: LogoutError[],
): Promise<void> {
  try {
    await config.store.putPending(keyOf(pending.state), pending.value, STATE_MAX_AGE)
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Keeping the work left for the return from the OP failed', err))
  }
}

/**
 * On the browser's return from the OP (`returnTo?state=...` with the matching `state` cookie, the
 * check `checkLogoutState` makes too), finishes what the logout left pending, once. Requests
 * without the `state` cookie cost one cookie lookup and no promise; with a provider that leaves no
 * pending work, not even that.
 */
export function completePending(config: Config, ctx: RequestContext): Promise<void> | undefined {
  const provider = config.provider
  if (!provider?.completeLogout) return undefined
  const expected = ctx.cookie(STATE_COOKIE)
  if (expected === undefined) return undefined
  const received = queryValues(ctx.req, 'state')
  if (received.length !== 1 || !statesMatch(expected, received[0])) return undefined
  return finishPending(config, provider, expected)
}

async function finishPending(config: Config, provider: Provider, state: string): Promise<void> {
  const pending = await config.store.takePending(keyOf(state))
  if (pending === undefined) return
  const result = await provider.completeLogout!(pending)
  debug('finished the logout on return from the OP: %d error(s)', result.errors?.length ?? 0)
  for (const error of result.errors ?? [])
    config.logger.warn(`sso-logout: user logout (on return): ${error.code}: ${error.message}`)
  for (const note of result.notes ?? []) debug('note: %s', note)
}
