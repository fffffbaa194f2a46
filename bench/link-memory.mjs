// Memory per linked session in the Redis store. Starts a private redis-server, links N sessions
// through the built package's public API (redisStore + link), each with its own sid and sub (so
// each has one-member indexes: the most a link costs) and an owning service (the fan-out's tag in
// the record), and reports the growth of INFO memory `used_memory` per link, with a breakdown by
// key type from MEMORY USAGE; then the same when three services' sessions share each sid and sub
// (one sign-in, three services). Run by `npm run bench:memory` and `npm run bench` (after a build).
import { randomBytes, randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import { buildCopy } from './package.mjs'
import { startRedis } from './redis.mjs'

/** Links per measurement: a multiple of BATCH. */
const COUNT = 5000
const TARGET = 400
const ISS = 'https://login.example-idp.com/'
const SERVICE = 'billing-portal'
/** `logout()`'s default `retention`, which is what a link lives for. */
const TTL = 14 * 86400
const BATCH = 500

const log = (line) => process.stderr.write(`${line}\n`)

/** A 32-character session id, as express-session's default generator (uid-safe, 24 bytes) makes. */
const sessionId = () => randomBytes(24).toString('base64url')

async function usedMemory(client) {
  return Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1])
}

/** Average MEMORY USAGE and count of the keys under `prefix`, by Redis type. */
async function breakdown(client, prefix) {
  const byType = new Map()
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of keys) {
      const type = await client.type(key)
      const usage = await client.memoryUsage(key)
      const entry = byType.get(type) ?? { keys: 0, bytes: 0 }
      entry.keys += 1
      entry.bytes += usage
      byType.set(type, entry)
    }
  }
  return byType
}

/**
 * Links COUNT sessions, `services` per sid and sub (one session per service of one sign-in), on
 * an empty Redis; bytes per link from the growth of `used_memory`, and the keys by type.
 */
async function measure(client, redisStore, prefix, services) {
  await client.flushAll()
  const store = redisStore({ client, prefix, localView: false })
  // Loads the scripts into Redis's script cache first, so their bodies are not counted.
  const warm = sessionId()
  await store.link(
    { iss: ISS, sid: randomUUID(), sub: randomUUID(), sessionId: warm, at: Date.now(), service: SERVICE },
    TTL,
  )
  await store.unlink(warm)
  const before = await usedMemory(client)
  for (let from = 0; from < COUNT; from += BATCH) {
    const records = []
    while (records.length < BATCH) {
      const [sid, sub] = [randomUUID(), randomUUID()]
      for (let n = 0; n < services; n++) {
        const service = services === 1 ? SERVICE : `${SERVICE}-${n}`
        records.push({ iss: ISS, sid, sub, sessionId: sessionId(), at: Date.now(), service })
      }
    }
    await Promise.all(records.slice(0, BATCH).map((record) => store.link(record, TTL)))
  }
  const perLink = Math.round(((await usedMemory(client)) - before) / COUNT)
  const types = await breakdown(client, prefix)
  store.close()
  return { perLink, types }
}

/**
 * The least three keys with a TTL cost, named exactly as a link's three (the record and its two
 * one-member indexes, under the same prefix) but with the record's value cut to one byte: what no
 * layout with a key per record and per index can go below, whatever it stores.
 */
async function floor(client, prefix) {
  await client.flushAll()
  const before = await usedMemory(client)
  const expiry = Math.floor(Date.now() / 1000) + TTL
  const tag = () => randomBytes(9).toString('base64url')
  for (let from = 0; from < COUNT; from += BATCH) {
    const batch = client.multi()
    for (let i = 0; i < BATCH; i++) {
      const id = sessionId()
      batch.set(`${prefix}{s${id}}l`, '1', { EXAT: expiry })
      for (const index of [`${prefix}{${tag()}}i`, `${prefix}{${tag()}}i`]) {
        batch.zAdd(index, { score: expiry, value: id })
        batch.expireAt(index, expiry)
      }
    }
    await batch.exec()
  }
  return Math.round(((await usedMemory(client)) - before) / COUNT)
}

async function main() {
  const redis = await startRedis()
  if (redis.missing) {
    log(`bench/link-memory: NOT MEASURED (${redis.missing})`)
    return
  }
  const copy = buildCopy('sso-logout-memory-bench')
  const client = createClient({ url: redis.url })
  client.on('error', (err) => log(`bench/link-memory: ${err.message}`))
  try {
    if (!copy.snapshot()) throw new Error('no build in dist: run `npm run build` first')
    const { redisStore } = await copy.importPackage()
    await client.connect()
    const version = /redis_version:(\S+)/.exec(await client.info('server'))[1]
    log(
      `bench/link-memory: Redis ${version}, ${COUNT} links (32-char session ids, UUID sid and sub, ${ISS}, a service each)`,
    )
    const shared = await measure(client, redisStore, 'sso-logout:', 3)
    const own = await measure(client, redisStore, 'sso-logout:', 1)
    const least = await floor(client, 'sso-logout:')
    for (const [type, { keys, bytes }] of own.types) {
      log(
        `  ${type}: ${(keys / COUNT).toFixed(2)} keys per link, MEMORY USAGE ${Math.round(bytes / keys)} bytes each`,
      )
    }
    log(`  used_memory growth: ${own.perLink} bytes per link with its own sid and sub`)
    log(
      `  used_memory growth: ${shared.perLink} bytes per link when 3 services' sessions share a sid and sub`,
    )
    log(
      `  floor: ${least} bytes per link for its three keys with a TTL, named as a link's, with a one-byte record`,
    )
    process.stdout.write(
      `Memory per link ≤ ${TARGET} bytes: ${own.perLink <= TARGET ? 'MET' : 'NOT MET'} (${own.perLink} bytes)\n`,
    )
  } finally {
    if (client.isOpen) await client.quit()
    await redis.stop()
  }
}

main().catch((err) => {
  log(err?.stack ?? String(err))
  process.exitCode = 1
})
