/** The page a GET logout gets when nothing shows it came from the app's own pages: confirm with a POST. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { LogoutError } from '../errors.js'
import { escapeHtml } from '../request/refusal-page.js'
import { prefersJson, sendError, sendText } from '../request/respond.js'

const MESSAGE =
  'A GET logout must come from this site (Sec-Fetch-Site or Referer); confirm with a POST instead'

/**
 * Answers an unproven GET with `403` and, for a browser, a page with one button that POSTs the same
 * URL (same `returnTo`): a user whose old browser sent no Fetch Metadata still logs out in one
 * click, while an `<img>` or a link on another site logs nobody out. The page may not be framed,
 * so it cannot be overlaid to trick a click (clickjacking).
 */
export function askToConfirm(req: IncomingMessage, res: ServerResponse): void {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html')
  if (prefersJson(req) || !wantsHtml)
    return sendError(req, res, new LogoutError('ERR_CROSS_SITE_REQUEST', MESSAGE))
  // Express keeps the URL as requested in `originalUrl` when the middleware is mounted on a prefix.
  const action = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; form-action 'self'")
  const page =
    '<!doctype html><meta charset="utf-8"><title>Log out?</title>' +
    `<form method="post" action="${escapeHtml(action)}"><p>Log out of this site?</p>` +
    '<button type="submit">Log out</button></form>\n'
  sendText(res, 403, page, 'text/html')
}
