// The Redis store's local view. Two instances (two stores, each on its own client) share one
// redis-server; per trial B first reads a fresh key (so its view holds "not revoked"), then A
// revokes (or buries) it and the clock runs until B's view answers "revoked" from memory, without
// a command. Also measures what one guard read costs with the view and without it. Prints p50/p99
// against the target and writes bench/RESULTS-view.md. Run by `npm run bench` (after `npm run build`).
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { formatted } from './format.mjs'
import { buildCopy } from './package.mjs'
import { startRedis } from './redis.mjs'

const TRIALS = Number(process.env.VIEW_TRIALS ?? 500)
const READS = Number(process.env.VIEW_READS ?? 20_000)
const TARGET_MS = 20
const ISS = 'https://idp.bench/'

const log = (line) => process.stderr.write(`${line}\n`)

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b)
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
  return { p50: at(50), p99: at(99), max: s[s.length - 1] }
}

async function connect(kind, url) {
  if (kind === 'node-redis') {
    const client = createClient({ url, disableOfflineQueue: true, pingInterval: 1000 })
    client.on('error', () => {})
    return client.connect()
  }
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true })
  client.on('error', () => {})
  await client.connect()
  return client
}

const quit = (client) => ('isOpen' in client ? client.close() : client.quit())

/** A store whose view events can be awaited: `changed()` resolves at the next applied change. */
function observed(redisStore, client, prefix, localView = {}) {
  let wake = () => {}
  let current
  const ready = new Promise((resolve) => (current = resolve))
  const onEvent = (event) => {
    if (event.type === 'current') current()
    if (event.type === 'change') wake()
  }
  const store = redisStore({ client, prefix, localView: localView && { ...localView, onEvent } })
  return { store, ready, changed: () => new Promise((resolve) => (wake = resolve)) }
}

/** Milliseconds from A's write call until B's view answers from memory that the key is written. */
async function propagation(a, b, kind, n) {
  const subject = { iss: ISS, sid: `${kind}-${n}` }
  const session = `session-${kind}-${n}`
  await b.store.revokedAt(subject)
  await b.store.isBuried(session)
  if (b.store.revokedAt(subject) !== undefined || b.store.isBuried(session) !== false) {
    throw new Error('B did not keep the keys it read')
  }
  const revocation = await measure(
    b,
    () => a.store.revoke(subject, Date.now(), 600),
    () => {
      const answer = b.store.revokedAt(subject)
      return typeof answer === 'number'
    },
  )
  const tombstone = await measure(
    b,
    () => a.store.bury([session], 600),
    () => b.store.isBuried(session) === true,
  )
  return { revocation, tombstone }
}

async function measure(b, write, visible) {
  const started = performance.now()
  let seen = false
  const watching = (async () => {
    while (!visible()) await b.changed()
    seen = performance.now()
  })()
  await write()
  await Promise.race([
    watching,
    new Promise((_, reject) => setTimeout(() => reject(new Error('not visible within 5 s')), 5000).unref()),
  ])
  return seen - started
}

/** Per-read latency (µs) of `READS` sequential revokedAt calls of one warm subject. */
async function readCost(store) {
  const subject = { iss: ISS, sid: 'warm', sub: 'warm-user' }
  await store.revokedAt(subject)
  await store.revokedAt(subject)
  const samples = []
  for (let i = 0; i < READS; i++) {
    const started = performance.now()
    const answer = store.revokedAt(subject)
    if (answer instanceof Promise) await answer
    samples.push((performance.now() - started) * 1000)
  }
  return stats(samples)
}

async function run(pkg, url, kind) {
  const prefix = `bench:view:${kind}:`
  const clients = [await connect(kind, url), await connect(kind, url), await connect(kind, url)]
  const a = observed(pkg.redisStore, clients[0], prefix)
  const b = observed(pkg.redisStore, clients[1], prefix)
  const off = observed(pkg.redisStore, clients[2], prefix, false)
  try {
    await b.store.revokedAt({ iss: ISS, sid: 'start' })
    await b.ready
    const revocations = []
    const tombstones = []
    for (let n = 0; n < TRIALS; n++) {
      const { revocation, tombstone } = await propagation(a, b, kind, n)
      revocations.push(revocation)
      tombstones.push(tombstone)
    }
    return {
      kind,
      revocation: stats(revocations),
      tombstone: stats(tombstones),
      withView: await readCost(b.store),
      withoutView: await readCost(off.store),
    }
  } finally {
    for (const s of [a, b, off]) await s.store.close()
    await Promise.all(clients.map(quit))
  }
}

const ms = (v) => v.toFixed(2)
const verdict = (p99) => (p99 <= TARGET_MS ? 'PASS' : 'FAIL')

function report(redis, results, load) {
  const rows = results.flatMap((r) => [
    `| ${r.kind} | revoke | ${ms(r.revocation.p50)} | ${ms(r.revocation.p99)} | ${ms(r.revocation.max)} | ≤ ${TARGET_MS} | ${verdict(r.revocation.p99)} |`,
    `| ${r.kind} | bury | ${ms(r.tombstone.p50)} | ${ms(r.tombstone.p99)} | ${ms(r.tombstone.max)} | ≤ ${TARGET_MS} | ${verdict(r.tombstone.p99)} |`,
  ])
  const reads = results.map(
    (r) =>
      `| ${r.kind} | ${r.withView.p50.toFixed(1)} | ${r.withView.p99.toFixed(1)} | ${r.withoutView.p50.toFixed(1)} | ${r.withoutView.p99.toFixed(1)} |`,
  )
  return `# Redis store local view

Redis ${redis.version} on loopback, Node ${process.version}, ${TRIALS} trials per client and kind, on
${cpus().length} cores with a load average of ${load.start.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end.
Generated by \`node bench/view.mjs\` (part of \`npm run bench\`).

## Propagation: a write by instance A visible to instance B's guard

From the call of \`revoke\`/\`bury\` on A until B's view answers from memory (a value, no
command) that the key is written: A's write and its PUBLISH, and the message's delivery to B.

| client | write | p50 ms | p99 ms | max ms | target p99 | verdict |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

## Cost of one guard read (revokedAt of a sid and a sub), ${READS} sequential reads

| client | with view p50 µs | with view p99 µs | view off p50 µs | view off p99 µs |
| --- | --- | --- | --- | --- |
${reads.join('\n')}
`
}

async function main() {
  const redis = await startRedis()
  if (redis.missing) {
    log(`bench/view: NOT MEASURED (${redis.missing})`)
    return
  }
  const copy = buildCopy('sso-logout-view-bench')
  try {
    if (!copy.snapshot()) throw new Error('no build in dist: run `npm run build` first')
    const pkg = await copy.importPackage()
    const results = []
    const load = { start: loadavg()[0] }
    for (const kind of ['node-redis', 'ioredis']) {
      log(`bench/view: ${kind}, ${TRIALS} trials`)
      results.push(await run(pkg, redis.url, kind))
    }
    const file = fileURLToPath(new URL('./RESULTS-view.md', import.meta.url))
    const text = await formatted(file, report(redis, results, load))
    writeFileSync(file, text)
    process.stdout.write(text)
    const failed = results.some((r) => r.revocation.p99 > TARGET_MS || r.tombstone.p99 > TARGET_MS)
    log(`bench/view: propagation p99 target ≤ ${TARGET_MS} ms: ${failed ? 'FAIL' : 'PASS'}`)
  } finally {
    await redis.stop()
  }
}

main().catch((err) => {
  log(err?.stack ?? String(err))
  process.exitCode = 1
})
