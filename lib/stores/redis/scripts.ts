/** The Lua scripts of the Redis store: one per `Store` operation, each atomic on the server. */
import { createHash } from 'node:crypto'

/** A Lua script and its SHA1, so it can be sent with EVALSHA and re-sent with EVAL on NOSCRIPT. */
export interface RedisScript {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/*
 * Layout shared by every script (see redisStore's TSDoc for the key names):
 * - a session record is a hash { a = link time, d = its sid index key, u = its sub index key };
 * - an index is a sorted set of session ids scored by their expiry in server milliseconds, so
 *   expired members are pruned by score and the key expires with its longest-lived member.
 * Expiry uses the Redis server clock (TIME), so several hosts with skewed clocks agree on it.
 * Scripts reach a session's other index through the key stored in its record: that keeps every
 * operation one round trip whose cost depends on the sessions of one sid or sub only.
 */
const PRELUDE = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function refresh(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', index, string.format('%.0f', math.ceil(tonumber(last[2]))))
  else
    redis.call('DEL', index)
  end
end
local function unlink(session, member)
  local old = redis.call('HMGET', session, 'd', 'u')
  for i = 1, 2 do
    if old[i] then
      redis.call('ZREM', old[i], member)
      refresh(old[i])
    end
  end
  redis.call('DEL', session)
end
`

/** KEYS: session record, then one index per letter of ARGV[4]. ARGV: session id, link time, ttl ms, 'd'/'u' letters. */
const LINK = `
local now = clock()
unlink(KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[3])
if ttl <= 0 then return 0 end
local expires = string.format('%.0f', now + ttl)
redis.call('HSET', KEYS[1], 'a', ARGV[2])
for i = 1, #ARGV[4] do
  local index = KEYS[i + 1]
  redis.call('HSET', KEYS[1], string.sub(ARGV[4], i, i), index)
  redis.call('ZADD', index, expires, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  refresh(index)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

/** KEYS: one index. ARGV: session key prefix, linkedBefore, the record field naming this index ('d' or 'u'). */
const TAKE = `
local now = clock()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local before = tonumber(ARGV[2])
local taken = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local session = ARGV[1] .. member
  local record = redis.call('HMGET', session, 'a', ARGV[3])
  if not record[1] or record[2] ~= KEYS[1] then
    redis.call('ZREM', KEYS[1], member)
  elseif tonumber(record[1]) <= before then
    unlink(session, member)
    taken[#taken + 1] = member
  end
end
refresh(KEYS[1])
return taken
`

/** KEYS: one session record. ARGV: its session id. */
const UNLINK = `
unlink(KEYS[1], ARGV[1])
return 1
`

/** KEYS: revocation records. ARGV: revocation time, ttl ms. The later time and the longer life win. */
const REVOKE = `
for _, key in ipairs(KEYS) do
  local at = ARGV[1]
  local previous = redis.call('GET', key)
  if previous and tonumber(previous) > tonumber(at) then at = previous end
  local ttl = math.max(tonumber(ARGV[2]), redis.call('PTTL', key))
  if ttl > 0 then redis.call('SET', key, at, 'PX', string.format('%.0f', ttl)) end
end
return 1
`

/** KEYS: revocation records. */
const REVOKED_AT = `
return redis.call('MGET', unpack(KEYS))
`

/** KEYS: one logout-token id record. ARGV: ttl ms. 1 for the first claimer, 0 for every later one. */
const CLAIM_JTI = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`

/** KEYS: tombstones. ARGV: ttl ms. */
const BURY = `
for _, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'PX', ARGV[1])
end
return 1
`

/** KEYS: one tombstone. */
const IS_BURIED = `
return redis.call('EXISTS', KEYS[1])
`

/** KEYS: one pending record. ARGV: value, ttl ms. */
const PUT_PENDING = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

/** KEYS: one pending record. Its value, deleted in the same step, or nil. */
const TAKE_PENDING = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`

const RELEASE_JTI = `
redis.call('DEL', KEYS[1])
return 1
`

function script(name: string, body: string): RedisScript {
  const source = `${PRELUDE}${body}`
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/** The one script per store operation; each runs atomically on the server. */
export const scripts = {
  link: script('link', LINK),
  take: script('take', TAKE),
  unlink: script('unlink', UNLINK),
  revoke: script('revoke', REVOKE),
  revokedAt: script('revokedAt', REVOKED_AT),
  bury: script('bury', BURY),
  isBuried: script('isBuried', IS_BURIED),
  claimJti: script('claimJti', CLAIM_JTI),
  putPending: script('putPending', PUT_PENDING),
  takePending: script('takePending', TAKE_PENDING),
  releaseJti: script('releaseJti', RELEASE_JTI),
} as const
