/** Responses without Express helpers: no-store, JSON, text, redirects and request-time errors. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { LogoutError } from '../errors.js'
import { REFUSAL_CSP, refusalHtml } from './refusal-page.js'
import type { RefusalPage } from './refusal-page.js'

/** Every logout, back-channel and front-channel response must not be cached (Back-Channel Logout 1.0 §2.8, Front-Channel Logout 1.0 §2). */
export function noStore(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Pragma', 'no-cache')
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  res.statusCode = status
  res.setHeader('Content-Type', `${type}; charset=utf-8`)
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.end(text)
}

/** A redirect without Express helpers; `location` is always a serialised `URL` or a validated path. */
export function redirect(res: ServerResponse, status: 302 | 303, location: string): void {
  res.statusCode = status
  res.setHeader('Location', location)
  res.setHeader('Content-Length', 0)
  res.end()
}

/** `true` when the client ranks `application/json` above `text/html` in `Accept`. */
export function prefersJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept
  if (!accept || !accept.includes('json')) return false
  const { json, html } = qualities(accept)
  return json > 0 && json > html
}

/**
 * `true` when `Accept` names `text/html` (a browser's navigation does) and does not rank JSON
 * above it. A client that sends only wildcards (curl, most HTTP clients) is not asking for a page.
 */
export function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept
  if (!accept || !accept.includes('html')) return false
  const { json, html } = qualities(accept)
  return html > 0 && html >= json
}

/** The best quality `Accept` gives JSON and HTML (RFC 9110 §12.5.1). */
function qualities(accept: string): { json: number; html: number } {
  let json = 0
  let html = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';')
    const q = qualityOf(params)
    if (type === 'application/json' || type.endsWith('+json')) json = Math.max(json, q)
    else if (type === 'text/html') html = Math.max(html, q)
  }
  return { json, html }
}

function qualityOf(params: string[]): number {
  for (const param of params) {
    const [key, value] = param.trim().split('=')
    if (key === 'q' && value !== undefined) {
      const q = Number(value)
      return Number.isFinite(q) ? q : 0
    }
  }
  return 1
}

/**
 * Answers a request-time failure with its documented status and a message: JSON when preferred,
 * the `page` for a browser when there is one, plain text otherwise.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: LogoutError,
  page?: Omit<RefusalPage, 'detail'>,
): void {
  noStore(res)
  if (prefersJson(req)) sendJson(res, error.status, { error: error.code, error_description: error.message })
  else if (page && acceptsHtml(req)) {
    res.setHeader('Content-Security-Policy', REFUSAL_CSP)
    sendText(res, error.status, refusalHtml({ ...page, detail: error.message }), 'text/html')
  } else sendText(res, error.status, `${error.message}\n`)
}

/** The path of a request, relative to where the middleware is mounted (Express sets `req.url` so). */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** The raw query string of a request (without `?`). */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? ''
  const q = url.indexOf('?')
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
}

/** Every value of one query parameter; a request without a query string costs no parse. */
export function queryValues(req: IncomingMessage, name: string): string[] {
  const url = req.url ?? ''
  return url.includes('?') ? queryOf(req).getAll(name) : []
}
