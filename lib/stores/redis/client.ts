/** The Redis clients the store accepts (node-redis v5, ioredis), recognised by shape, and script calls. */
import { optionError } from '../../options/check.js'
import type { RedisScript } from './scripts.js'

/** Sends one command, its name first (`['INFO', 'memory']`), and resolves with the raw reply. */
export type CommandSender = (args: readonly string[]) => Promise<unknown>

/** Runs one script in one round trip: EVALSHA, then EVAL when the server does not know the script yet. */
export type ScriptRunner = (
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
) => Promise<unknown>

/** The part of a node-redis v5 client (`createClient()` from `redis`) this store uses. */
interface NodeRedisShape {
  sendCommand(args: string[]): Promise<unknown>
  isOpen: boolean
}

/** The part of an ioredis client (`new Redis()` or `new Cluster()`) this store uses. */
interface IoredisShape {
  call(command: string, ...args: string[]): Promise<unknown>
  status: string
}

function has(client: object, name: string, type: 'function' | 'boolean' | 'string'): boolean {
  return typeof (client as Record<string, unknown>)[name] === type
}

/**
 * Recognises the client by its documented shape, never by its source text:
 * - node-redis v5: `sendCommand(args: string[])` and a boolean `isOpen`. Its cluster client has
 *   the same two members but a different `sendCommand(firstKey, isReadonly, args)`, so it is told
 *   apart by `getSlotMaster()` and refused.
 * - ioredis: `call(command, ...args)` and a string `status` (both `Redis` and `Cluster`).
 */
export function commandSender(client: unknown): CommandSender {
  if (typeof client !== 'object' || client === null) {
    throw optionError('"options.client" must be a node-redis v5 or ioredis client')
  }
  if (has(client, 'sendCommand', 'function') && has(client, 'isOpen', 'boolean')) {
    if (has(client, 'getSlotMaster', 'function')) {
      throw optionError('"options.client" must be a standalone node-redis client, not a node-redis cluster')
    }
    const redis = client as NodeRedisShape
    // `async`, so a client that throws instead of rejecting still only rejects; a copy, because
    // `sendCommand` is typed to take (and may keep) a mutable array.
    return async (args) => redis.sendCommand([...args])
  }
  if (has(client, 'call', 'function') && has(client, 'status', 'string')) {
    const redis = client as IoredisShape
    return async ([command, ...args]) => redis.call(command!, ...args)
  }
  throw optionError(
    '"options.client" must be a node-redis v5 client (with sendCommand() and isOpen) or an ioredis client (with call() and status)',
  )
}

/** Scripts go through the same {@link commandSender} as plain commands. */
export function scriptRunner(send: CommandSender): ScriptRunner {
  return async function runScript(script, keys, args) {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await send(['EVALSHA', script.sha, ...tail])
    } catch (error) {
      // Script caches are empty after a restart or failover, and SCRIPT FLUSH empties them too.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await send(['EVAL', script.source, ...tail])
    }
  }
}
