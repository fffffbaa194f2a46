// The example's stores: one sso-logout store that Notes and Calendar share, and a session store of
// each app's own. With no Redis they all live in this process; with `redisUrl` the shared store is
// a `redisStore` on that Redis, and Calendar keeps its sessions there too (connect-redis), while
// Notes keeps them in memory: two services, two kinds of session store, one logout.
import { RedisStore } from 'connect-redis'
import session from 'express-session'
import { createClient } from 'redis'
import { memoryStore, redisStore } from '../dist/esm/index.js'

const TIMEOUT = 2_000

/** The ids in an express-session store: connect-redis lists them, MemoryStore gives all sessions. */
function idsOf(sessionStore) {
  return new Promise((resolve, reject) => {
    const done = (err, found) => (err ? reject(err) : resolve(found))
    if (typeof sessionStore.ids === 'function') return sessionStore.ids(done)
    sessionStore.all((err, all) => done(err, Object.keys(all ?? {})))
  })
}

function embedded() {
  const sessionStores = { notes: new session.MemoryStore(), calendar: new session.MemoryStore() }
  const mode = 'one memoryStore() for both apps; each app its own express-session MemoryStore'
  return { mode, store: memoryStore(), sessionStores, close: async () => {} }
}

// The fail-fast client settings docs/many-instances.md gives: a stuck Redis fails a command
// instead of holding the request that waits for it.
async function connect(url) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    pingInterval: TIMEOUT / 2,
    commandOptions: { timeout: TIMEOUT },
    socket: {
      connectTimeout: TIMEOUT,
      socketTimeout: TIMEOUT,
      reconnectStrategy: (retries) => Math.min(100 * (retries + 1), TIMEOUT),
    },
  })
  client.on('error', (err) => console.warn(`[redis] ${err.message}`))
  await client.connect()
  return client
}

async function onRedis(url) {
  const client = await connect(url)
  const store = redisStore({ client })
  const sessionStores = {
    notes: new session.MemoryStore(),
    calendar: new RedisStore({ client, prefix: 'calendar:sess:' }),
  }
  const close = async () => {
    await store.close?.()
    await client.close()
  }
  const mode = `one redisStore on ${url} for both apps; Notes' sessions in a MemoryStore, Calendar's in connect-redis`
  return { mode, store, sessionStores, close }
}

/**
 * Resolves to `{ mode, store, sessionStores: { notes, calendar }, ids(app), close() }`: the shared
 * sso-logout store and each app's express-session store, on Redis when `redisUrl` is given.
 */
export async function createStores({ redisUrl } = {}) {
  const stores = redisUrl ? await onRedis(redisUrl) : embedded()
  return { ...stores, ids: (app) => idsOf(stores.sessionStores[app]) }
}
