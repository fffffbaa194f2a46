// Cross-instance propagation: instances A and B share one Redis store. Per trial, B's guard first
// accepts a fresh token (so nothing is cached as refused), then the driver sends that token to A's
// logout route and polls B with it until B answers 401. Runs in its own process, over keep-alive.
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import { importJWK } from 'jose'
import { accessToken, readKeys } from './fixtures.mjs'

const agent = new Agent({ keepAlive: true, maxSockets: 4 })

function get(port, path, token) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        headers: { authorization: `Bearer ${token}`, 'sec-fetch-site': 'same-origin' },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b)
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
  return { p50: at(50), p99: at(99), max: s[s.length - 1] }
}

async function trial(port, key, n) {
  const token = await accessToken(key, 'RS256', {
    sid: `prop-sid-${n}-${randomUUID()}`,
    sub: `prop-user-${n}`,
  })
  const before = await get(port.b, '/protected', token)
  if (before !== 200) throw new Error(`B refused a fresh token with ${before}`)
  const sent = performance.now()
  const logout = await get(port.a, '/logout', token)
  if (logout !== 302) throw new Error(`A answered the logout with ${logout}`)
  const answered = performance.now()
  let polls = 0
  for (;;) {
    polls++
    const status = await get(port.b, '/protected', token)
    if (status === 401) break
    if (status !== 200) throw new Error(`B answered ${status}`)
    if (performance.now() - sent > 5000) throw new Error('B still accepted the token 5 s after the logout')
  }
  const refused = performance.now()
  return { fromRequest: refused - sent, fromResponse: refused - answered, firstPoll: polls === 1 }
}

async function main({ dir, portA, portB, trials }) {
  const key = await importJWK(readKeys(dir).rsPrivate, 'RS256')
  const results = []
  for (let n = 0; n < trials; n++) results.push(await trial({ a: portA, b: portB }, key, n))
  return {
    trials,
    fromRequest: stats(results.map((r) => r.fromRequest)),
    fromResponse: stats(results.map((r) => r.fromResponse)),
    firstPollRefused: results.filter((r) => r.firstPoll).length,
  }
}

process.once('message', (message) => {
  main(message).then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (err) => process.send({ ok: false, error: err?.stack ?? String(err) }, () => process.exit(1)),
  )
})
