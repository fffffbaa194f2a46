// A read-only window into the running example, for the browser tests (EXAMPLE_INSPECTOR=1 turns
// it on): which session ids each app's own session store holds, and which HTTP requests each
// server has received. It lives on a port of its own, so asking it is not a request to an app.
import { createServer } from 'node:http'

const HOST = '127.0.0.1'

/** Every request of each server, as `METHOD /path`, in the order they arrived. */
function recording(servers) {
  const requests = Object.fromEntries(Object.keys(servers).map((name) => [name, []]))
  for (const [name, server] of Object.entries(servers)) {
    server.on('request', (req) => requests[name].push(`${req.method} ${req.url.split('?')[0]}`))
  }
  return requests
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(body))
}

/**
 * Starts the inspector on a free loopback port. `stores` is what createStores() resolved to and
 * `servers` the `node:http` servers by name. `GET /sessions` answers `{ notes: [ids], calendar:
 * [ids] }`, `GET /requests` each server's requests so far (`{ notes: ['GET /', ...], ... }`, the
 * query left off). Resolves to `{ url, close() }`.
 */
export async function createInspector({ stores, servers }) {
  const requests = recording(servers)
  const server = createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, resolve)
  })
  const origin = `${HOST}:${server.address().port}`
  server.on('request', async (req, res) => {
    // Loopback only, and only under its own address: a page that rebinds a name of its own to
    // 127.0.0.1 sends another Host.
    if (req.headers.host !== origin) return sendJson(res, 403, { error: 'loopback only' })
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'GET only' })
    try {
      if (req.url === '/sessions') {
        return sendJson(res, 200, {
          notes: await stores.ids('notes'),
          calendar: await stores.ids('calendar'),
        })
      }
      if (req.url === '/requests') return sendJson(res, 200, requests)
      sendJson(res, 404, { error: 'GET /sessions or /requests' })
    } catch (err) {
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) })
    }
  })
  return {
    url: `http://${origin}`,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
