/** The factory: resolve options once, build the route table, return the middleware with its companions. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { createGuard } from './companions/guard.js'
import { autoLink } from './companions/auto-link.js'
import { createLink } from './companions/link.js'
import type { LinkInput, LinkOptions } from './companions/link.js'
import { createRevoke } from './companions/revoke.js'
import type { RevokeInput } from './companions/revoke.js'
import { receiving } from './ending/receive.js'
import { protectFromWriteBack } from './ending/write-back.js'
import { LogoutError } from './errors.js'
import { resolveConfig } from './options/config.js'
import type { Config } from './options/config.js'
import type { LogoutOptions, SessionStoreLike } from './options/types.js'
import { contextOf } from './request/context.js'
import type { RequestContext } from './request/context.js'
import { noStore, pathOf, sendError } from './request/respond.js'
import { sessionStoreFor } from './request/session.js'
import { createBackchannelRoute } from './routes/backchannel.js'
import { createFrontchannelRoute } from './routes/frontchannel.js'
import { createLogoutRoute } from './routes/logout.js'
import type { Next, Route } from './routes/route.js'
import type { Store } from './stores/contract.js'

const debug = createDebug('sso-logout')

/** The middleware `logout()` returns, with its companions. */
export interface LogoutMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  /** Mount before protected routes: `401` for tokens and sessions of a logged-out `sid`/`sub`. */
  guard: (req: IncomingMessage, res: ServerResponse, next: Next) => void
  /** Programmatic logout; resolves to the number of local sessions destroyed. */
  revoke: (input: RevokeInput) => Promise<number>
  /** Records that a local session belongs to an IdP session (from a request, or explicitly). */
  link: (target: IncomingMessage | LinkInput, options?: LinkOptions) => Promise<boolean>
  /** The store in use (the default `memoryStore()` when none was given). */
  readonly store: Store
}

/**
 * Mounts single logout: the logout route, and the back-channel and front-channel receivers when
 * configured. Options are validated and resolved once, here; bad options throw a `TypeError`.
 *
 * @example
 * ```ts
 * const auth = logout({
 *   provider: auth0({ domain: 'acme.eu.auth0.com', clientId: 'abc123' }),
 *   baseURL: 'https://app.example.com',
 *   returnTo: { allowed: ['/goodbye'] },
 * })
 * app.use(auth)
 * app.get('/api/notes', auth.guard, listNotes)
 * ```
 */
export function logout(options?: LogoutOptions): LogoutMiddleware {
  const config = resolveConfig(options)
  const routes = buildRoutes(config)
  checkStoreOnce(config)
  if (options?.store === undefined) warnOfMemoryInProduction(config)
  // Other services hand this one the ids of its sessions they ended; it destroys them in its own
  // session store as soon as it knows that store.
  const receive = receiving(config)
  if (config.sessionStore) receive(config.sessionStore, false)

  const routeOf = routeTable(routes)
  // The session store seen on the previous request: an app has one, so learning it, protecting it
  // and starting to receive for it happen once, not on every request.
  let knownSessionStore: SessionStoreLike | undefined

  function logoutMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const ctx = contextOf(req, config.sessions)
    // Remembers express-session's store, so revoke() (which has no request) can destroy sessions,
    // and keeps it from writing back sessions that a logout ended while a request was in flight.
    const sessionStore = sessionStoreFor(config, ctx)
    if (sessionStore !== undefined && sessionStore !== knownSessionStore) {
      knownSessionStore = sessionStore
      protectFromWriteBack(sessionStore, config.store)
      receive(sessionStore)
    }
    const route = routeOf.get(pathOf(req))
    const work = route ? runRoute(route, ctx, res, next) : autoLink(config, ctx, next)
    if (work instanceof Promise) work.catch((err: unknown) => next(err))
  }

  const guard = createGuard(config)
  return Object.assign(logoutMiddleware, {
    guard: function guardMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
      const work = guard(req, res, next)
      if (work instanceof Promise) work.catch((err: unknown) => next(err))
    },
    revoke: createRevoke(config),
    link: createLink(config),
    store: config.store,
  })
}

/** Routes by path; the first route of a path wins, as it would in a list searched in order. */
function routeTable(routes: readonly Route[]): Map<string, Route> {
  const byPath = new Map<string, Route>()
  for (const route of routes) if (!byPath.has(route.path)) byPath.set(route.path, route)
  return byPath
}

function buildRoutes(config: Config): Route[] {
  const routes: Route[] = [
    { path: config.path, methods: config.methods, handle: createLogoutRoute(config), otherMethods: 'next' },
  ]
  // The identity provider is the only caller of these two: other methods are refused, not passed on.
  const { backchannel: bc, frontchannel: fc } = config
  if (bc) {
    const handle = createBackchannelRoute(config, bc)
    routes.push({ path: bc.path, methods: new Set(['POST']), handle, otherMethods: 405 })
  }
  if (fc) {
    const handle = createFrontchannelRoute(config, fc)
    routes.push({ path: fc.path, methods: new Set(['GET']), handle, otherMethods: 405 })
  }
  return routes
}

async function runRoute(route: Route, ctx: RequestContext, res: ServerResponse, next: Next): Promise<void> {
  const { req } = ctx
  if (!route.methods.has(req.method ?? '')) {
    // The app may serve its own page on the logout path for other methods (a confirmation form).
    if (route.otherMethods === 'next') return next()
    noStore(res)
    res.setHeader('Allow', [...route.methods].join(', '))
    return sendError(
      req,
      res,
      new LogoutError('ERR_METHOD_NOT_ALLOWED', `Method ${req.method ?? ''} is not allowed here`),
    )
  }
  try {
    await route.handle(ctx, res, next)
  } catch (err) {
    if (err instanceof LogoutError && err.status < 500 && !res.headersSent) return sendError(req, res, err)
    throw err
  }
}

const MEMORY_IN_PRODUCTION =
  'sso-logout: NODE_ENV is production and logout() uses the embedded memoryStore(): links, ' +
  'revocations and the replay cache live in this process only, so a logout does not reach other ' +
  'instances or services and is forgotten on restart. Set options.store to redisStore({ client }).'

/**
 * The embedded store is right for one process in development; in production it silently loses what
 * a logout must share, the way express-session's MemoryStore would. Warns once per middleware, when
 * the back-channel receiver is configured or the first session is linked.
 */
function warnOfMemoryInProduction(config: Config): void {
  if (process.env.NODE_ENV !== 'production') return
  const warn = () => config.logger.warn(MEMORY_IN_PRODUCTION)
  if (config.backchannel) return warn()
  const store = config.store
  const link = store.link.bind(store)
  store.link = function linkAndWarnOnce(record, ttl) {
    store.link = link
    warn()
    return link(record, ttl)
  }
}

const checkedStores = new WeakSet<Store>()

/**
 * Asks the store, once per store object, whether it is configured so that nothing it holds can be
 * lost (a Redis that may evict keys would forget revocations), and logs what it finds. Start-up is
 * never held or failed by it: the answer arrives in the log.
 */
function checkStoreOnce(config: Config): void {
  const { store } = config
  if (!store.checkConfiguration || checkedStores.has(store)) return
  checkedStores.add(store)
  Promise.resolve()
    .then(() => store.checkConfiguration?.())
    .then(
      (problems) => {
        for (const problem of problems ?? []) config.logger.warn(`sso-logout: store: ${problem}`)
      },
      (err: unknown) => debug('store configuration check failed: %O', err),
    )
}
