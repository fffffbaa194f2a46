import { EventEmitter, once } from 'node:events'
import type { Express } from 'express'

/**
 * The routes of the write-back tests: `GET /login` stores a session (linked by the middleware when
 * the request carries a bearer token), `GET /slow` holds a request, its session loaded, until
 * `release()`, and then changes the session (unless `resave` is on, which writes it back anyway).
 */
export interface HeldRoutes {
  /** Emits `slow` when a request enters `/slow`. */
  arrivals: EventEmitter
  /** Lets every request held at `/slow` finish; later ones are held again. */
  release(): void
}

export function mountHeldRoutes(app: Express, resave = false): HeldRoutes {
  let release!: () => void
  let gate = new Promise<void>((resolve) => (release = resolve))
  const arrivals = new EventEmitter()
  app.get('/login', (req, res) => {
    ;(req.session as unknown as Record<string, unknown>).user = 'alice'
    res.json({ ok: true })
  })
  app.get('/slow', async (req, res) => {
    arrivals.emit('slow')
    await gate
    if (!resave) (req.session as unknown as Record<string, unknown>).visits = 1
    res.json({ done: true })
  })
  return {
    arrivals,
    release() {
      release()
      gate = new Promise<void>((resolve) => (release = resolve))
    },
  }
}

/** Calls `/login` (with `Authorization: Bearer <token>` when given); the session cookie it set. */
export async function loginAt(url: string, token?: string): Promise<string> {
  const res = await fetch(`${url}/login`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  await res.arrayBuffer()
  const cookie = res.headers.get('set-cookie')?.split(';')[0]
  if (!cookie) throw new Error('no session cookie')
  return cookie
}

/** Starts a request that waits at `/slow` until released; resolves once it has reached the handler. */
export async function heldRequest(
  url: string,
  routes: HeldRoutes,
  cookie: string,
): Promise<{ status: Promise<number> }> {
  const held = once(routes.arrivals, 'slow').then(() => true)
  const pending = fetch(`${url}/slow`, { headers: { cookie } }).then(async (res) => {
    await res.arrayBuffer()
    return res.status
  })
  // A request that ends without reaching the handler fails here, not at the test timeout.
  const ended = pending.then(
    () => false,
    () => false,
  )
  if (!(await Promise.race([held, ended]))) throw new Error('the request to /slow ended before it was held')
  // Wrapped: an async function returning the bare promise would wait for the request to finish.
  return { status: pending }
}
