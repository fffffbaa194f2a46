// Linking a session at login, called directly as a login handler would: sso-logout's public
// `auth.link({ sid, sub, sessionId })` against the twin's index insert (by sid and by sub, dated
// now, with the same TTL). No HTTP: the login route around it is the app's, the same either way.
import { TOKEN_LIFETIME, redisClient, ssoOptions, ssoStore } from './common.mjs'
import { twinMemoryStore, twinRedisStore } from './twin-store.mjs'

/** A fresh login per operation, with ids of the lengths an IdP and express-session produce. */
function login(i) {
  const tag = `${i}`.padStart(8, '0')
  return {
    sid: `login-sid-${tag}-0123456789abcdef`,
    sub: `auth0|login-user-${tag}`,
    sessionId: `login-session-${tag}-0123456789ab`,
  }
}

export async function sso(ctx) {
  const { store } = await ssoStore(ctx)
  const auth = ctx.pkg.logout(ssoOptions(ctx, store))
  return {
    expect: true,
    operation(i) {
      const input = login(i)
      return () => auth.link(input)
    },
  }
}

export async function twin(ctx) {
  const index =
    ctx.spec.store === 'redis'
      ? await twinRedisStore(await redisClient(ctx), ctx.spec.prefix, TOKEN_LIFETIME)
      : twinMemoryStore()
  return {
    expect: true,
    operation(i) {
      const input = login(i)
      return async () => {
        await index.link({ ...input, at: Date.now() })
        return true
      }
    },
  }
}
