/**
 * The Redis store's start-up check: a `maxmemory-policy` under which Redis could evict a
 * revocation, and node-redis settings that cut idle connections.
 */
import type { CommandSender, Master, NodeRedisOptions, RedisConnection } from './client.js'

/**
 * Every key this store writes has a TTL, so under a `volatile-*` policy Redis may evict a
 * revocation once memory reaches `maxmemory`, and under an `allkeys-*` policy any key: the
 * logged-out tokens of that `sid` then pass `guard` again. With `noeviction` a full Redis refuses
 * writes instead, which the store reports as `ERR_STORE`, so logout and guard fail loudly.
 *
 * The policy is read from `INFO memory` (`maxmemory_policy`) rather than `CONFIG GET`, which
 * managed Redis services commonly disable; a policy that cannot be read is reported too. On a Redis
 * Cluster every master holds a share of the records, so each master the client knows is asked,
 * and each problem names its master.
 */
export async function checkConfiguration(connection: RedisConnection): Promise<string[]> {
  let masters: Master[]
  try {
    masters = await connection.masters()
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return [
      `Redis store: could not reach the masters of the Redis Cluster (${reason}) to read their eviction policy.`,
    ]
  }
  if (masters.length === 0) {
    return ['Redis store: the Redis Cluster client knows no master yet, so no eviction policy could be read.']
  }
  const found = await Promise.all(
    masters.map(async ({ name, send, nodeRedisOptions }) => [
      ...(await checkEvictionPolicy(send, name)),
      ...checkIdleTimeout(nodeRedisOptions, name),
    ]),
  )
  return found.flat()
}

/**
 * node-redis' `socket.socketTimeout` is an idle timeout (the socket's own inactivity timer), so on
 * a quiet connection it fires although Redis is healthy: the connection is cut and reconnected, and
 * a logout or guard that reaches it in between fails with `ERR_STORE` (with `disableOfflineQueue`)
 * or waits. Pings more often than the timeout keep a healthy connection busy enough never to trip it.
 */
function checkIdleTimeout(options: NodeRedisOptions | undefined, name: string): string[] {
  const timeout = options?.socket?.socketTimeout
  if (typeof timeout !== 'number' || !(timeout > 0)) return []
  const ping = options?.pingInterval
  if (typeof ping === 'number' && ping > 0 && ping < timeout) return []
  return [
    `${storeLabel(name)}: the node-redis client sets socket.socketTimeout (${timeout} ms) without a pingInterval below it, so node-redis cuts every connection that is idle that long and a logout or guard that reaches it while it reconnects fails; set pingInterval below socketTimeout (for example ${Math.ceil(timeout / 2)}).`,
  ]
}

/** How a problem names its server: a standalone Redis plainly, a cluster master by its address. */
function storeLabel(name: string): string {
  return name === 'Redis' ? 'Redis store' : `Redis store (${name})`
}

/** The check of one server (a standalone Redis or one master of a cluster), named `name` in messages. */
async function checkEvictionPolicy(send: CommandSender, name: string): Promise<string[]> {
  const label = storeLabel(name)
  const advice = 'set "maxmemory-policy noeviction" so that revocations are never evicted before their TTL'
  let reply: unknown
  try {
    reply = await send(['INFO', 'memory'])
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return [`${label}: could not read the Redis eviction policy (INFO memory failed: ${reason}); ${advice}.`]
  }
  const policy = infoField(reply, 'maxmemory_policy')
  if (policy === undefined) {
    return [`${label}: INFO memory did not name the Redis eviction policy (maxmemory_policy); ${advice}.`]
  }
  if (policy === 'noeviction') return []
  return [
    `${label}: Redis runs with maxmemory-policy "${policy}", which lets it evict sso-logout's keys (revocations included) when memory is full; ${advice}.`,
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
