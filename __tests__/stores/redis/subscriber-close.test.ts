import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { startRedisCluster } from '../../support/redis-cluster.js'
import type { RedisCluster } from '../../support/redis-cluster.js'
import { describeRedis, useRedisClient } from '../../support/redis-server.js'

/**
 * A store closed while its subscriber is still connecting must not keep the process alive: node-redis
 * v5 keeps a socket it was still opening when destroy() ran, so the subscriber is destroyed once
 * the attempt ends. Each case runs in a process of its own (support/close-store.mjs, on the built
 * package) and passes when that process exits by itself; a leaked socket keeps it running until
 * the test's timeout fails it.
 */
const SCRIPT = join(__dirname, '..', '..', 'support', 'close-store.mjs')

/** Children still running when their test ended (it timed out): killed, so nothing outlives the file. */
const running = new Set<ChildProcess>()
afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})

async function exitsByItself(config: { kind: 'client' | 'cluster'; urls: string[] }): Promise<void> {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  running.delete(child)
  expect({ code, out }).toEqual({ code: 0, out: 'closed\n' })
}

describeRedis('a Redis store closed while its subscriber connects', () => {
  const redis = useRedisClient()

  it('lets the process end: node-redis client', async () => {
    await exitsByItself({ kind: 'client', urls: [redis.server.url] })
  }, 15_000)

  describe('on a Redis Cluster', () => {
    let cluster: RedisCluster
    beforeAll(async () => {
      cluster = await startRedisCluster()
    }, 60_000)
    afterAll(async () => {
      await cluster?.stop()
    })

    it('lets the process end: node-redis createCluster()', async () => {
      await exitsByItself({ kind: 'cluster', urls: cluster.nodes.map((n) => `redis://127.0.0.1:${n.port}`) })
    }, 15_000)
  })
})
