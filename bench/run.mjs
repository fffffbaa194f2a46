// `npm run bench:http` (and the second half of `npm run bench`): prepares the fixtures, then runs
// every scenario of issue 7 in rounds, each round visiting the scenarios round-robin (in a rotated
// order) with a fresh server process per run, and writes (and prints) bench/RESULTS.md with the
// medians of the rounds, their spread and each figure's ratio to the floor.
import { rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { CONNECTIONS, DURATION, HEAP_RECORDS, ROUNDS, TRIALS, WARMUP } from './config.mjs'
import { prepareFixtures } from './fixtures.mjs'
import { formatted } from './format.mjs'
import { scenarios } from './plan.mjs'
import { forkChild, runChild, startServer } from './processes.mjs'
import { startRedis } from './redis.mjs'
import { renderReport } from './report.mjs'
import { probeFeatures } from './probe.mjs'

const log = (line) => process.stderr.write(`${line}\n`)
/** Responses other than the expected status beyond this share void a run instead of skewing it. */
const MAX_UNEXPECTED = 0.001

function rotate(list, by) {
  const k = by % Math.max(1, list.length)
  return [...list.slice(k), ...list.slice(0, k)]
}

async function runOnce(scenario, round, env) {
  const spec = {
    dir: env.dir,
    round,
    app: scenario.app,
    store: scenario.store,
    guard: scenario.guard,
    redisUrl: env.redis.url,
    prefix: scenario.filler ? `bench:${scenario.id}:` : `bench:${scenario.id}:${round}:`,
    filler: scenario.filler,
    fillerLoaded: scenario.store === 'redis' && env.filled.has(scenario.id),
  }
  const profiled = process.env.BENCH_PROFILE?.split(',').includes(scenario.id)
  const profile = profiled ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : []
  const load = {
    dir: env.dir,
    round,
    connections: CONNECTIONS,
    duration: DURATION,
    warmup: WARMUP,
    ...pick(scenario, ['kind', 'method', 'path', 'expect']),
  }
  const loader = forkChild('./loadgen.mjs', load)
  let server
  try {
    server = await startServer(spec, [...(scenario.execArgv ?? []), ...profile])
  } catch (err) {
    await loader.cancel()
    throw err
  }
  if (scenario.filler) env.filled.add(scenario.id)
  let result
  try {
    let cpuStart
    result = await loader.run({ port: server.port }, (m) => {
      if (m?.phase === 'measure') cpuStart = server.cpu()
    })
    const cpuEnd = await server.cpu()
    // Server CPU per response: the server's capacity even when the load generator, not the
    // server, limits the req/s (the fast guard routes on two cores).
    result.cpuPerRequest = (cpuEnd - (await cpuStart)) / result.count
    if (result.unexpected > result.count * MAX_UNEXPECTED || result.count === 0) {
      throw new Error(`expected ${scenario.expect}, got ${JSON.stringify(result.statuses)}`)
    }
  } finally {
    const stopped = await server.stop()
    if (result) result.destroyed = stopped.destroyed
  }
  return result
}

/** BENCH_ONLY=id,id runs a subset (for profiling and development); the default runs everything. */
function selected(plan) {
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
  return only ? plan.filter((s) => only.includes(s.id)) : plan
}

function pick(object, keys) {
  return Object.fromEntries(keys.map((k) => [k, object[k]]))
}

async function runRounds(env) {
  const runs = new Map()
  const unavailable = new Map()
  for (const s of env.plan) {
    const missing = s.needs.filter((need) => !env.features[need].ok)
    if (missing.length) unavailable.set(s.id, missing.map((need) => env.features[need].reason).join('; '))
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of rotate(env.plan, round)) {
      if (unavailable.has(s.id)) continue
      const started = performance.now()
      try {
        const r = await runOnce(s, round, env)
        runs.set(s.id, [...(runs.get(s.id) ?? []), { ...r, round }])
        const took = ((performance.now() - started) / 1000).toFixed(1)
        log(
          `round ${round + 1}/${ROUNDS} ${s.id}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${took} s)`,
        )
      } catch (err) {
        log(`round ${round + 1}/${ROUNDS} ${s.id}: FAILED ${err.message}`)
        unavailable.set(s.id, `failed: ${err.message}`)
        runs.delete(s.id)
      }
    }
  }
  return { runs, unavailable }
}

async function propagationTrials(env) {
  if (!env.features.redis.ok || !env.features.logout.ok) {
    const reasons = [env.features.logout, env.features.redis].filter((f) => !f.ok).map((f) => f.reason)
    return { missing: reasons.join('; ') }
  }
  const spec = {
    dir: env.dir,
    app: 'propagation',
    store: 'redis',
    redisUrl: env.redis.url,
    prefix: 'bench:propagation:',
  }
  const servers = []
  try {
    servers.push(await startServer(spec), await startServer(spec))
    const [a, b] = servers
    return await runChild('./propagation.mjs', { dir: env.dir, portA: a.port, portB: b.port, trials: TRIALS })
  } catch (err) {
    return { missing: `failed: ${err.message}` }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
}

async function heapPerRecord(env) {
  if (!env.features.logout.ok) return { missing: env.features.logout.reason }
  try {
    return await runChild('./heap.mjs', { records: HEAP_RECORDS }, { execArgv: ['--expose-gc'] })
  } catch (err) {
    return { missing: `failed: ${err.message}` }
  }
}

async function main() {
  const began = Date.now()
  log(`bench: ${ROUNDS} rounds of ${DURATION} s per run, ${CONNECTIONS} connections`)
  const redis = await startRedis()
  let dir
  const interrupted = async () => {
    await redis.stop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    const features = await probeFeatures(redis)
    dir = await prepareFixtures(ROUNDS, log)
    const env = {
      dir,
      redis,
      features,
      plan: selected(scenarios()),
      filled: new Set(),
      load: { start: loadavg()[0] },
    }
    const { runs, unavailable } = await runRounds(env)
    const heap = await heapPerRecord(env)
    const propagation = await propagationTrials(env)
    env.load.end = loadavg()[0]
    const seconds = (Date.now() - began) / 1000
    const report = renderReport({ env, runs, unavailable, heap, propagation, seconds })
    const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url))
    const text = await formatted(file, report)
    writeFileSync(file, text)
    process.stdout.write(text)
    log(`bench: wrote bench/RESULTS.md after ${seconds.toFixed(0)} s`)
  } finally {
    await redis.stop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  log(err?.stack ?? String(err))
  process.exitCode = 1
})
