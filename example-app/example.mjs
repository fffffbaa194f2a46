// Wires the example together: the OP and the two apps, each on its own 127.0.0.1 port.
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { createOP } from './op.mjs'
import { createInspector } from './inspector.mjs'
import { createRelyingParty } from './rp.mjs'
import { createStores } from './stores.mjs'

const HOST = '127.0.0.1'

function listen(port) {
  const server = createServer()
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => resolve(server))
  })
}

function close(server) {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * Starts the OP, Notes and Calendar. Ports default to 0 (any free port); the servers listen first
 * so that every URL is known before the OP registers the apps' redirect and logout URIs. Notes and
 * Calendar share one sso-logout store, on the Redis at `redisUrl` when given, else in memory (see
 * stores.mjs). `inspect: true` adds the loopback inspector of inspector.mjs, for tests.
 * Resolves to `{ urls: { provider, notes, calendar, inspector? }, mode, close() }`.
 */
export async function createExample({ ports = {}, onEvent, redisUrl, inspect = false } = {}) {
  const stores = await createStores({ redisUrl })
  const servers = await Promise.all([
    listen(ports.provider ?? 0),
    listen(ports.notes ?? 0),
    listen(ports.calendar ?? 0),
  ])
  const [provider, notes, calendar] = servers.map((s) => `http://${HOST}:${s.address().port}`)
  const apps = [
    { id: 'notes', name: 'Notes', baseURL: notes, accent: '#1f7a5a', itemsTitle: 'Your notes' },
    { id: 'calendar', name: 'Calendar', baseURL: calendar, accent: '#b5542b', itemsTitle: 'This week' },
  ].map((a) => ({ ...a, secret: randomBytes(24).toString('base64url') }))
  const op = createOP({ issuer: provider, clients: apps, onEvent })
  const items = {
    notes: ['Single logout works across apps', 'Try "Log out" and reload Calendar'],
    calendar: ['Mon 10:00 Design review', 'Thu 15:30 Security sync'],
  }
  const handlers = apps.map((a, i) => {
    const peer = apps[1 - i]
    const app = {
      id: a.id,
      name: a.name,
      accent: a.accent,
      baseURL: a.baseURL,
      issuer: provider,
      clientId: a.id,
      clientSecret: a.secret,
      cookieName: `${a.id}.sid`,
      itemsTitle: a.itemsTitle,
      items: items[a.id],
      peer: { name: peer.name, url: `${peer.baseURL}/` },
    }
    return createRelyingParty(app, { sessionStore: stores.sessionStores[a.id], store: stores.store })
  })
  ;[op, ...handlers].forEach((handler, i) => servers[i].on('request', handler))
  const [providerServer, notesServer, calendarServer] = servers
  const inspector = inspect
    ? await createInspector({
        stores,
        servers: { provider: providerServer, notes: notesServer, calendar: calendarServer },
      })
    : undefined
  return {
    urls: { provider, notes, calendar, ...(inspector && { inspector: inspector.url }) },
    mode: stores.mode,
    close: async () => {
      await Promise.all([...servers.map(close), inspector?.close()])
      await stores.close()
    },
  }
}
