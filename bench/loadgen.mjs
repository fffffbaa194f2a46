// The load generator, in its own process: autocannon against one server, each request built from
// the next prepared user so that no two requests share a session or a logout token. Latency is
// taken from every response (autocannon's own histogram keeps only 2xx, in whole milliseconds).
import autocannon from 'autocannon'
import { readKeys, readSlice } from './fixtures.mjs'

function requestFactory(load, keys, slice) {
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const build = {
    rs256: (i) => ({ authorization: `Bearer ${slice.tokens[i]}`, cookie: `connect.sid=${slice.cookies[i]}` }),
    es256: (i) => ({
      authorization: `Bearer ${keys.esTokens[i % keys.esTokens.length]}`,
      cookie: `connect.sid=${slice.cookies[i]}`,
    }),
    eoc: (i) => ({ authorization: `Bearer ${slice.tokens[i]}`, cookie: `appSession=${slice.eocCookies[i]}` }),
  }
  const size = load.kind === 'backchannel' ? slice.logoutTokens.length : slice.tokens.length
  let next = 0
  const state = { used: 0, size }
  const setupRequest = (req) => {
    const i = next++ % size
    state.used = next
    if (load.kind === 'backchannel') {
      return { ...req, headers: form, body: `logout_token=${slice.logoutTokens[i]}` }
    }
    // A browser's same-origin link or form says so (Fetch Metadata); sso-logout asks for it on GET.
    return { ...req, headers: { 'sec-fetch-site': 'same-origin', ...build[load.kind](i) } }
  }
  return { setupRequest, state }
}

function run(options, onResponse) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)))
    if (onResponse) instance.on('response', onResponse)
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function prepare(load) {
  const keys = readKeys(load.dir)
  const parts = { rs256: ['base'], es256: ['base'], eoc: ['base', 'eoc'], backchannel: ['bc'] }[load.kind]
  return requestFactory(load, keys, readSlice(load.dir, load.round, parts))
}

async function measure(load, { setupRequest, state }) {
  const base = {
    url: `http://127.0.0.1:${load.port}`,
    connections: load.connections,
    pipelining: 1,
    requests: [{ method: load.method, path: load.path, setupRequest }],
  }
  if (load.warmup > 0) await run({ ...base, duration: load.warmup })
  // Tells the runner the measured window starts, so it can read the server's CPU time.
  process.send({ phase: 'measure' })
  const latencies = []
  const statuses = {}
  const result = await run({ ...base, duration: load.duration }, (_client, status, _bytes, ms) => {
    latencies.push(ms)
    statuses[status] = (statuses[status] ?? 0) + 1
  })
  const sorted = Float64Array.from(latencies).sort()
  const expected = statuses[load.expect] ?? 0
  return {
    rps: latencies.length / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    count: latencies.length,
    unexpected: latencies.length - expected,
    statuses,
    errors: result.errors + result.timeouts,
    sent: state.used,
    reused: state.used > state.size,
  }
}

process.on('disconnect', () => process.exit(0))

// The runner forks this process with the run's parameters while the server starts, so the
// fixtures are read in parallel; the one IPC message carries the server's port.
const load = JSON.parse(process.argv[2])
const prepared = prepare(load)
process.once('message', ({ port }) => {
  measure({ ...load, port }, prepared).then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (err) => process.send({ ok: false, error: err?.stack ?? String(err) }, () => process.exit(1)),
  )
})
