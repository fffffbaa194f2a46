/** The other half of a logout elsewhere: this service destroys the sessions other services handed to it. */
import createDebug from 'debug'
import { optionError } from '../options/check.js'
import type { Config } from '../options/config.js'
import type { SessionStoreLike } from '../options/types.js'
import { destroyIds } from '../request/session.js'
import { emit } from './event.js'
import type { Receiver, Store } from '../stores/contract.js'

const debug = createDebug('sso-logout:receive')

interface Running {
  sessionStore: SessionStoreLike
  receiver: Receiver
}

/** One receiver per store and service in a process, whatever number of middlewares share them. */
const running = new WeakMap<Store, Map<string, Running>>()

/**
 * Returns `ensure(sessionStore)`, which starts receiving the first time it is called with a session
 * store (at construction with `options.sessionStore`, else on the first request that shows
 * express-session's) and is a no-op after. Two middlewares of one process that share a store and
 * a service name but destroy in different session stores would each get only part of the ids,
 * which is the collision `options.service` exists to prevent: it is refused (a `TypeError` when
 * known at construction, a logged error when learnt from a request).
 */
export function receiving(config: Config): (sessionStore: SessionStoreLike, learnt?: boolean) => void {
  const { store, service, logger } = config
  let started = false
  return function ensure(sessionStore, learnt = true) {
    if (started || !store.receive) return
    started = true
    const services = running.get(store) ?? new Map<string, Running>()
    running.set(store, services)
    const current = services.get(service)
    if (current) {
      if (current.sessionStore === sessionStore) return
      const message =
        `sso-logout: two logout() middlewares share one store and options.service "${service}" ` +
        'but destroy sessions in different session stores; give each app its own options.service'
      if (!learnt) throw optionError(`"options.service" ${message.slice('sso-logout: '.length)}`)
      return logger.error(message)
    }
    const receiver = store.receive(service, (ids) => deliver(config, sessionStore, ids), {
      description: config.serviceDescription,
      onProblem: (problem) => logger.error(`sso-logout: ${problem}`),
    })
    services.set(service, { sessionStore, receiver })
    debug('receiving the sessions other services end, as %s', service)
  }
}

async function deliver(config: Config, sessionStore: SessionStoreLike, ids: string[]): Promise<void> {
  try {
    await destroyIds(sessionStore, ids)
    debug('destroyed %d session(s) another service ended', ids.length)
  } catch (err) {
    // The store delivers them again later: a session store that is down must not lose them.
    config.logger.warn(
      `sso-logout: destroying ${ids.length} session(s) another service ended failed (retried later): ` +
        (err instanceof Error ? err.message : String(err)),
    )
    throw err
  }
  await emit(config, {
    reason: 'service',
    sessionsDestroyed: ids.length,
    provider: config.provider?.name,
    errors: [],
    notes: [],
  })
}
