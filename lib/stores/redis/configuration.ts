/** The Redis store's start-up check: a `maxmemory-policy` under which Redis could evict a revocation. */
import type { CommandSender } from './client.js'

/**
 * Every key this store writes has a TTL, so under a `volatile-*` policy Redis may evict a
 * revocation once memory reaches `maxmemory`, and under an `allkeys-*` policy any key: the
 * logged-out tokens of that `sid` then pass `guard` again. With `noeviction` a full Redis refuses
 * writes instead, which the store reports as `ERR_STORE`, so logout and guard fail loudly.
 *
 * The policy is read from `INFO memory` (`maxmemory_policy`) rather than `CONFIG GET`, which
 * managed Redis services commonly disable; a policy that cannot be read is reported too.
 */
export async function checkEvictionPolicy(send: CommandSender): Promise<string[]> {
  const advice = 'set "maxmemory-policy noeviction" so that revocations are never evicted before their TTL'
  let reply: unknown
  try {
    reply = await send(['INFO', 'memory'])
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return [
      `Redis store: could not read the Redis eviction policy (INFO memory failed: ${reason}); ${advice}.`,
    ]
  }
  const policy = infoField(reply, 'maxmemory_policy')
  if (policy === undefined) {
    return [`Redis store: INFO memory did not name the Redis eviction policy (maxmemory_policy); ${advice}.`]
  }
  if (policy === 'noeviction') return []
  return [
    `Redis store: Redis runs with maxmemory-policy "${policy}", which lets it evict sso-logout's keys (revocations included) when memory is full; ${advice}.`,
  ]
}

/** The value of one `name:value` line of an INFO reply, or `undefined`. */
function infoField(reply: unknown, name: string): string | undefined {
  // A string in RESP2; node-redis hands a RESP3 verbatim string over as a `String` object.
  if (typeof reply !== 'string' && !(reply instanceof String)) return undefined
  for (const line of reply.valueOf().split(/\r?\n/)) {
    if (line.startsWith(`${name}:`)) return line.slice(name.length + 1).trim()
  }
  return undefined
}
