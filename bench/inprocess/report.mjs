// The in-process report: machine and method, the targets with their paired ratios and verdicts,
// and every variant's cost per operation.
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import {
  GUARD_REVOKED,
  GUARD_USERS,
  LARGE_STORE,
  OPS_FACTOR,
  QUICK,
  ROUNDS,
  WARMUP_ROUNDS,
} from './config.mjs'
import { observations, targets } from './plan.mjs'
import { median, medianInterval, quantile, verdict } from './stats.mjs'

const fmt = (n, digits = 3) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

const perOp = {
  cpu: (r) => r.cpuUs / r.n,
  alloc: (r) => r.allocBytes / r.n,
  wall: (r) => (r.wallMs * 1000) / r.n,
  commands: (r) => (r.commands ?? 0) / r.n,
}

function version(name) {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    return JSON.parse(readFileSync(url, 'utf8')).version
  } catch {
    return 'unknown'
  }
}

/** Per round, the ratio of one variant's cost per operation to another's in the same round. */
function pairedRatios(results, { scenario, numerator, denominator }, metric = perOp.cpu) {
  const rounds = results.get(scenario)?.rounds
  const den = new Map((rounds?.get(denominator) ?? []).map((r) => [r.round, metric(r)]))
  return (rounds?.get(numerator) ?? [])
    .filter((r) => den.has(r.round))
    .map((r) => metric(r) / den.get(r.round))
}

function describe(ratios) {
  const interval = medianInterval(ratios)
  return {
    n: ratios.length,
    median: median(ratios),
    interval,
    iqr: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    range: [Math.min(...ratios), Math.max(...ratios)],
  }
}

function targetTable(results) {
  const rows = [
    '| Target | measured (median) | interval of the median | IQR | min–max | verdict |',
    '|---|---:|---:|---:|---:|---|',
  ]
  const notes = []
  for (const t of targets()) {
    const ratios = pairedRatios(results, t)
    if (ratios.length === 0) {
      rows.push(`| ${t.label} | n/a | | | | NOT MEASURED (${unavailableReason(results, t)}) |`)
      continue
    }
    const d = describe(ratios)
    const v = verdict(d.interval, t.direction, t.threshold)
    rows.push(
      `| ${t.label} | ${fmt(d.median)} | ${fmt(d.interval.low)}–${fmt(d.interval.high)} (${Math.round(d.interval.coverage * 100)} %) | ${fmt(d.iqr[0])}–${fmt(d.iqr[1])} | ${fmt(d.range[0])}–${fmt(d.range[1])} | **${v}** |`,
    )
    notes.push(`- ${t.label}: ${t.reads}, ${d.n} rounds; passes when ${t.direction} ${t.threshold}.`)
  }
  return { table: rows.join('\n'), notes: notes.join('\n') }
}

function unavailableReason(results, t) {
  const u = results.get(t.scenario)?.unavailable
  return u?.get(t.numerator) ?? u?.get(t.denominator) ?? 'not run'
}

function observationLines(results) {
  return observations()
    .map((o) => {
      const ratios = pairedRatios(results, o)
      if (ratios.length === 0) return `- ${o.label}: not measured (${unavailableReason(results, o)})`
      const d = describe(ratios)
      return `- ${o.label}: ${fmt(d.median)} (interval ${fmt(d.interval.low)}–${fmt(d.interval.high)}, min–max ${fmt(d.range[0])}–${fmt(d.range[1])}); no target`
    })
    .join('\n')
}

function variantTable(plan, results) {
  const rows = [
    '| Scenario | variant | CPU µs/op | × first | heap allocated KB/op | × first | wall µs/op | Redis commands/op | GCs/round | work |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const s of plan) {
    const { rounds, work, unavailable } = results.get(s.id)
    const first = s.variants[0].id
    for (const v of s.variants) {
      const runs = rounds.get(v.id) ?? []
      if (runs.length === 0) {
        rows.push(
          `| ${s.title} | ${v.label} | not available: ${unavailable.get(v.id) ?? 'not run'} | | | | | | | |`,
        )
        continue
      }
      const cpuRatio = median(pairedRatios(results, { scenario: s.id, numerator: v.id, denominator: first }))
      const allocRatio = median(
        pairedRatios(results, { scenario: s.id, numerator: v.id, denominator: first }, perOp.alloc),
      )
      rows.push(
        `| ${s.title} | ${v.label} | ${fmt(median(runs.map(perOp.cpu)), 1)} | ${fmt(cpuRatio, 2)} | ${fmt(median(runs.map(perOp.alloc)) / 1024, 1)} | ${fmt(allocRatio, 2)} | ${fmt(median(runs.map(perOp.wall)), 0)} | ${v.store === 'redis' ? fmt(median(runs.map(perOp.commands)), 2) : '–'} | ${fmt(median(runs.map((r) => r.gcs)), 0)} | ${workNote(work.get(v.id))} |`,
      )
    }
  }
  return rows.join('\n')
}

function workNote(work) {
  if (!work || work.destroyed === undefined) return ''
  return `${fmt(work.destroyed / work.consumed, 2)} sessions destroyed per op`
}

function machine({ redis, load, seconds }) {
  const cpu = cpus()
  const command = QUICK ? '`BENCH_QUICK=1 npm run bench:inprocess`' : '`npm run bench:inprocess`'
  return [
    `- Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores (nproc), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    `- Node ${process.version}; redis-server ${redis.version ?? `not run (${redis.missing})`}`,
    `- Packages: express ${version('express')}, express-session ${version('express-session')}, jose ${version('jose')}, redis ${version('redis')}`,
    `- Date: ${new Date().toISOString()}; whole run ${Math.round(seconds)} s`,
    `- Load average (1 min) at start / end: ${load.start.toFixed(2)} / ${load.end.toFixed(2)}`,
    `- Command: ${command}${QUICK ? ' (smoke run: few, short rounds; not for figures)' : ''}`,
  ].join('\n')
}

export function renderReport({ plan, results, features, redis, load, seconds }) {
  const { table, notes } = targetTable(results)
  return `# In-process benchmark results

Written by \`npm run bench:inprocess\` (bench/inprocess/run.mjs), also the first part of \`npm run bench\`. Do not edit by hand.

${machine({ redis, load, seconds })}

## Method

- No sockets: each request is a real \`http.IncomingMessage\` and \`http.ServerResponse\` handed to the Express app (bench/inprocess/inject.mjs, about 8 µs per request, the same on both sides of a pair). Link at login is a direct call.
- Each scenario pits sso-logout, built (\`dist/esm\`), against a hand-written twin that does the least the same job needs (bench/inprocess/variants/). Each variant runs in its own process, built once, with the same prepared users, keys and session data.
- Rounds: ${WARMUP_ROUNDS} warm-up rounds thrown away, then ${ROUNDS} measured; in each round every variant of the scenario runs once, back to back, in an order rotated by one each round (AB, BA, ...). Operations run one at a time; per round ${plan.map((s) => `${s.id} ${Math.max(1, Math.round(s.ops * OPS_FACTOR))}`).join(', ')} operations.
- CPU per operation: \`process.cpuUsage()\` (user + system, every thread of the variant's process, so WebCrypto's pool and the garbage collector count) over the round, divided by its operations. Allocations: bytes allocated on the V8 heap, as the growth of the used heap plus what each garbage collection during the round freed (\`v8.GCProfiler\`); off-heap memory is not counted. Wall time is the round's elapsed time per operation (for Redis, mostly round trips).
- A target's ratio is computed within each round, between variants that ran next to each other, so the machine's drift between rounds cancels; the table gives the median of the ${ROUNDS} ratios and its distribution-free confidence interval (order statistics, coverage in brackets), with the IQR and min–max as the spread. Verdict: **MET** when the whole interval passes, **NOT MET** when none of it does, **UNDECIDED** when it straddles the threshold.
- Redis scenarios share one redis-server started for the run on a free port, each variant under its own key prefix with its own node-redis client; the scaling scenario's links are written before any Redis variant starts, so every Redis variant runs against a server holding them (as a store in use would).

## Targets

${table}

${notes}

Observed, without a target:

${observationLines(results)}
- \`sessions()\`: not measured: ${features.sessions.reason}.

## Cost per operation

Medians over the measured rounds; "× first" is the median paired ratio to the scenario's first variant.

${variantTable(plan, results)}

## Notes

- sso-logout runs with the options of the twins' job: one RS256 public key (\`accessToken.key\`), one issuer, the token read from the \`Authorization\` header only, a custom provider redirecting to a constant end-session URL (the twins redirect to the same constant).
- What each twin leaves out that sso-logout does is listed in its source (bench/inprocess/variants/): notably tombstones against in-flight session writes, \`returnTo\`/Origin checks, several issuers, record expiry in memory.
- Logout: each operation logs out a fresh user whose session was stored and linked first; the work column counts sessions gone from express-session's store per operation (1.00: every logout destroyed one). Guard: ${GUARD_USERS} users cycled, each session linked at login, ${GUARD_REVOKED} other sids already revoked; every request is let through (200). Back-channel: a fresh logout token per operation naming one linked session. Scaling: the store also holds ${LARGE_STORE.toLocaleString('en')} (or 1,000) other links, memory ones made through \`link()\`, Redis ones written in bulk by bench/redis-fill.mjs; the ${LARGE_STORE >= 1e6 ? '1e6' : 'large'} process's heap holds them, so its garbage collection pays for them.
`
}
