// One server under test, in its own process. The runner passes a JSON spec as argv[2]; the server
// builds the scenario's app, preloads its sessions, listens on 127.0.0.1:0 and reports its port
// over IPC. It exits on the message 'stop' (cleanly, so `--cpu-prof` can write its profile).
import { createServer } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { CLIENT_ID, RETURN_TO } from './config.mjs'
import { readKeys, readSlice } from './fixtures.mjs'
import { floor, limit, verify } from './apps/baseline.mjs'
import { eocLogout } from './apps/eoc.mjs'
import { startOp } from './apps/op.mjs'
import { destroyedCount } from './apps/sessions.mjs'
import { backchannel, guardRoute, propagation, ssoLogout } from './apps/sso.mjs'

const apps = {
  floor,
  'verify-rs256': (ctx) => verify(ctx, 'RS256'),
  'verify-es256': (ctx) => verify(ctx, 'ES256'),
  limit,
  'sso-logout': ssoLogout,
  eoc: eocLogout,
  guard: (ctx) => guardRoute(ctx, ctx.spec.guard),
  backchannel,
  propagation,
}

/** Apps that preload one session per prepared user; the others need no slice. */
const WITH_SESSIONS = new Set(['limit', 'sso-logout', 'backchannel'])

async function main() {
  const spec = JSON.parse(process.argv[2])
  const keys = readKeys(spec.dir)
  const op = await startOp([keys.rsPublic, keys.esPublic])
  const query = new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: RETURN_TO })
  op.logoutUrl = `${op.endSession}?${query}`
  const ctx = { spec, keys, op, onClose: [() => op.close()] }
  if (WITH_SESSIONS.has(spec.app)) ctx.slice = readSlice(spec.dir, spec.round)
  const build = apps[spec.app]
  if (!build) throw new Error(`unknown app "${spec.app}"`)
  const app = await build(ctx)
  ctx.slice = undefined
  let inFlight = 0
  const server = createServer((req, res) => {
    inFlight++
    res.once('close', () => inFlight--)
    app(req, res)
  })
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const heapUsed = process.memoryUsage().heapUsed
  process.send({ ready: true, port: server.address().port, heapUsed })
  process.on('message', async (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage()
      return process.send({ cpu: user + system })
    }
    if (message !== 'stop') return
    server.close()
    // Requests the load generator left in flight finish before the stores close under them.
    // (A socket the loader dropped closes before its handler ends: allow a short grace too.)
    for (let waited = 0; inFlight > 0 && waited < 3000; waited += 20) await delay(20)
    await delay(200)
    server.closeAllConnections()
    const destroyed = ctx.sessions ? await destroyedCount(ctx.sessions) : undefined
    for (const close of ctx.onClose) await close()
    process.send({ stopped: true, destroyed }, () => process.exit(0))
  })
}

// The runner is gone (interrupted): nothing will ask this server to stop.
process.on('disconnect', () => process.exit(0))

main().catch((err) => {
  process.send?.({ ready: false, error: err?.stack ?? String(err) })
  setTimeout(() => process.exit(1), 100)
})
