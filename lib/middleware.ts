import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { createBackchannel } from './routes/backchannel.js'
import { resolveConfig } from './options/config.js'
import type { Config } from './options/config.js'
import { LogoutError } from './errors.js'
import { createFrontchannel } from './routes/frontchannel.js'
import { createGuard } from './companions/guard.js'
import { noStore, pathOf, sendError } from './request/respond.js'
import { createLink, linkRequest } from './companions/link.js'
import type { LinkInput } from './companions/link.js'
import type { LogoutOptions } from './options/types.js'
import { createRevoke } from './companions/revoke.js'
import type { RevokeInput } from './companions/revoke.js'
import { handleLogout } from './routes/logout.js'
import type { SessionRequest } from './request/session.js'
import { sessionStoreFor } from './request/session.js'
import { guardSessionStore } from './ending/tombstones.js'
import type { Store } from './stores/contract.js'

const debug = createDebug('sso-logout')

type Next = (err?: unknown) => void
type Handler = (config: Config, req: IncomingMessage, res: ServerResponse, next: Next) => Promise<void>

/** The middleware `logout()` returns, with its companions. */
export interface LogoutMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  /** Mount before protected routes: `401` for tokens and sessions of a logged-out `sid`/`sub`. */
  guard: (req: IncomingMessage, res: ServerResponse, next: Next) => void
  /** Programmatic logout; resolves to the number of local sessions destroyed. */
  revoke: (input: RevokeInput) => Promise<number>
  /** Records that a local session belongs to an IdP session (from a request, or explicitly). */
  link: (target: IncomingMessage | LinkInput) => Promise<boolean>
  /** The store in use (the default `memoryStore()` when none was given). */
  readonly store: Store
}

/** One route the middleware answers: a path, the methods it takes, and its handler. */
interface Route {
  path: string
  methods: ReadonlySet<string>
  handle: Handler
  /** Other methods on this path: hand them to the app (`'next'`), or answer `405`. */
  otherMethods: 'next' | 405
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

  function logoutMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // Remembers express-session's store, so revoke() (which has no request) can destroy sessions,
    // and keeps it from writing back sessions that a logout ended while a request was in flight.
    const sessionStore = sessionStoreFor(config, req as SessionRequest)
    if (sessionStore) guardSessionStore(config, sessionStore)
    const route = routeFor(routes, req)
    const work = route
      ? runRoute(config, route, req, res, next)
      : autoLink(config, req as SessionRequest, next)
    work.catch((err: unknown) => next(err))
  }

  const guard = createGuard(config)
  return Object.assign(logoutMiddleware, {
    guard: function guardMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
      guard(req, res, next).catch((err: unknown) => next(err))
    },
    revoke: createRevoke(config),
    link: createLink(config),
    store: config.store,
  })
}

function buildRoutes(config: Config): Route[] {
  const routes: Route[] = [
    { path: config.path, methods: config.methods, handle: handleLogout, otherMethods: 'next' },
  ]
  // The identity provider is the only caller of these two: other methods are refused, not passed on.
  if (config.backchannel) {
    const handle = createBackchannel(config)
    routes.push({ path: config.backchannel.path, methods: new Set(['POST']), handle, otherMethods: 405 })
  }
  if (config.frontchannel) {
    const handle = createFrontchannel(config)
    routes.push({ path: config.frontchannel.path, methods: new Set(['GET']), handle, otherMethods: 405 })
  }
  return routes
}

function routeFor(routes: Route[], req: IncomingMessage): Route | undefined {
  const path = pathOf(req)
  return routes.find((r) => r.path === path)
}

async function runRoute(
  config: Config,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
): Promise<void> {
  if (!route.methods.has(req.method ?? '')) {
    // The app may serve its own page on the logout path for other methods (a confirmation form).
    if (route.otherMethods === 'next') return next()
    noStore(res)
    res.setHeader('Allow', [...route.methods].join(', '))
    return sendError(
      req,
      res,
      new LogoutError('ERR_METHOD_NOT_ALLOWED', `Method ${req.method ?? ''} is not allowed here`, {
        status: 405,
      }),
    )
  }
  try {
    await route.handle(config, req, res, next)
  } catch (err) {
    if (err instanceof LogoutError && err.status < 500 && !res.headersSent) return sendError(req, res, err)
    throw err
  }
}

/** Off the logout route: link the session to its token once, then hand over untouched. */
async function autoLink(config: Config, req: SessionRequest, next: Next): Promise<void> {
  try {
    await linkRequest(config, req)
  } catch (err) {
    // Linking is best effort on ordinary requests: the app must keep working when the store is down.
    debug('automatic link failed: %O', err)
    config.logger.warn(
      `sso-logout: linking a session failed: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  next()
}
