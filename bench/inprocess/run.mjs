// `npm run bench:inprocess` (and the first half of `npm run bench`): every scenario of the plan,
// each variant in its own process driven without sockets, rounds interleaved in a rotated order,
// CPU and heap allocations per operation, targets judged on the per-round paired ratios. Prints
// the report; a full run (not BENCH_QUICK, not BENCH_ONLY) also writes bench/RESULTS-inprocess.md.
import { fork } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { formatted } from '../format.mjs'
import { startRedis } from '../redis.mjs'
import { CLIENT_ID, ISSUER, TOKEN_LIFETIME } from '../config.mjs'
import { CHUNKS, GUARD_USERS, OPS_FACTOR, QUICK, ROUNDS, WARMUP_ROUNDS } from './config.mjs'
import { prepareUsers } from './fixtures.mjs'
import { needsOf, scenarios } from './plan.mjs'
import { renderReport } from './report.mjs'
import { fillRedis } from '../redis-fill.mjs'
import { inprocessBuild } from './variants/common.mjs'

const log = (line) => process.stderr.write(`${line}\n`)
const here = (file) => fileURLToPath(new URL(file, import.meta.url))

const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length])
/** Processes built at once: enough to overlap the builds' waits, few enough for two cores. */
const BUILDERS = 3
const opsOf = (scenario) => Math.max(1, Math.round(scenario.ops * OPS_FACTOR))

/** What dist and the machine offer; a variant whose needs are missing is reported, not guessed. */
async function probe(redis) {
  if (!inprocessBuild.snapshot()) {
    const missing = { ok: false, reason: 'dist/esm/index.js is missing (run npm run build)' }
    return { logout: missing, redis: missing, backchannel: missing, sessions: missing }
  }
  const pkg = await inprocessBuild.importPackage()
  const no = (reason) => ({ ok: false, reason })
  if (typeof pkg.logout !== 'function') {
    const missing = no('`logout` is not exported by dist')
    return { logout: missing, redis: missing, backchannel: missing, sessions: missing }
  }
  const provider = {
    name: 'probe',
    issuer: ISSUER,
    clientId: CLIENT_ID,
    metadata: () => ({}),
    endSession: () => ({}),
  }
  let backchannel = { ok: true }
  try {
    pkg.logout({ provider, backchannel: { path: '/backchannel-logout', maxAge: TOKEN_LIFETIME } })
  } catch (err) {
    backchannel = no(`the back-channel option is refused by dist: ${err.message}`)
  }
  const redisFeature =
    typeof pkg.redisStore !== 'function'
      ? no('`redisStore` is not exported by dist')
      : redis.missing
        ? no(redis.missing)
        : { ok: true }
  // sessions() has no scenario yet (see plan.mjs): the report says whether dist has it.
  const sessions =
    typeof pkg.logout({ provider }).sessions === 'function'
      ? no('`sessions()` is in dist but has no scenario yet: add one in bench/inprocess/plan.mjs')
      : no('`sessions()` does not exist in dist yet')
  return { logout: { ok: true }, redis: redisFeature, backchannel, sessions }
}

/** BENCH_ONLY=id,id runs some scenarios (development, profiling); the default runs them all. */
function selected(plan) {
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
  return only ? plan.filter((s) => only.includes(s.id)) : plan
}

/**
 * BENCH_PROFILE=scenario/variant,... profiles those variants' rounds (warm-up included, set-up
 * not) into bench/profiles/<scenario>-<variant>.cpuprofile, or with BENCH_PROFILE_KIND=heap their
 * allocations into .heapprofile files; summarise one with `node bench/inprocess/hotspots.mjs
 * FILE`, and compare two (a variant and its twin) with `node bench/inprocess/profile-diff.mjs A B`.
 * The profiler slows what it samples: figures of a profiled run are not for the report.
 */
function profiling(id) {
  const wanted = process.env.BENCH_PROFILE?.split(',') ?? []
  const extension = process.env.BENCH_PROFILE_KIND === 'heap' ? 'heapprofile' : 'cpuprofile'
  return wanted.includes(id) ? here(`../profiles/${id.replace('/', '-')}.${extension}`) : undefined
}

function usersFor(scenario, variant) {
  if (variant.module === 'link') return 0
  if (!scenario.consumes) return GUARD_USERS
  // The probe's user, the warm-up rounds' and the measured rounds'.
  return 1 + (WARMUP_ROUNDS + ROUNDS) * opsOf(scenario)
}

/** Forks one variant's process; resolves when it is built, to `{ round(n), stop() }`. */
function startWorker(spec, execArgv) {
  const child = fork(here('./worker.mjs'), [JSON.stringify(spec)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const answer = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== type && m.type !== 'error') return
        child.off('message', onMessage)
        child.off('exit', onExit)
        if (m.type === 'error') reject(new Error(`${spec.label}: ${m.error.split('\n')[0]}`))
        else resolve(m)
      }
      const onExit = (code) => reject(new Error(`${spec.label}: exited with code ${code}`))
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  const worker = {
    async round(n) {
      const reply = answer('round')
      child.send({ type: 'round', n })
      return (await reply).result
    },
    async stop() {
      if (child.exitCode !== null) return {}
      const reply = answer('stopped')
      child.send({ type: 'stop' })
      return (await reply).work
    },
    kill: () => child.exitCode === null && child.kill('SIGKILL'),
  }
  return answer('ready').then(
    () => worker,
    (err) => {
      worker.kill()
      throw err
    },
  )
}

/**
 * One round: the variants take turns in chunks of the round's operations, in the round's rotated
 * order and then its reverse (ABBA ...), so that every variant's share of the round is spread
 * over the same stretch of time. Load from other processes on the machine slows all of them
 * alike, and a drift within the round falls on both sides of each pair evenly. Chunk costs add
 * up to the round's.
 */
async function runRound(workers, r, n) {
  const order = rotate(workers, r)
  const totals = new Map()
  for (let c = 0; c < CHUNKS; c++) {
    const size = Math.floor((n * (c + 1)) / CHUNKS) - Math.floor((n * c) / CHUNKS)
    if (size === 0) continue
    for (const { variant, worker } of c % 2 === 0 ? order : [...order].reverse()) {
      const chunk = await worker.round(size)
      const sum = totals.get(variant.id)
      if (!sum) totals.set(variant.id, chunk)
      else for (const key of Object.keys(chunk)) sum[key] += chunk[key]
    }
  }
  return totals
}

/** Runs `jobs` (functions returning promises) at most `limit` at a time, in order. */
function limited(limit) {
  const queue = []
  let running = 0
  const pump = () => {
    while (running < limit && queue.length > 0) {
      const { job, resolve, reject } = queue.shift()
      running++
      job()
        .then(resolve, reject)
        .finally(() => {
          running--
          pump()
        })
    }
  }
  return (job) =>
    new Promise((resolve, reject) => {
      queue.push({ job, resolve, reject })
      pump()
    })
}

const prefixOf = (scenario, variant) => `bip:${scenario.id}:${variant.id}:`

/**
 * Starts the processes of a scenario's available variants; resolves to `{ variants, workers,
 * unavailable, error? }`. Every scenario is built before any is measured, a few processes at a
 * time: building is most of a run's time (filling a million links above all) and measures
 * nothing, so it overlaps itself and the Redis pre-fill; measuring starts once all are built.
 * Built processes then wait idle (no timers but the stores' minute sweep) for their turn.
 */
async function buildScenario(scenario, env, queue) {
  const unavailable = new Map()
  const variants = scenario.variants.filter((v) => {
    const missing = needsOf(v).filter((need) => !env.features[need].ok)
    if (missing.length) unavailable.set(v.id, missing.map((need) => env.features[need].reason).join('; '))
    return missing.length === 0
  })
  const started = performance.now()
  const built = await Promise.allSettled(
    variants.map((v) =>
      queue(async () => {
        // The Redis scaling links are written by the runner (see prefill) before any Redis variant
        // starts: a long fill script would hold up the others' commands.
        const prefilled = v.filler !== undefined && v.store === 'redis'
        if (v.store === 'redis') await env.prefilled
        return startWorker(
          {
            ...v,
            label: `${scenario.id}/${v.id}`,
            fixturesDir: env.dir,
            redisUrl: env.redis.url,
            prefix: prefixOf(scenario, v),
            prefilled,
            consumes: scenario.consumes,
            users: usersFor(scenario, v),
            profile: profiling(`${scenario.id}/${v.id}`),
          },
          v.execArgv ?? [],
        )
      }),
    ),
  )
  const workers = []
  built.forEach((b, i) => b.status === 'fulfilled' && workers.push({ variant: variants[i], worker: b.value }))
  const failed = built.find((b) => b.status === 'rejected')
  log(`${scenario.id}: built in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { variants, workers, unavailable, error: failed?.reason }
}

/**
 * BENCH_TRACE=1 prints every round's cost per variant (warm-up rounds marked) to stderr: how a
 * scenario settles, and which rounds a garbage collection or a neighbour's load made an outlier.
 */
const TRACE = process.env.BENCH_TRACE === '1'
function traceLine(scenario, r, results) {
  const label = r < WARMUP_ROUNDS ? `warm-up ${r + 1}` : `round ${r - WARMUP_ROUNDS + 1}`
  const costs = [...results].map(
    ([id, x]) =>
      `${id} ${(x.cpuUs / x.n).toFixed(1)} µs CPU, ${(x.allocBytes / x.n / 1024).toFixed(1)} KB, ${x.gcs} GCs`,
  )
  return `${scenario.id} ${label}: ${costs.join(' | ')}`
}

async function measureScenario(scenario, env, build) {
  const { variants, workers, unavailable, error } = await build
  const rounds = new Map(variants.map((v) => [v.id, []]))
  const work = new Map()
  const started = performance.now()
  try {
    if (error) throw error
    for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
      const results = await runRound(workers, r, opsOf(scenario))
      if (TRACE) log(traceLine(scenario, r, results))
      if (r >= WARMUP_ROUNDS) {
        for (const [id, result] of results) rounds.get(id).push({ ...result, round: r - WARMUP_ROUNDS })
      }
    }
    for (const { variant, worker } of workers) work.set(variant.id, await worker.stop())
    log(`${scenario.id}: measured in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  } catch (err) {
    log(`${scenario.id}: FAILED ${err.message}`)
    for (const v of variants) unavailable.set(v.id, `failed: ${err.message}`)
    rounds.clear()
  } finally {
    for (const { worker } of workers) worker.kill()
  }
  return { rounds, work, unavailable }
}

/**
 * Writes the Redis scaling scenarios' links (bench/redis-fill.mjs, checked through the store's
 * own take()) from the runner, while the users are prepared and the memory variants built: Redis
 * works on one core while they work on the other. A failed fill fails the Redis variants when
 * they are built.
 */
async function prefill(plan, env, pkg) {
  if (!env.features.redis.ok) return
  for (const s of plan) {
    for (const v of s.variants.filter((x) => x.filler !== undefined && x.store === 'redis')) {
      const prefix = prefixOf(s, v)
      const store = pkg.redisStore({ client: env.redisClient, prefix })
      await fillRedis(env.redisClient, store, prefix, v.filler, 'inprocess', 2000)
    }
  }
}

async function main() {
  const began = Date.now()
  const plan = selected(scenarios())
  const wantsRedis = plan.some((s) => s.variants.some((v) => v.store === 'redis'))
  const redis = wantsRedis ? await startRedis() : { missing: 'no Redis scenario selected' }
  let dir
  let redisClient
  const cleanup = async () => {
    await redisClient?.quit().catch(() => {})
    await redis.stop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
  const interrupted = async () => {
    await cleanup()
    process.exit(130)
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    const features = await probe(redis)
    if (redis.url) {
      redisClient = createClient({ url: redis.url })
      await redisClient.connect()
    }
    const load = { start: loadavg()[0] }
    const env = { redis, redisClient, features }
    env.prefilled = prefill(plan, env, await inprocessBuild.importPackage())
    // Awaited by the Redis builds; a rejection is theirs to report.
    env.prefilled.catch(() => {})
    const users = Math.max(0, ...plan.flatMap((s) => s.variants.map((v) => usersFor(s, v))))
    log(`bench:inprocess: ${WARMUP_ROUNDS} warm-up + ${ROUNDS} rounds per scenario; preparing ${users} users`)
    env.dir = dir = await prepareUsers(users)
    const queue = limited(BUILDERS)
    // Memory first (the Redis ones wait for the pre-fill), the large stores first among them.
    const order = (s) => (s.variants.some((v) => v.store === 'redis') ? 1e9 : 0) - largest(s)
    const byBuildTime = [...plan].sort((a, b) => order(a) - order(b))
    const builds = new Map(byBuildTime.map((s) => [s.id, buildScenario(s, env, queue)]))
    // Nothing is measured while anything is still being built.
    await Promise.all(builds.values())
    log(`bench:inprocess: every variant built after ${((Date.now() - began) / 1000).toFixed(0)} s`)
    const results = new Map()
    for (const scenario of plan) {
      results.set(scenario.id, await measureScenario(scenario, env, builds.get(scenario.id)))
    }
    load.end = loadavg()[0]
    const seconds = (Date.now() - began) / 1000
    const report = renderReport({ plan, results, features, redis, load, seconds })
    const file = fileURLToPath(new URL('../RESULTS-inprocess.md', import.meta.url))
    const text = await formatted(file, report)
    process.stdout.write(text)
    if (!QUICK && !process.env.BENCH_ONLY && !process.env.BENCH_INPROCESS_ROUNDS) {
      writeFileSync(file, text)
      log(`bench:inprocess: wrote bench/RESULTS-inprocess.md after ${seconds.toFixed(0)} s`)
    } else {
      log(
        `bench:inprocess: done in ${seconds.toFixed(0)} s (not a full run: RESULTS-inprocess.md left as it was)`,
      )
    }
  } finally {
    await cleanup()
  }
}

const largest = (scenario) => Math.max(0, ...scenario.variants.map((v) => v.filler ?? 0))

main().catch((err) => {
  log(err?.stack ?? String(err))
  process.exitCode = 1
})
