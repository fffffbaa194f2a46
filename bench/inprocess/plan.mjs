// The scenarios and targets of the in-process benchmark. A scenario is a set of variants measured
// in interleaved rounds, each variant in its own process (variants/*.mjs builds it there); a
// target is the per-round ratio of two variants' CPU per operation, judged on the interval of its
// median. To add a scenario (sessions(), once dist has it): write its variants' builders, add an
// entry to `scenarios()`, name what its variants need in `needsOf()`, and add its targets.
import { LARGE_STORE, SMALL_STORE } from './config.mjs'

export const scaleLabel = (n) => `1e${Math.round(Math.log10(n))}`

const SMALL = scaleLabel(SMALL_STORE)
const LARGE = scaleLabel(LARGE_STORE)

/** What must exist (in dist, on the machine) for a variant to run; see probe() in run.mjs. */
export function needsOf(variant) {
  const needs = ['logout']
  if (variant.store === 'redis') needs.push('redis')
  if (variant.module === 'backchannel') needs.push('backchannel')
  return needs
}

/** `consumes`: every operation uses up one prepared user (a session logged out, a logout token). */
export function scenarios() {
  return [
    pair('logout-memory', 'Logout route, memory store', 'logout', 'memory', 600, true),
    pair('logout-redis', 'Logout route, Redis store', 'logout', 'redis', 300, true),
    {
      id: 'guard',
      title: 'Guarded route, auth app-wide, express-session (memory and Redis)',
      // Twice the other scenarios' rounds: its four variants share a round, and with 800 operations
      // one garbage collection more or less on one side still moved a round's ratio by 10 %.
      ops: 1600,
      consumes: false,
      variants: [
        {
          id: 'sso-memory',
          label: 'sso-logout guard, memory',
          module: 'guard',
          build: 'sso',
          store: 'memory',
        },
        { id: 'twin-memory', label: 'twin, memory', module: 'guard', build: 'twin', store: 'memory' },
        { id: 'sso-redis', label: 'sso-logout guard, Redis', module: 'guard', build: 'sso', store: 'redis' },
        { id: 'twin-redis', label: 'twin, Redis', module: 'guard', build: 'twin', store: 'redis' },
      ],
    },
    pair('backchannel-memory', 'Back-channel logout token, memory store', 'backchannel', 'memory', 600, true),
    pair('backchannel-redis', 'Back-channel logout token, Redis store', 'backchannel', 'redis', 300, true),
    pair('link-memory', 'Link at login, memory store', 'link', 'memory', 3000, false),
    pair('link-redis', 'Link at login, Redis store', 'link', 'redis', 400, false),
    scale('memory'),
    scale('redis'),
  ]
}

function pair(id, title, module, store, ops, consumes) {
  return {
    id,
    title,
    ops,
    consumes,
    variants: [
      { id: 'sso', label: 'sso-logout', module, build: 'sso', store },
      { id: 'twin', label: 'hand-written twin', module, build: 'twin', store },
    ],
  }
}

/** The logout route with the store holding SMALL or LARGE other links (one user each). */
function scale(store) {
  const variant = (n) => ({
    id: scaleLabel(n),
    label: `sso-logout, ${scaleLabel(n)} links`,
    module: 'logout',
    build: 'sso',
    store,
    filler: n,
    execArgv: n >= 1e6 ? ['--max-old-space-size=4096'] : [],
  })
  return {
    id: `scale-${store}`,
    title: `Logout route, ${store === 'redis' ? 'Redis' : 'memory'} store holding ${SMALL} or ${LARGE} links`,
    ops: store === 'redis' ? 300 : 600,
    consumes: true,
    variants: [variant(SMALL_STORE), variant(LARGE_STORE)],
  }
}

/**
 * Each target: `ratio` = CPU per operation of `numerator` / `denominator` in the same round, so a
 * ratio of twin / sso-logout reads as sso-logout's throughput relative to its twin on a CPU-bound
 * server. `direction` and `threshold` say which side passes.
 */
export function targets() {
  const vsTwin = (scenario, label, twin = 'twin', sso = 'sso') => ({
    label,
    scenario,
    numerator: twin,
    denominator: sso,
    direction: '>=',
    threshold: 0.95,
    reads: 'CPU of the twin / CPU of sso-logout',
  })
  return [
    vsTwin('logout-memory', 'Logout route (memory) ≥ 0.95 × its twin'),
    vsTwin('logout-redis', 'Logout route (Redis) ≥ 0.95 × its twin'),
    vsTwin(
      'guard',
      'Guarded route (memory) ≥ 0.95 × a route verifying the token itself',
      'twin-memory',
      'sso-memory',
    ),
    vsTwin(
      'guard',
      'Guarded route (Redis) ≥ 0.95 × a route verifying the token itself',
      'twin-redis',
      'sso-redis',
    ),
    {
      label: 'Guard on Redis within 5 % of guard on memory (steady state)',
      scenario: 'guard',
      numerator: 'sso-redis',
      denominator: 'sso-memory',
      direction: '<=',
      threshold: 1.05,
      reads: 'CPU of guard on Redis / CPU of guard on memory',
    },
    vsTwin('backchannel-memory', 'Back-channel token (memory) ≥ 0.95 × its twin'),
    vsTwin('backchannel-redis', 'Back-channel token (Redis) ≥ 0.95 × its twin'),
    ...['memory', 'redis'].map((store) => ({
      label: `${LARGE} links within 1.05 × of ${SMALL} (CPU), ${store === 'redis' ? 'Redis' : 'memory'} store`,
      scenario: `scale-${store}`,
      numerator: LARGE,
      denominator: SMALL,
      direction: '<=',
      threshold: 1.05,
      reads: `CPU at ${LARGE} / CPU at ${SMALL}`,
    })),
  ]
}

/** Ratios printed without a verdict: the issue sets no target for them. */
export function observations() {
  return [
    {
      label: 'Link at login (memory): twin / sso-logout',
      scenario: 'link-memory',
      numerator: 'twin',
      denominator: 'sso',
    },
    {
      label: 'Link at login (Redis): twin / sso-logout',
      scenario: 'link-redis',
      numerator: 'twin',
      denominator: 'sso',
    },
  ]
}
