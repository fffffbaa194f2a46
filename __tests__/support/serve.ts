import { createServer } from 'node:http'
import type { RequestListener, Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Express, NextFunction, Request, Response } from 'express'

/** A local HTTP server of a test. */
export interface Listening {
  server: Server
  /** `http://127.0.0.1:PORT` */
  url: string
  /** `127.0.0.1:PORT`, for options that take a host (`domain`, `apiHostname`). */
  host: string
  /** Every request it received, as `METHOD /path?query`, so a test can tell what was (not) called. */
  hits: string[]
  /** Drops open keep-alive connections first: a plain `close()` would wait for clients to hang up. */
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1, port 0: the OS picks a free port, so test files running side by side never
 * collide. Without a handler, attach one later (`server.on('request', app)`) when the app must know
 * its own URL before it is built.
 */
export async function listen(handler?: RequestListener): Promise<Listening> {
  const server = createServer()
  const hits: string[] = []
  // Registered first, so a request is recorded even when the handler throws or never answers.
  server.on('request', (req) => void hits.push(`${req.method ?? ''} ${req.url ?? ''}`))
  if (handler) server.on('request', handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    server,
    url: `http://${host}`,
    host,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * A `127.0.0.1:PORT` that refuses connections. Not a port a test has just closed: the OS may hand
 * that one to the next `listen(0)`, another test file's server, which would then answer. Every
 * server of the suite listens on port 0, so it gets an ephemeral port (from 32768 on Linux): a
 * port below that range that refuses now keeps refusing for the whole run. Not a low one either:
 * fetch refuses many of those itself ("bad port"), before any connection is tried.
 */
export async function refusedHost(): Promise<string> {
  for (let port = 30000; port < 31000; port++) {
    if (await refuses(port)) return `127.0.0.1:${port}`
  }
  throw new Error('refusedHost: every port from 30000 to 30999 accepts connections on 127.0.0.1')
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

/**
 * Serves an Express app whose last error handler answers 500 with the error: the property and
 * hygiene suites assert that no input ever reaches it.
 */
export function serveApp(app: Express): Promise<Listening> {
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).end(String(err))
  })
  return listen(app)
}
