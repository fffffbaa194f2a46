/** The Lua scripts of the Redis store: each reads and writes only the keys it declares, all of one slot. */
import { createHash } from 'node:crypto'

/** A Lua script and its SHA1, so it can be sent with EVALSHA and re-sent with EVAL on NOSCRIPT. */
export interface RedisScript {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/*
 * Layout shared by the scripts (see keys.ts for the names and store.ts for the order of steps):
 * - a link record is a string, the MessagePack array [link time, issuer tag, sid or false, sub or
 *   false, owning service's tag or false], that expires with the link; its expiry time
 *   (PEXPIRETIME) is the link's expiry, E;
 * - an index is a sorted set of session ids scored by E in whole seconds, rounded up (S = ceil(E /
 *   1000)), so expired members are pruned by score and the key expires with its longest-lived
 *   member. Seconds fit the listpack's 32-bit integer (milliseconds take its 64-bit one), which
 *   keeps a one-member index with a 32-character session id in jemalloc's 48-byte class instead of
 *   its 64-byte one: 16 bytes per index.
 * Every script touches only the keys it declares, which a Redis Cluster requires, and all of them in
 * one slot: KEYS[1], and for a logout's take also the session's tombstone, whose hash tag is its
 * record's. Expiry uses the Redis server clock (TIME) of the link record's node, so hosts
 * with skewed clocks agree on it.
 */
const PRELUDE = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n)
  return string.format('%.0f', n)
end
local function refresh(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', index, ms(math.ceil(tonumber(last[2])) * 1000))
  else
    redis.call('DEL', index)
  end
end
local function record(key)
  local value = redis.call('GET', key)
  if not value then return nil end
  local fields = cmsgpack.unpack(value)
  return fields, redis.call('PEXPIRETIME', key)
end
`

/*
 * The writes of the keys a local view mirrors (revocations, tombstones) publish their change on the
 * store's channel from inside the script that writes them: one command instead of two, and no
 * window in which a key is written but not yet announced, so a view that read the key as absent is
 * always told. The publish comes first: when Redis refuses it (an ACL without the channel), the
 * script fails before it writes anything, and the caller fails with it. A plain PUBLISH carries no
 * key, so a Redis Cluster allows it in a script of any slot, and delivers it to the subscribers of
 * every node.
 */
const ANNOUNCE = `
local function announce(channel, change)
  redis.call('PUBLISH', channel, change)
end
`

/**
 * A logged-out session's tombstone, announced as it is written (see ANNOUNCE): `bury` writes it on
 * its own, and a logout's take in the script that takes the session's record.
 */
const TOMBSTONE = `${ANNOUNCE}
local function bury(key, ttl, channel, change)
  announce(channel, change)
  redis.call('SET', key, '1', 'PX', ttl)
end
`

/**
 * KEYS: the link record. ARGV: link time, ttl ms, issuer tag, sid or '', sub or '' (ARGV[6] says
 * which are present: 'd', 'u', 'du'), the owning service's tag or ''. Writes the record, or deletes it when ttl <= 0, and returns
 * { E (0 when deleted), old tag, old sid, old sub, old E } with false where there is no old link.
 * E falls in another second than the old link's E (a session linked again within the second its
 * old link would end lives up to a second longer), so their scores S differ, and a step that removes an
 * index member only while its score is the old S never removes the new link's member.
 */
const SET_LINK = `
local old, oldE = record(KEYS[1])
local E = 0
if tonumber(ARGV[2]) > 0 then
  E = clock() + tonumber(ARGV[2])
  if oldE and math.ceil(oldE / 1000) == math.ceil(E / 1000) then E = math.ceil(E / 1000) * 1000 + 1 end
  local sid, sub = false, false
  if string.find(ARGV[6], 'd', 1, true) then sid = ARGV[4] end
  if string.find(ARGV[6], 'u', 1, true) then sub = ARGV[5] end
  local service = false
  if ARGV[7] ~= '' then service = ARGV[7] end
  redis.call('SET', KEYS[1], cmsgpack.pack({ tonumber(ARGV[1]), ARGV[3], sid, sub, service }), 'PXAT', ms(E))
else
  redis.call('DEL', KEYS[1])
end
if not old then return { ms(E), false, false, false, false } end
return { ms(E), old[2], old[3], old[4], ms(oldE) }
`

/** KEYS: the link record. Its { link time, tag, sid, sub, service tag } (false where absent), or nil. */
const READ_LINK = `
local fields = record(KEYS[1])
if not fields then return nil end
return { string.format('%.17g', fields[1]), fields[2], fields[3], fields[4], fields[5] or false }
`

/** KEYS: the link record. Deletes it and returns { tag, sid, sub, E } of the link, or nil. */
const DELETE_LINK = `
local old, oldE = record(KEYS[1])
if not old then return nil end
redis.call('DEL', KEYS[1])
return { old[2], old[3], old[4], ms(oldE) }
`

/**
 * KEYS: the link record of one index member, and its tombstone (the same hash tag). ARGV: issuer
 * tag, 'd' or 'u' (the index taken), its sid or sub, linkedBefore, the taking service's tag (''
 * takes every service's session), and to bury what it takes: the tombstone's ttl ms, the changes
 * channel and the change (or nothing). The record decides: 0 when there is none (the member is an
 * orphan), 1 when it names another sid or sub (a stale member of a session linked again since), 2
 * when the link is later than linkedBefore (it survives), { 4, its service's tag } when another
 * service owns it (it stays, until it has been handed over and is taken with '' as the taker), or
 * { 3, the other index's value or false, E } after deleting the record (and writing the tombstone):
 * the session is taken, by this call and no other, and is buried in the same step.
 */
const TAKE_LINK = `${TOMBSTONE}
local fields, E = record(KEYS[1])
if not fields then return 0 end
local sid, sub = fields[3], fields[4]
local mine, other = sid, sub
if ARGV[2] == 'u' then mine, other = sub, sid end
if fields[2] ~= ARGV[1] or mine ~= ARGV[3] then return 1 end
if tonumber(fields[1]) > tonumber(ARGV[4]) then return 2 end
local owner = fields[5]
if ARGV[5] ~= '' and owner and owner ~= ARGV[5] then return { 4, owner } end
if ARGV[6] then bury(KEYS[2], ARGV[6], ARGV[7], ARGV[8]) end
redis.call('DEL', KEYS[1])
return { 3, other, ms(E) }
`

/**
 * KEYS: one index. ARGV: session id, S. Adds or moves the member, prunes expired ones (S * 1000 <=
 * now). A leftover member of an earlier link that has this very score by chance gets S + 0.5
 * instead, so a cleanup that still holds the old score cannot remove the new link's member.
 */
const INDEX_ADD = `
local now = clock()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.3f', now / 1000))
local score = ARGV[2]
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current and tonumber(current) == tonumber(score) then score = tonumber(score) + 0.5 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
refresh(KEYS[1])
return 1
`

/** KEYS: one index. Prunes expired members and returns the others, with their scores. */
const INDEX_READ = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.3f', clock() / 1000))
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #members == 0 then redis.call('DEL', KEYS[1]) end
return members
`

/**
 * KEYS: one index. ARGV: pairs of session id and score. Removes each member only while it still
 * has that score: a member a newer link wrote since (with another S) stays.
 */
const INDEX_REMOVE = `
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
refresh(KEYS[1])
return 1
`

/**
 * KEYS: one revocation record. ARGV: revocation time, ttl ms, the changes channel, the change.
 * The later time and the longer life win. The change is published in the same step as the write
 * (see ANNOUNCE), so no instance can read the new time before the announcement is out.
 */
const REVOKE = `${ANNOUNCE}
announce(ARGV[3], ARGV[4])
local at = ARGV[1]
local previous = redis.call('GET', KEYS[1])
if previous and tonumber(previous) > tonumber(at) then at = previous end
local ttl = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1]))
if ttl > 0 then redis.call('SET', KEYS[1], at, 'PX', ms(ttl)) end
return 1
`

/** KEYS: one record. Its value, or nil. */
const GET = `
return redis.call('GET', KEYS[1])
`

/** KEYS: one logout-token id record. ARGV: ttl ms. 1 for the first claimer, 0 for every later one. */
const CLAIM_JTI = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`

/** KEYS: one pending record. ARGV: value, ttl ms. */
const PUT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

/** KEYS: one tombstone. ARGV: ttl ms, the changes channel, the change (see TOMBSTONE). */
const BURY = `${TOMBSTONE}
bury(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1
`

/** KEYS: one tombstone. */
const EXISTS = `
return redis.call('EXISTS', KEYS[1])
`

/** KEYS: one pending record. Its value, deleted in the same step, or nil. */
const TAKE_PENDING = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`

const DELETE = `
redis.call('DEL', KEYS[1])
return 1
`

/** KEYS: one revocation or tombstone. Its value and remaining life (PTTL) in one step: what a local view keeps of it. */
const LOAD = `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`

/*
 * A service's hand-over stream: one entry per logout elsewhere, { a = logout time, i = JSON array
 * of session ids }, read by the consumer group 'owners' that the service's instances join. The
 * group starts at 0, whoever creates it (a logout before the service ever ran, or the service's
 * first instance), so a service catches up on every entry the stream still holds.
 */
const ENSURE_GROUP = `
local function ensure_group(key, group, ttl)
  if redis.call('EXISTS', key) == 0 then
    redis.call('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM')
    redis.call('PEXPIRE', key, ttl)
    return
  end
  pcall(redis.call, 'XGROUP', 'CREATE', key, group, '0')
end
`

/**
 * KEYS: a service's stream. ARGV: group, logout time, JSON ids, ttl ms (retention), the changes
 * channel, the wake-up notice. Appends one entry, drops entries older than the retention (their
 * links have expired anyway), keeps the stream alive for the retention, and wakes the service's
 * receivers. The entry is durable once appended: a wake-up Redis refuses is ignored (pcall), and
 * only costs the receivers one poll interval. Returns the entry id.
 */
const HAND_OVER = `${ENSURE_GROUP}
ensure_group(KEYS[1], ARGV[1], ARGV[4])
local oldest = clock() - tonumber(ARGV[4])
local id = redis.call('XADD', KEYS[1], 'MINID', '~', ms(math.max(oldest, 0)), '*', 'a', ARGV[2], 'i', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
redis.pcall('PUBLISH', ARGV[5], ARGV[6])
return id
`

/**
 * KEYS: a service's stream. ARGV: group, consumer, claim-after ms, count, ttl ms, '1' to also
 * forget consumers idle for a day with nothing pending (instances that are gone). Claims entries
 * another consumer has held for claim-after ms without acknowledging them (an instance that died
 * mid-batch, or a delivery that failed), then reads new ones: { claimed, new }, each a list of
 * { id, { field, value, ... } }.
 */
const RECEIVE = `${ENSURE_GROUP}
ensure_group(KEYS[1], ARGV[1], ARGV[5])
if ARGV[6] == '1' then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
    local info = {}
    for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
    if info['pending'] == 0 and info['idle'] > 86400000 and info['name'] ~= ARGV[2] then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    end
  end
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')
local entries = {}
if fresh and fresh[1] then entries = fresh[1][2] end
return { claimed[2], entries }
`

/** KEYS: a service's stream. ARGV: group, entry ids. Acknowledges and deletes the entries done. */
const ACK = `
local group = ARGV[1]
for i = 2, #ARGV do
  redis.call('XACK', KEYS[1], group, ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
end
return 1
`

/**
 * KEYS: a service's registry, a hash of each description seen receiving and when (server ms).
 * ARGV: this instance's description, window ms. Records this one and returns every other
 * description seen within the window: two apps receiving under one service name.
 */
const REGISTER = `
local now = clock()
redis.call('HSET', KEYS[1], ARGV[1], ms(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
local others = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    if tonumber(all[i + 1]) > now - tonumber(ARGV[2]) then table.insert(others, all[i])
    else redis.call('HDEL', KEYS[1], all[i]) end
  end
end
return others
`

function script(name: string, body: string): RedisScript {
  const source = `${PRELUDE}${body}`
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/** The scripts, named after the store operation (or the step of one) that runs each. */
export const scripts = {
  setLink: script('link', SET_LINK),
  deleteLink: script('unlink', DELETE_LINK),
  readLink: script('linkOf', READ_LINK),
  takeLink: script('take', TAKE_LINK),
  indexAdd: script('link', INDEX_ADD),
  indexRead: script('take', INDEX_READ),
  indexRemove: script('index cleanup', INDEX_REMOVE),
  revoke: script('revoke', REVOKE),
  revokedAt: script('revokedAt', GET),
  bury: script('bury', BURY),
  isBuried: script('isBuried', EXISTS),
  claimJti: script('claimJti', CLAIM_JTI),
  putPending: script('putPending', PUT),
  takePending: script('takePending', TAKE_PENDING),
  releaseJti: script('releaseJti', DELETE),
  viewLoad: script('localView.load', LOAD),
  handOver: script('take (hand-over)', HAND_OVER),
  receive: script('receive', RECEIVE),
  ack: script('receive (ack)', ACK),
  register: script('receive (register)', REGISTER),
} as const
