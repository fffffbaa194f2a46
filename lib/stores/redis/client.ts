/** The Redis clients the store accepts (node-redis v5 and ioredis, each standalone or cluster), and script calls. */
import { optionError } from '../../options/check.js'
import type { RedisScript } from './scripts.js'

/**
 * Sends one command, its name first (`['INFO', 'memory']`), and resolves with the raw reply. `key`
 * is the key the command touches: a cluster client sends the command to the master of its slot.
 */
export type CommandSender = (args: readonly string[], key?: string) => Promise<unknown>

/**
 * Runs one script on its key in one round trip: EVALSHA, then EVAL when the server does not know it
 * yet. `sameSlot` are further keys the script declares, each with the first key's hash tag (a Redis
 * Cluster runs a script only when all its keys share one slot).
 */
export type ScriptRunner = (
  script: RedisScript,
  key: string,
  args: readonly string[],
  sameSlot?: readonly string[],
) => Promise<unknown>

/** What the store needs of a client: commands routed by key, and one sender per master for INFO. */
export interface RedisConnection {
  send: CommandSender
  /** `'standalone'` or `'cluster'`, for messages. */
  kind: 'standalone' | 'cluster'
  /** One sender per master (a single one for a standalone client), each with its address when known. */
  masters(): Promise<Master[]>
}

/** One master as the configuration check sees it. */
export interface Master {
  name: string
  send: CommandSender
  /** The node-redis client options of its connection (`client.options`); absent for ioredis. */
  nodeRedisOptions?: NodeRedisOptions
}

/** The node-redis v5 client options the configuration check reads. */
export interface NodeRedisOptions {
  pingInterval?: unknown
  socket?: { socketTimeout?: unknown }
}

/** The part of a node-redis v5 client (`createClient()` from `redis`) this store uses. */
interface NodeRedisShape {
  sendCommand(args: string[]): Promise<unknown>
  isOpen: boolean
  options?: NodeRedisOptions
}

/** The part of a node-redis v5 cluster (`createCluster()` from `redis`) this store uses. */
interface NodeRedisClusterShape {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  masters: ReadonlyArray<{ host?: string; port?: number }>
  nodeClient(node: unknown): Promise<NodeRedisShape> | NodeRedisShape
}

/** The part of an ioredis client (`new Redis()`) or cluster (`new Cluster()`) this store uses. */
interface IoredisShape {
  call(command: string, ...args: string[]): Promise<unknown>
  status: string
  isCluster?: boolean
  nodes?(role: 'master'): IoredisShape[]
  options?: { host?: string; port?: number }
}

function has(client: object, name: string, type: 'function' | 'boolean' | 'string' | 'object'): boolean {
  return typeof (client as Record<string, unknown>)[name] === type
}

/**
 * Recognises the client by its documented shape, never by its source text:
 * - node-redis v5 cluster (`createCluster()`): `getSlotMaster()`, `nodeClient()` and a `masters`
 *   array, with `sendCommand(firstKey, isReadonly, args)`, which routes by `firstKey`;
 * - node-redis v5 client: `sendCommand(args)` and a boolean `isOpen`;
 * - ioredis (`new Redis()` and `new Cluster()`): `call(command, ...args)` and a string `status`;
 *   `isCluster` is `true` on a `Cluster`, which routes each command by its first key itself.
 */
export function connect(client: unknown): RedisConnection {
  if (typeof client !== 'object' || client === null) {
    throw optionError('"options.client" must be a node-redis v5 or ioredis client')
  }
  if (has(client, 'getSlotMaster', 'function')) {
    if (!has(client, 'sendCommand', 'function') || !has(client, 'nodeClient', 'function')) {
      throw optionError(
        '"options.client" looks like a node-redis cluster but has no sendCommand() or nodeClient()',
      )
    }
    return nodeRedisCluster(client as NodeRedisClusterShape)
  }
  if (has(client, 'sendCommand', 'function') && has(client, 'isOpen', 'boolean')) {
    const redis = client as NodeRedisShape
    const send = nodeRedisSender(redis)
    return {
      send,
      kind: 'standalone',
      masters: async () => [{ name: 'Redis', send, nodeRedisOptions: redis.options }],
    }
  }
  if (has(client, 'call', 'function') && has(client, 'status', 'string')) {
    const redis = client as IoredisShape
    if (redis.isCluster === true) return ioredisCluster(redis)
    const send = ioredisSender(redis)
    return { send, kind: 'standalone', masters: async () => [{ name: 'Redis', send }] }
  }
  throw optionError(
    '"options.client" must be a node-redis v5 client or cluster (with sendCommand()) or an ioredis client or cluster (with call() and status)',
  )
}

// `async`, so a client that throws instead of rejecting still only rejects; a copy, because
// `sendCommand` is typed to take (and may keep) a mutable array.
function nodeRedisSender(redis: NodeRedisShape): CommandSender {
  return async (args) => redis.sendCommand([...args])
}

function ioredisSender(redis: IoredisShape): CommandSender {
  return async ([command, ...args]) => redis.call(command!, ...args)
}

function nodeRedisCluster(cluster: NodeRedisClusterShape): RedisConnection {
  return {
    // Scripts only read or write their key, but EVALSHA is not a read-only command to node-redis.
    send: async (args, key) => cluster.sendCommand(key, false, [...args]),
    kind: 'cluster',
    async masters() {
      return Promise.all(
        cluster.masters.map(async (node) => {
          const client = await cluster.nodeClient(node)
          return {
            name: `Redis master ${node.host ?? '?'}:${node.port ?? '?'}`,
            send: nodeRedisSender(client),
            nodeRedisOptions: client.options,
          }
        }),
      )
    },
  }
}

function ioredisCluster(cluster: IoredisShape): RedisConnection {
  return {
    send: ioredisSender(cluster),
    kind: 'cluster',
    async masters() {
      const nodes = cluster.nodes?.('master') ?? []
      return nodes.map((node) => ({
        name: `Redis master ${node.options?.host ?? '?'}:${node.options?.port ?? '?'}`,
        send: ioredisSender(node),
      }))
    },
  }
}

/** Scripts go through the same {@link CommandSender} as plain commands, routed by their first key. */
export function scriptRunner(send: CommandSender): ScriptRunner {
  return async function runScript(script, key, args, sameSlot = []) {
    const tail = [String(1 + sameSlot.length), key, ...sameSlot, ...args]
    try {
      return await send(['EVALSHA', script.sha, ...tail], key)
    } catch (error) {
      // Script caches are empty after a restart or failover, and SCRIPT FLUSH empties them too.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await send(['EVAL', script.source, ...tail], key)
    }
  }
}
