// Server-rendered pages of the example: one layout, one stylesheet, and an escaper for everything
// that comes from a request or a token.

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
header{background:var(--accent);color:#fff;padding:14px 24px;display:flex;align-items:center;gap:12px}
header h1{font-size:20px;margin:0;font-weight:600}
header .tag{font-size:13px;opacity:.85}
main{max-width:640px;margin:32px auto;padding:0 16px}
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:24px;margin-bottom:20px}
.card h2{margin-top:0;font-size:18px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0}
dt{color:#5b6475}dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px;word-break:break-all}
.actions{display:flex;gap:12px;flex-wrap:wrap;margin-top:20px}
form{margin:0}
button,.button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:10px 18px;cursor:pointer;
  background:var(--accent);color:#fff;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#a32020;border:1px solid #d9a5a5}
label{display:block;font-size:14px;color:#5b6475;margin-bottom:4px}
input[type=email]{font:inherit;width:100%;padding:9px 12px;border:1px solid #c9ced8;border-radius:6px;margin-bottom:16px}
.note{font-size:14px;color:#5b6475}
.flash{background:#fff7e0;border:1px solid #f0d58a;border-radius:8px;padding:10px 14px;margin-bottom:20px}
.error{background:#fdecec;border-color:#f1b0b0}
ul{padding-left:20px}
`

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** A whole page: `title` and `tag` are escaped here, `body` is trusted HTML built with `esc`. */
export function page({ title, tag = '', accent = '#3056d3', body, script = '' }) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style>:root{--accent:${accent}}${CSS}</style>
</head>
<body>
<header><h1>${esc(title)}</h1><span class="tag">${esc(tag)}</span></header>
<main>
${body}
</main>
${script}
</body>
</html>`
}

/** Sends an HTML page that must never be cached: it shows who is signed in. */
export function sendPage(res, html, status = 200) {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(html)
}

/**
 * `GET /favicon.ico`: a one-letter SVG icon in the app's colour, so browsers find an icon instead
 * of a 404. Browsers take an SVG favicon by its Content-Type, whatever the file name says.
 */
export function favicon(letter, accent) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${esc(accent)}"/><text x="16" y="23" font-family="system-ui,sans-serif" font-size="19" font-weight="700" fill="#fff" text-anchor="middle">${esc(letter)}</text></svg>`
  return (_req, res) => {
    res.setHeader('Content-Type', 'image/svg+xml')
    res.setHeader('Cache-Control', 'public, max-age=86400')
    res.end(svg)
  }
}
