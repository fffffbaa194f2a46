// Fan-out of a logout across services. Four services (each its own process, with its own session
// store: two MemoryStores, two connect-redis) share one redis-server for sso-logout. Per trial one
// user signs in at every service, logs out at one of them (in turn), and the clock runs from the
// logout's response arriving here until each other service's store has destroyed that user's
// session. "Gone" is reported by the service itself, when its session store's destroy completes,
// with a reading of the machine's monotonic clock (see ./fanout/service.mjs): polling the store
// over HTTP or with EXISTS would add the poll's period and its own round trip to every sample, and
// work for connect-redis only. Prints p50/p95/p99/max against the target and writes
// bench/RESULTS-fanout.md. Run by `npm run bench` and `npm run bench:fanout` (after `npm run build`).
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { exportJWK, generateKeyPair } from 'jose'
import { agent, login, mint, send } from './fanout/client.mjs'
import { ms, report, summarise, verdict } from './fanout/report.mjs'
import { startService } from './fanout/services.mjs'
import { formatted } from './format.mjs'
import { buildCopy } from './package.mjs'
import { startRedis } from './redis.mjs'

const quick = process.env.BENCH_QUICK === '1'
/** Measured trials per phase; each gives one delivery per service but the one logging out. */
const TRIALS = Number(process.env.FANOUT_TRIALS ?? (quick ? 40 : 300))
const WARMUP = quick ? 5 : 20
const TARGET_MS = 100
/** Ten poll intervals: a delivery not made by then is lost, not late. */
const LOST_AFTER_MS = 10_000
/** Logouts one at a time (each trial alone on the machine), then several users logging out at once. */
const PHASES = [
  { label: 'one logout at a time', title: 'One logout at a time', inFlight: 1 },
  { label: '8 logouts in flight', title: 'Eight logouts in flight', inFlight: 8 },
]
const SERVICES = [
  { name: 'notes', sessionStore: 'memory' },
  { name: 'calendar', sessionStore: 'connect-redis' },
  { name: 'mail', sessionStore: 'memory' },
  { name: 'files', sessionStore: 'connect-redis' },
]

const log = (line) => process.stderr.write(`${line}\n`)
const now = () => process.hrtime.bigint()
const millis = (from, to) => Number(to - from) / 1e6
/** One trial: sign in everywhere, log out at service `n mod count`; one delivery per other service. */
async function trial(services, key, n) {
  const token = await mint(key, n)
  const sessions = await Promise.all(services.map((s) => login(s, token)))
  const at = n % services.length
  const others = services.map((s, i) => ({ s, i })).filter(({ i }) => i !== at)
  const reports = others.map(({ s, i }) => s.gone(sessions[i].id, LOST_AFTER_MS))
  const sent = now()
  const headers = { authorization: `Bearer ${token}`, cookie: sessions[at].cookie }
  const res = await send(services[at].port, 'POST', '/logout', headers)
  if (res.status !== 303) throw new Error(`${services[at].name} answered the logout with ${res.status}`)
  const gone = await Promise.all(reports)
  for (const [i, service] of services.entries()) {
    const answer = await service.ask({ has: sessions[i].id }, sessions[i].id)
    if (answer.error || answer.present) {
      throw new Error(
        `${service.name} still holds the session after the trial (${answer.error ?? 'present'})`,
      )
    }
  }
  const deliveries = others.map(({ s }, j) => delivery(services[at], s, gone[j], sent, res.at))
  return { deliveries, logout: millis(sent, res.at) }
}

function delivery(from, to, report, sent, responded) {
  const base = { from: from.name, to: to.name, store: to.sessionStore }
  if (!report) return { ...base, ms: Infinity, fromRequest: Infinity }
  const gone = BigInt(report.at)
  const notice = report.notice === undefined ? undefined : BigInt(report.notice)
  const woken = notice !== undefined && notice >= sent && notice <= gone
  return {
    ...base,
    ms: millis(responded, gone),
    fromRequest: millis(sent, gone),
    noticeToGone: woken ? millis(notice, gone) : undefined,
    responseToNotice: woken ? millis(responded, notice) : undefined,
  }
}

/**
 * The services' clocks must be the driver's: each reading a service sends back has to fall between
 * the driver's readings before the question and after the answer. Resolves to the widest bracket.
 */
async function checkClock(services) {
  let widest = 0
  for (const service of services) {
    for (let i = 0; i < 20; i++) {
      const before = now()
      const { at } = await service.ask({ clock: i }, i)
      const after = now()
      const theirs = BigInt(at)
      if (theirs < before || theirs > after) {
        throw new Error(`${service.name}'s process.hrtime is not the driver's clock: cannot compare times`)
      }
      widest = Math.max(widest, millis(before, after))
    }
  }
  return widest
}

/** Runs `count` trials from number `first`, `inFlight` at a time; resolves to their deliveries and logout times. */
async function phase(services, key, first, count, inFlight) {
  const deliveries = []
  const logouts = []
  let next = first
  const worker = async () => {
    while (next < first + count) {
      const result = await trial(services, key, next++)
      deliveries.push(...result.deliveries)
      logouts.push(result.logout)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return { deliveries, logouts }
}

async function measure(services, key, load, redis) {
  const clock = await checkClock(services)
  await phase(services, key, 0, WARMUP, 1)
  const phases = []
  let first = WARMUP
  for (const { label, title, inFlight } of PHASES) {
    log(`bench/fanout: ${TRIALS} trials, ${label}`)
    const { deliveries, logouts } = await phase(services, key, first, TRIALS, inFlight)
    first += TRIALS
    phases.push({ label, title, trials: TRIALS, summary: summarise(deliveries, logouts) })
  }
  const events = {
    service: services.flatMap((s) => s.events).filter((e) => e.reason === 'service').length,
    deliveries: first * (services.length - 1),
  }
  const args = { redis, services: SERVICES, warmup: WARMUP, clock, load, phases, events }
  return { phases, text: report({ ...args, target: TARGET_MS }) }
}

async function main() {
  const redis = await startRedis()
  if (redis.missing) return log(`bench/fanout: NOT MEASURED (${redis.missing})`)
  const copy = buildCopy('sso-logout-fanout-bench')
  const list = []
  try {
    if (!copy.snapshot()) throw new Error('no build in dist: run `npm run build` first')
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'bench-RS256', use: 'sig' }
    const prefix = `bench:fanout:${randomUUID().slice(0, 8)}:`
    const common = { redisUrl: redis.url, prefix, jwk, entry: copy.entry.href }
    list.push(...(await Promise.all(SERVICES.map((s) => startService({ ...common, ...s })))))
    const load = { start: loadavg()[0] }
    log(`bench/fanout: ${list.length} services, ${WARMUP} warm-up trials`)
    const { phases, text } = await measure(list, privateKey, load, redis)
    const file = fileURLToPath(new URL('./RESULTS-fanout.md', import.meta.url))
    const out = await formatted(file, text)
    writeFileSync(file, out)
    process.stdout.write(out)
    for (const line of new Set(list.flatMap((s) => s.logs))) log(`bench/fanout: a service logged: ${line}`)
    for (const { label, summary } of phases) {
      const { p50, p95, p99, max } = summary.all
      log(`bench/fanout: ${label}: p50 ${ms(p50)}, p95 ${ms(p95)}, p99 ${ms(p99)}, max ${ms(max)} ms`)
    }
    const worst = Math.max(...phases.map((p) => p.summary.all.p99))
    log(`Fan-out p99 ≤ ${TARGET_MS} ms: ${verdict(phases, TARGET_MS)} (${ms(worst)} ms, the worse phase's)`)
  } finally {
    agent.destroy()
    await Promise.all(list.map((s) => s.stop()))
    await redis.stop()
  }
}

main().catch((err) => {
  log(err?.stack ?? String(err))
  process.exitCode = 1
})
