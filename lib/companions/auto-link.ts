/** What the middleware does off its own routes: finish a pending logout, link the session, go on. */
import createDebug from 'debug'
import { completePending } from '../ending/pending.js'
import type { Config } from '../options/config.js'
import type { RequestContext } from '../request/context.js'
import type { Next } from '../routes/route.js'
import { linkRequest } from './link.js'

const debug = createDebug('sso-logout')

/**
 * Off the logout route: link the session to its token once, then hand over untouched. Synchronous
 * when there is nothing to finish or link (the usual request), so `next()` runs without a promise.
 */
export function autoLink(config: Config, ctx: RequestContext, next: Next): void | Promise<void> {
  let pending: Promise<void> | undefined
  try {
    pending = completePending(config, ctx)
  } catch (err) {
    pendingFailed(config, err)
  }
  if (pending instanceof Promise) {
    return pending.then(
      () => linkThenNext(config, ctx, next),
      (err: unknown) => {
        pendingFailed(config, err)
        return linkThenNext(config, ctx, next)
      },
    )
  }
  return linkThenNext(config, ctx, next)
}

function linkThenNext(config: Config, ctx: RequestContext, next: Next): void | Promise<void> {
  let linked: boolean | Promise<boolean> = false
  try {
    linked = linkRequest(config, ctx)
  } catch (err) {
    linkFailed(config, err)
  }
  if (!(linked instanceof Promise)) return next()
  return linked.then(
    () => next(),
    (err: unknown) => {
      linkFailed(config, err)
      next()
    },
  )
}

function pendingFailed(config: Config, err: unknown): void {
  config.logger.warn(
    `sso-logout: finishing a logout on return from the OP failed: ${err instanceof Error ? err.message : String(err)}`,
  )
}

function linkFailed(config: Config, err: unknown): void {
  // Linking is best effort on ordinary requests: the app must keep working when the store is down.
  debug('automatic link failed: %O', err)
  config.logger.warn(
    `sso-logout: linking a session failed: ${err instanceof Error ? err.message : String(err)}`,
  )
}
