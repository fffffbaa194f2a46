// Preloads the Redis scaling runs fast: one Lua loop per batch writes linked sessions in the Redis
// store's key layout (read in lib/stores/redis/keys.ts and scripts.ts: a MessagePack link record
// per session, a sorted set per sid and per sub index, named by a tag of issuer and value and scored by the
// link's expiry in seconds). Linking a million sessions one script call
// at a time takes minutes; this takes seconds. The loop reaches keys it does not declare, which only
// a standalone Redis allows (the benchmarks run one). Because the layout is copied here, the result
// is checked through the store's public API: a few of the filler sids must be found by `take()`.
import { createHash } from 'node:crypto'
import { ISSUER, TOKEN_LIFETIME } from './config.mjs'

const FILL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(ARGV[8])
local score = math.ceil(expires / 1000)
local prefix, tag = ARGV[1], ARGV[2]
local from = tonumber(ARGV[5])
for i = from, tonumber(ARGV[6]) do
  local id = 'fill-sess-' .. ARGV[4] .. '-' .. i
  local sid = 'fill-' .. ARGV[4] .. '-' .. i
  local sub = 'fill-user-' .. i
  local tags = 9 + 2 * (i - from)
  redis.call('SET', prefix .. '{s' .. id .. '}l', cmsgpack.pack({ tonumber(ARGV[7]), tag, sid, sub }), 'PXAT', string.format('%d', expires))
  for _, index in ipairs({ prefix .. '{' .. ARGV[tags] .. '}i', prefix .. '{' .. ARGV[tags + 1] .. '}i' }) do
    redis.call('ZADD', index, score, id)
    redis.call('PEXPIREAT', index, string.format('%d', score * 1000))
  end
end
return 1
`
const BATCH = 20_000

/** The store's tags: issuerTag() and indexTag() in lib/stores/redis/keys.ts. */
const tagOf = (value) => createHash('sha256').update(value).digest('base64url').slice(0, 12)

/**
 * Writes `count` linked sessions under `prefix`, then checks that the store finds some of them.
 * Each batch is one script, during which Redis answers nobody else: a caller sharing the server
 * with other clients passes a smaller `batch`.
 */
export async function fillRedis(client, store, prefix, count, tag, batch = BATCH) {
  const issuer = tagOf(ISSUER)
  const at = String(Date.now())
  for (let from = 0; from < count; from += batch) {
    const to = Math.min(count, from + batch) - 1
    const args = [prefix, issuer, '', tag, String(from), String(to), at, String(TOKEN_LIFETIME * 1000)]
    const tags = []
    for (let i = from; i <= to; i++)
      tags.push(tagOf(`${issuer}dfill-${tag}-${i}`), tagOf(`${issuer}ufill-user-${i}`))
    await client.eval(FILL, { keys: [], arguments: [...args, ...tags] })
  }
  for (const i of [0, Math.floor(count / 2), count - 1]) {
    const taken = await store.take({ iss: ISSUER, sid: `fill-${tag}-${i}`, linkedBefore: Date.now() })
    if (taken.length !== 1 || taken[0] !== `fill-sess-${tag}-${i}`) {
      throw new Error(
        `the Redis filler's key layout does not match redisStore (take() found ${JSON.stringify(taken)})`,
      )
    }
  }
}
