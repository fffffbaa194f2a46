import type { ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { exited, findRedisServer, launch, launchOnFreePort } from './redis-server.js'
import { sleep } from './sleep.js'

const run = promisify(execFile)

/** One master of a {@link RedisCluster}: its own `redis-server` process, data directory and nodes file. */
export interface ClusterNode {
  readonly port: number
  /** Kills the process at once (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  kill(): Promise<void>
  /** Starts it again on the same port with the same nodes file (and its AOF, when it keeps one). */
  start(): Promise<void>
}

/** Three `redis-server --cluster-enabled yes` masters, no replicas, started and joined by one test file. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[]
  /** Resolves once every running node reports `cluster_state:ok`. */
  whenOk(): Promise<void>
  /** Sends one command to one node with redis-cli and resolves with its output. */
  cli(port: number, ...args: string[]): Promise<string>
  stop(): Promise<void>
}

/** `redis-cli` next to `redis-server` (both come with the redis-server package). */
function redisCli(): string {
  const server = findRedisServer()
  if (server === undefined) throw new Error('redis-server is not on PATH')
  return join(server, '..', 'redis-cli')
}

/**
 * Starts three empty masters on free ports, joins them with `redis-cli --cluster create`, and waits
 * for `cluster_state:ok` on every node. `durable` lists the node indexes that keep an append-only
 * file synced on every write (`--appendfsync always`), so their data survives {@link ClusterNode.kill}.
 */
export async function startRedisCluster(durable: readonly number[] = []): Promise<RedisCluster> {
  const binary = findRedisServer()
  if (binary === undefined) throw new Error('redis-server is not on PATH')
  const cli = redisCli()
  const root = mkdtempSync(join(tmpdir(), 'sso-logout-cluster-'))
  const nodes: Array<ClusterNode & { running(): boolean }> = []
  // A node also listens on its port + 10000 (the cluster bus): see launchOnFreePort.
  const startNode = (i: number) =>
    launchOnFreePort(async (port) => {
      const dir = mkdtempSync(join(root, `node-${i}-`))
      const extra = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        ...(durable.includes(i) ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []),
      ]
      return { port, dir, extra, child: await launch(binary, port, extra, dir) }
    })
  for (let i = 0; i < 3; i++) {
    const started = await startNode(i)
    const { port, dir, extra } = started
    let child: ChildProcess | undefined = started.child
    nodes.push({
      port,
      running: () => child !== undefined,
      async kill() {
        if (!child) return
        const running = child
        child = undefined
        running.kill('SIGKILL')
        await exited(running)
      },
      async start() {
        if (!child) child = await launch(binary, port, extra, dir)
      },
    })
  }
  const cluster: RedisCluster = {
    nodes,
    async cli(port, ...args) {
      return (await run(cli, ['-p', String(port), ...args])).stdout
    },
    async whenOk() {
      const deadline = Date.now() + 30_000
      for (;;) {
        const states = await Promise.all(
          nodes.filter((node) => node.running()).map((node) => cluster.cli(node.port, 'CLUSTER', 'INFO')),
        )
        if (states.every((info) => info.includes('cluster_state:ok'))) return
        if (Date.now() > deadline) throw new Error(`the cluster did not become ok: ${states.join('\n')}`)
        // Nodes gossip on their own schedule; only asking tells when they agree.
        await sleep(50)
      }
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()))
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    await cluster.whenOk()
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

/**
 * A node-redis cluster client that fails fast while a master is down, as redisStore's TSDoc
 * recommends: a command for a dead master is refused at once (`disableOfflineQueue`). `timeout`
 * bounds a reply from a stuck one; no cluster test makes a master stuck, so it is long enough that
 * a loaded machine never trips it (a cut connection refuses commands until it is back).
 * `socketTimeout` is an idle timeout in node-redis, so without `pingInterval` below it every
 * node's connection is cut after that long of quiet.
 */
export async function nodeRedisCluster(
  cluster: RedisCluster,
  timeout = 5000,
): Promise<ReturnType<typeof createCluster>> {
  const client = createCluster({
    rootNodes: cluster.nodes.map((node) => ({ url: `redis://127.0.0.1:${node.port}` })),
    commandOptions: { timeout },
    defaults: {
      disableOfflineQueue: true,
      pingInterval: Math.ceil(timeout / 2),
      socket: {
        connectTimeout: timeout,
        socketTimeout: timeout,
        reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 200),
      },
    },
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/** The ioredis equivalent of {@link nodeRedisCluster}. */
export async function ioredisCluster(cluster: RedisCluster, timeout = 5000): Promise<Cluster> {
  const client = new Cluster(
    cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: (times: number) => Math.min(50 * times, 200),
      redisOptions: {
        commandTimeout: timeout,
        connectTimeout: timeout,
        maxRetriesPerRequest: 1,
      },
    },
  )
  client.on('error', () => undefined)
  await client.connect()
  return client
}
