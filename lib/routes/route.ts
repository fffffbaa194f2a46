/** What a route is to the middleware: a path, its methods, and a handler that reads only its config. */
import type { ServerResponse } from 'node:http'
import type { RequestContext } from '../request/context.js'

export type Next = (err?: unknown) => void

/** Answers one request; built once from the resolved config, which it closes over. */
export type Handler = (ctx: RequestContext, res: ServerResponse, next: Next) => Promise<void>

/** One route the middleware answers. */
export interface Route {
  path: string
  methods: ReadonlySet<string>
  handle: Handler
  /** Other methods on this path: hand them to the app (`'next'`), or answer `405`. */
  otherMethods: 'next' | 405
}
