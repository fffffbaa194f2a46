/** The page a browser gets for a refused logout: what was refused, escaped, and a way back. */
import { createHash } from 'node:crypto'

/** What a refusal page says; every field is text, escaped here. */
export interface RefusalPage {
  title: string
  /** The sentence that explains the refusal to the user. */
  text: string
  /** The refusal as the API reports it (it names the refused value), shown as a detail. */
  detail: string
  /** Where the "back" link goes: the app's `baseURL`, or `/`. */
  home: string
}

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#f4f5f7;margin:0}' +
  'main{max-width:36em;margin:3em auto;padding:1.5em 2em;background:#fff;border-radius:10px}' +
  'h1{font-size:1.25em}code{font-size:.9em;word-break:break-all;background:#f4f5f7;padding:.1em .3em}'

/**
 * The page loads nothing, runs nothing and may not be framed: the style is allowed by its hash
 * (CSP Level 3 §8.2), so even markup that slipped past escaping could neither run nor load.
 */
export const REFUSAL_CSP =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Escapes text for element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The whole page, every field escaped. */
export function refusalHtml(page: RefusalPage): string {
  return (
    `<!doctype html><html lang="en"><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(page.title)}</title><style>${STYLE}</style>` +
    `<main><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.text)}</p>` +
    `<p><code>${escapeHtml(page.detail)}</code></p>` +
    `<p><a href="${escapeHtml(page.home)}">Back to the site</a></p></main></html>\n`
  )
}
