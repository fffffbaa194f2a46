// Prepares, once per `npm run bench`, everything the servers and the load generator share: the
// signing keys, and per round a slice of fresh users, each with an RS256 access token carrying a
// `sid`, an express-session id and its signed cookie, an express-openid-connect session cookie,
// and a back-channel logout token. Files go to a temporary folder, read by the child processes.
import { createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import {
  BC_SLICE,
  CLIENT_ID,
  EOC_SECRET,
  ES_TOKENS,
  ISSUER,
  SESSION_SECRET,
  SLICE,
  TOKEN_LIFETIME,
} from './config.mjs'

/** express-session's cookie value: `s:` + id + `.` + HMAC-SHA256 in base64 without padding. */
export function signSessionCookie(sessionId) {
  const mac = createHmac('sha256', SESSION_SECRET).update(sessionId).digest('base64').replace(/=+$/, '')
  return encodeURIComponent(`s:${sessionId}.${mac}`)
}

/**
 * express-openid-connect v3 keeps its session in the `appSession` cookie: a compact JWE (`dir`,
 * `A256GCM`) under a key derived with HKDF-SHA256 from the secret (info "JWE CEK"), whose
 * protected header carries `iat`, `uat` and `exp` (facts read in its lib/crypto.js and
 * lib/appSession.js).
 */
const eocKey = new Uint8Array(hkdfSync('sha256', EOC_SECRET, Buffer.alloc(0), 'JWE CEK', 32))
function eocSessionCookie(idToken, sid) {
  const now = Math.floor(Date.now() / 1000)
  const session = { id_token: idToken, token_type: 'Bearer', sid }
  return new CompactEncrypt(Buffer.from(JSON.stringify(session)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', iat: now, uat: now, exp: now + TOKEN_LIFETIME })
    .encrypt(eocKey)
}

/** An access token of `user` (`{ sid, sub }`) as the benchmarks' IdP issues it, valid for TOKEN_LIFETIME. */
export function accessToken(key, alg, user) {
  return new SignJWT({ sid: user.sid, scope: 'openid profile' })
    .setProtectedHeader({ alg, kid: `bench-${alg}`, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject(user.sub)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_LIFETIME}s`)
    .sign(key)
}

function logoutToken(key, user) {
  return new SignJWT({ sid: user.sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-RS256', typ: 'logout+jwt' })
    .setIssuer(ISSUER)
    .setSubject(user.sub)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_LIFETIME}s`)
    .setJti(randomUUID())
    .sign(key)
}

async function publicJwk(publicKey, alg) {
  return { ...(await exportJWK(publicKey)), alg, kid: `bench-${alg}`, use: 'sig' }
}

/** Signs in batches so the libuv pool keeps both cores busy without a million pending promises. */
async function mapBatched(items, fn, batch = 512) {
  const out = []
  for (let i = 0; i < items.length; i += batch) {
    out.push(...(await Promise.all(items.slice(i, i + batch).map((item, j) => fn(item, i + j)))))
  }
  return out
}

async function makeSlice(keys, round) {
  // The users "logged in" before their tokens, and their logout tokens, were issued.
  const loginAt = Date.now() - 1000
  const users = Array.from({ length: SLICE }, (_, i) => {
    const tag = `${round}-${i}-${randomBytes(6).toString('hex')}`
    return { sub: `user-${tag}`, sid: `sid-${tag}`, sessionId: `sess-${tag}` }
  })
  const tokens = await mapBatched(users, (u) => accessToken(keys.rs.privateKey, 'RS256', u))
  const eocCookies = await mapBatched(users, (u, i) => eocSessionCookie(tokens[i], u.sid))
  const logoutTokens = await mapBatched(users.slice(0, BC_SLICE), (u) => logoutToken(keys.rs.privateKey, u))
  return {
    base: {
      subs: users.map((u) => u.sub),
      sids: users.map((u) => u.sid),
      sessionIds: users.map((u) => u.sessionId),
      cookies: users.map((u) => signSessionCookie(u.sessionId)),
      tokens,
      loginAt,
    },
    eoc: { eocCookies },
    bc: { logoutTokens },
  }
}

/**
 * Writes `keys.json` and, per round, `base-<round>.json` (users, session cookies, access tokens),
 * `eoc-<round>.json` and `bc-<round>.json` into a fresh temporary folder; returns its path.
 * Only public keys are written (servers verify, never sign); the private key is returned for the
 * propagation driver, which signs one token per trial.
 */
export async function prepareFixtures(rounds, log) {
  const dir = mkdtempSync(join(tmpdir(), 'sso-logout-bench-'))
  const rs = await generateKeyPair('RS256', { extractable: true })
  const es = await generateKeyPair('ES256', { extractable: true })
  const users = Array.from({ length: ES_TOKENS }, (_, i) => ({ sub: `es-user-${i}`, sid: `es-sid-${i}` }))
  const esTokens = await mapBatched(users, (u) => accessToken(es.privateKey, 'ES256', u))
  const keys = {
    rsPublic: await publicJwk(rs.publicKey, 'RS256'),
    esPublic: await publicJwk(es.publicKey, 'ES256'),
    rsPrivate: { ...(await exportJWK(rs.privateKey)), alg: 'RS256', kid: 'bench-RS256' },
    esTokens,
  }
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys))
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    const parts = await makeSlice({ rs }, round)
    for (const [part, data] of Object.entries(parts)) {
      writeFileSync(join(dir, `${part}-${round}.json`), JSON.stringify(data))
    }
    log(`fixtures: round ${round + 1}/${rounds} prepared in ${Math.round(performance.now() - started)} ms`)
  }
  return dir
}

export function readKeys(dir) {
  return JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8'))
}

/** Reads the named parts of one round's slice (each process reads only what it needs). */
export function readSlice(dir, round, parts = ['base']) {
  const slice = {}
  for (const part of parts)
    Object.assign(slice, JSON.parse(readFileSync(join(dir, `${part}-${round}.json`), 'utf8')))
  return slice
}
