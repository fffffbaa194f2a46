// `npm run example`: starts Demo ID (the OpenID Provider), Notes and Calendar, and prints their URLs.
// Ports come from OP_PORT, NOTES_PORT and CALENDAR_PORT; unset or 0 means any free port. With
// REDIS_URL set, the apps share a redisStore on that Redis instead of a memoryStore (see
// stores.mjs; `npm run example:redis` starts a throw-away redis-server for it). EXAMPLE_INSPECTOR=1
// adds the tests' read-only inspector (inspector.mjs).
import { createExample } from './example.mjs'

function port(name) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return 0
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`)
    process.exit(2)
  }
  return n
}

const redisUrl = process.env.REDIS_URL || undefined
if (redisUrl) console.log(`Connecting to Redis at ${redisUrl} ...`)
const example = await createExample({
  ports: { provider: port('OP_PORT'), notes: port('NOTES_PORT'), calendar: port('CALENDAR_PORT') },
  redisUrl,
  inspect: process.env.EXAMPLE_INSPECTOR === '1',
  onEvent: (name, detail) => {
    const text = Object.entries(detail)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    console.log(`[Demo ID] ${name}${text ? ` ${text}` : ''}`)
  },
})

const { provider, notes, calendar, inspector } = example.urls
console.log(`
sso-logout example is running (stop with Ctrl+C)

  Demo ID (OpenID Provider)  ${provider}/
  Notes                      ${notes}/
  Calendar                   ${calendar}/
${inspector ? `  Inspector (tests only)     ${inspector}/\n` : ''}
  Stores: ${example.mode}

1. Open Notes and click "Sign in" (demo user: demo@example.test, no password).
2. Open Calendar and click "Sign in": no form this time (single sign-on at Demo ID).
3. In Notes click "Log out", then reload Calendar: it is signed out too (back-channel logout).
`)

let stopping = false
async function stop(signal) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: shutting down`)
  await example.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
