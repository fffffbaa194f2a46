// Prepared once per run, shared by every variant process: an RS256 key pair and a list of users,
// each with an express-session id and its signed cookie, an access token carrying a `sid`, and a
// back-channel logout token with its own `jti`. Variants in different processes may use the same
// users: each process has its own stores (and each Redis variant its own key prefix).
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { CLIENT_ID, ISSUER, TOKEN_LIFETIME } from '../config.mjs'
import { signSessionCookie } from '../fixtures.mjs'

const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

function accessToken(key, user) {
  return new SignJWT({ sid: user.sid, scope: 'openid profile' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-RS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject(user.sub)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_LIFETIME}s`)
    .sign(key)
}

function logoutToken(key, user) {
  return new SignJWT({ sid: user.sid, events: { [BCL_EVENT]: {} } })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-RS256', typ: 'logout+jwt' })
    .setIssuer(ISSUER)
    .setSubject(user.sub)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_LIFETIME}s`)
    .setJti(randomUUID())
    .sign(key)
}

/** Signs in batches: enough in flight to keep the libuv pool busy on every core, no more. */
async function batched(count, fn, size = 256) {
  const out = []
  for (let i = 0; i < count; i += size) {
    const jobs = []
    for (let j = i; j < Math.min(count, i + size); j++) jobs.push(fn(j))
    out.push(...(await Promise.all(jobs)))
  }
  return out
}

/** Writes keys and `count` users to a fresh temporary folder and returns its path. */
export async function prepareUsers(count) {
  const dir = mkdtempSync(join(tmpdir(), 'sso-logout-inprocess-'))
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  // The users logged in before their tokens were issued: the back-channel receivers spare
  // sessions linked after a logout token's `iat` (the IdP may have reused the sid).
  const loginAt = Date.now() - 1000
  const users = await batched(count, async (i) => {
    const tag = `${i}-${randomBytes(6).toString('hex')}`
    const user = { sub: `user-${tag}`, sid: `sid-${tag}`, sessionId: `sess-${tag}` }
    const [token, logout] = await Promise.all([accessToken(privateKey, user), logoutToken(privateKey, user)])
    return { ...user, cookie: signSessionCookie(user.sessionId), token, logoutToken: logout }
  })
  const rsPublic = { ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'bench-RS256', use: 'sig' }
  writeFileSync(join(dir, 'fixtures.json'), JSON.stringify({ rsPublic, loginAt, users }))
  return dir
}

export function readUsers(dir) {
  return JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8'))
}
