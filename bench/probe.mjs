// What the benchmark can measure today: the built package's exports (the core, the Redis store
// and the back-channel receiver land separately) and whether redis-server runs on this machine.
import { CLIENT_ID, ISSUER, TOKEN_LIFETIME } from './config.mjs'
import { importPackage, snapshotBuild } from './package.mjs'

const yes = { ok: true }
const no = (reason) => ({ ok: false, reason })

export async function probeFeatures(redis) {
  if (!snapshotBuild()) {
    const missing = no('dist/esm/index.js is missing (npm run build failed?)')
    return { logout: missing, redis: missing, backchannel: missing }
  }
  const pkg = await importPackage()
  const logout = typeof pkg.logout === 'function' ? yes : no('`logout` is not exported by dist yet')
  let redisFeature =
    typeof pkg.redisStore === 'function' ? yes : no('`redisStore` is not exported by dist yet')
  if (redisFeature.ok && redis.missing) redisFeature = no(redis.missing)
  return { logout, redis: redisFeature, backchannel: logout.ok ? probeBackchannel(pkg) : logout }
}

function probeBackchannel(pkg) {
  try {
    const provider = {
      name: 'probe',
      issuer: ISSUER,
      clientId: CLIENT_ID,
      metadata: () => ({}),
      endSession: () => ({}),
    }
    pkg.logout({ provider, backchannel: { path: '/backchannel-logout', maxAge: TOKEN_LIFETIME } })
    return yes
  } catch (err) {
    return no(`the back-channel option is refused by dist: ${err.message}`)
  }
}
