// The scenarios of issue 7, in the order the report lists them. `needs` names what must exist
// (in `dist`, or on the machine) for a scenario to run; the runner reports the others as not
// available, with the reason, instead of guessing a figure.
import { SCALES } from './config.mjs'

const logout = { method: 'GET', path: '/logout', expect: 302, kind: 'rs256' }
const guarded = { method: 'GET', path: '/protected', expect: 200, kind: 'rs256' }

/** Short labels for the scaling sizes: 1e3 ... 1e6. */
export const scaleLabel = (n) => `1e${Math.round(Math.log10(n))}`

/** Apps whose requests each use up one prepared session or logout token. */
const CONSUMING = new Set(['limit', 'sso-logout', 'eoc', 'backchannel'])

export function scenarios() {
  const list = [
    { id: 'floor', label: '1. Floor: bare Express 302', app: 'floor', ...logout, needs: [] },
    { id: 'verify-rs256', label: '2. Floor + jwtVerify RS256', app: 'verify-rs256', ...logout, needs: [] },
    {
      id: 'verify-es256',
      label: '2. Floor + jwtVerify ES256',
      app: 'verify-es256',
      ...logout,
      kind: 'es256',
      needs: [],
    },
    { id: 'limit', label: '2b. Limit: hand-written logout', app: 'limit', ...logout, needs: [] },
    {
      id: 'sso-memory',
      label: '3. sso-logout, memory store',
      app: 'sso-logout',
      store: 'memory',
      ...logout,
      needs: ['logout'],
    },
    {
      id: 'sso-redis',
      label: '4. sso-logout, Redis store',
      app: 'sso-logout',
      store: 'redis',
      ...logout,
      needs: ['logout', 'redis'],
    },
    { id: 'eoc', label: '5. express-openid-connect /logout', app: 'eoc', ...logout, kind: 'eoc', needs: [] },
    ...guardScenarios(),
    ...scaleScenarios(),
    ...backchannelScenarios(),
  ]
  return list.map((s) => ({ ...s, consumes: CONSUMING.has(s.app) }))
}

function guardScenarios() {
  const rows = [
    ['guard-none-decode', '6. Protected route, token verified upstream, no guard', 'decode', false, 'memory'],
    ['guard-memory-decode', '6. ... + guard (memory), claims from upstream', 'decode', true, 'memory'],
    ['guard-redis-decode', '6. ... + guard (Redis), claims from upstream', 'decode', true, 'redis'],
    ['guard-none-verify', '6. Protected route, jwtVerify in the route, no guard', 'verify', false, 'memory'],
    ['guard-memory-self', '6. guard (memory) verifying the token itself', 'none', true, 'memory'],
    ['guard-redis-self', '6. guard (Redis) verifying the token itself', 'none', true, 'redis'],
  ]
  return rows.map(([id, label, upstream, isGuarded, store]) => ({
    id,
    label,
    app: 'guard',
    store,
    guard: { upstream, guarded: isGuarded },
    ...guarded,
    needs: isGuarded ? (store === 'redis' ? ['logout', 'redis'] : ['logout']) : [],
  }))
}

function scaleScenarios() {
  return ['memory', 'redis'].flatMap((store) =>
    SCALES.map((n) => ({
      id: `scale-${store}-${scaleLabel(n)}`,
      label: `7. sso-logout, ${store === 'redis' ? 'Redis' : 'memory'}, ${scaleLabel(n)} sessions linked`,
      app: 'sso-logout',
      store,
      filler: n,
      ...logout,
      execArgv: n >= 1e6 ? ['--max-old-space-size=4096'] : [],
      needs: store === 'redis' ? ['logout', 'redis'] : ['logout'],
    })),
  )
}

function backchannelScenarios() {
  const bc = { method: 'POST', path: '/backchannel-logout', expect: 200, kind: 'backchannel' }
  return [
    {
      id: 'bc-memory',
      label: '8. Back-channel logout tokens, memory store',
      app: 'backchannel',
      store: 'memory',
      ...bc,
      needs: ['logout', 'backchannel'],
    },
    {
      id: 'bc-redis',
      label: '8. Back-channel logout tokens, Redis store',
      app: 'backchannel',
      store: 'redis',
      ...bc,
      needs: ['logout', 'backchannel', 'redis'],
    },
  ]
}
