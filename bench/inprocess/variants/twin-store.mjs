// The twins' index, revocation list and replay cache, written for the one job they serve and no
// more: one issuer (jose has already checked `iss`, so keys carry no issuer), one index per claim
// (sid, sub) of { session id, link time }, revocation times, and logout-token ids. The memory one
// keeps records forever (a production version needs expiry; the measured operations would not
// change). The Redis one is one script call per operation, every key with a TTL.
import { createHash } from 'node:crypto'

export function twinMemoryStore() {
  const bySid = new Map()
  const bySub = new Map()
  const revokedSid = new Map()
  const revokedSub = new Map()
  const jtis = new Set()
  const add = (index, key, entry) => {
    const list = index.get(key)
    if (list) list.push(entry)
    else index.set(key, [entry])
  }
  const raise = (map, key, at) => {
    if (key !== undefined && !(map.get(key) >= at)) map.set(key, at)
  }
  return {
    link({ sid, sub, sessionId, at }) {
      const entry = { sessionId, at }
      if (sid !== undefined) add(bySid, sid, entry)
      if (sub !== undefined) add(bySub, sub, entry)
    },
    /** Records the revocation of `sid` (else `sub`) and takes its sessions linked at or before `before`. */
    end({ sid, sub }, at, before) {
      const [index, key] = sid !== undefined ? [bySid, sid] : [bySub, sub]
      raise(sid !== undefined ? revokedSid : revokedSub, key, at)
      const list = index.get(key)
      if (list === undefined) return []
      const taken = []
      const kept = []
      for (const entry of list) {
        if (entry.at <= before) taken.push(entry.sessionId)
        else kept.push(entry)
      }
      if (kept.length > 0) index.set(key, kept)
      else index.delete(key)
      return taken
    },
    revoke({ sid, sub }, at) {
      raise(revokedSid, sid, at)
      raise(revokedSub, sub, at)
    },
    revokedAt({ sid, sub }) {
      const a = sid === undefined ? undefined : revokedSid.get(sid)
      const b = sub === undefined ? undefined : revokedSub.get(sub)
      return a === undefined ? b : b === undefined ? a : Math.max(a, b)
    },
    claimJti(jti) {
      if (jtis.has(jti)) return false
      jtis.add(jti)
      return true
    },
  }
}

/** KEYS: the sid index, the sub index. ARGV: link time, session id, TTL in seconds. */
const LINK = `
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[i], ARGV[3])
end
return 1
`

/**
 * KEYS: revocation, index, and (back-channel) the logout token's id. ARGV: revocation time, TTL,
 * linked-before time, token-id TTL. Answers nil when the token id was already claimed, else the
 * session ids taken.
 */
const END = `
if KEYS[3] and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[4]) then return false end
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > old then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if #ids > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3]) end
return ids
`

const sha = (source) => createHash('sha1').update(source).digest('hex')

export async function twinRedisStore(client, prefix, ttl) {
  const linkSha = sha(LINK)
  const endSha = sha(END)
  for (const source of [LINK, END]) await client.sendCommand(['SCRIPT', 'LOAD', source])
  const ttlText = String(ttl)
  const index = (kind, value) => `${prefix}${kind}:${value}`
  return {
    link({ sid, sub, sessionId, at }) {
      const keys = []
      if (sid !== undefined) keys.push(index('sid', sid))
      if (sub !== undefined) keys.push(index('sub', sub))
      return client.sendCommand([
        'EVALSHA',
        linkSha,
        String(keys.length),
        ...keys,
        String(at),
        sessionId,
        ttlText,
      ])
    },
    end({ sid, sub }, at, before, jti, jtiTtl) {
      const [kind, value] = sid !== undefined ? ['sid', sid] : ['sub', sub]
      const keys = [index(`r${kind}`, value), index(kind, value)]
      if (jti !== undefined) keys.push(index('jti', jti))
      const args = [String(at), ttlText, String(before), String(jtiTtl ?? 0)]
      return client.sendCommand(['EVALSHA', endSha, String(keys.length), ...keys, ...args])
    },
    async revoke({ sid, sub }, at) {
      for (const [kind, value] of [
        ['rsid', sid],
        ['rsub', sub],
      ]) {
        if (value !== undefined)
          await client.sendCommand(['SET', index(kind, value), String(at), 'EX', ttlText])
      }
    },
    async revokedAt({ sid, sub }) {
      const [a, b] = await client.sendCommand(['MGET', index('rsid', sid ?? ''), index('rsub', sub ?? '')])
      const times = [a, b].filter((t) => t !== null).map(Number)
      return times.length === 0 ? undefined : Math.max(...times)
    },
  }
}
