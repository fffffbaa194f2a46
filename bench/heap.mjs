// Heap bytes per record of memoryStore(), measured in a process of its own under --expose-gc:
// collect, insert N records into a fresh store, collect again, divide the growth by N. Ids have
// realistic lengths (express-session ids of 32 characters, UUID sids, Auth0-style subs).
import { randomBytes, randomUUID } from 'node:crypto'
import { importPackage } from './package.mjs'

const ISS = 'https://tenant.eu.auth0.com/'

function heapAfterGc() {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

function perRecord(memoryStore, records, insert) {
  const store = memoryStore({ maxEntries: records * 2 })
  const before = heapAfterGc()
  insert(store)
  const after = heapAfterGc()
  store.close()
  return (after - before) / records
}

function measure(memoryStore, records) {
  const now = Date.now()
  const perLink = perRecord(memoryStore, records, (store) => {
    for (let i = 0; i < records; i++) {
      const sessionId = randomBytes(24).toString('base64url')
      const sub = `auth0|${randomBytes(12).toString('hex')}`
      store.link({ iss: ISS, sid: randomUUID(), sub, sessionId, at: now }, 3600)
    }
  })
  const perRevocation = perRecord(memoryStore, records, (store) => {
    for (let i = 0; i < records; i++) store.revoke({ iss: ISS, sid: randomUUID() }, now, 3600)
  })
  return { records, perLink, perRevocation }
}

process.once('message', async ({ records }) => {
  try {
    const { memoryStore } = await importPackage()
    process.send({ ok: true, result: measure(memoryStore, records) }, () => process.exit(0))
  } catch (err) {
    process.send({ ok: false, error: err?.stack ?? String(err) }, () => process.exit(1))
  }
})
