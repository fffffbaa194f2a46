import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { Redis } from 'ioredis'
import type { Cluster } from 'ioredis'
import { createClient } from 'redis'
import { sleep } from './sleep.js'

/** A `redis-server` child process owned by one test file. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the process (SIGTERM to its own PID) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>
}

const INSTALL = 'apt-get install -y redis-server'

/** The absolute path of `redis-server` on PATH, or `undefined`. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      continue
    }
  }
  return undefined
}

/**
 * `describe` for suites that need a real Redis. Without `redis-server` the suite is skipped with a
 * loud message, except under `CI=true` where a missing server must fail the run.
 */
export function describeRedis(name: string, body: () => void): void {
  if (findRedisServer() !== undefined) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs redis-server on PATH', () => {
        throw new Error(`redis-server is not on PATH and CI=true: run \`${INSTALL}\``)
      })
    })
    return
  }
  console.warn(
    `\n!!! SKIPPED "${name}": redis-server is not on PATH. Install it with \`${INSTALL}\` to run the Redis tests. !!!\n`,
  )
  describe.skip(name, body)
}

/** A port that was free a moment ago: bind port 0, read the port, close (redis has no `--port 0`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

/**
 * Starts `redis-server` on `port` (empty and non-persistent unless `extra` says otherwise; a later
 * argument wins) with `dir` as its working directory, and waits until it logs that it accepts
 * connections. Its own log, not a PING: a PING could be answered by another test file's
 * redis-server that took the port first, while this one is about to exit for want of it.
 */
export async function launch(
  binary: string,
  port: number,
  extra: readonly string[],
  dir = tmpdir(),
): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra]
  const child = spawn(binary, [...args, '--dir', dir, '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // A crashed jest worker must not leave a redis-server behind.
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
  let output = ''
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start on port ${port} within 10 s: ${output}`)),
        10_000,
      )
      const read = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-4000)
        if (!output.includes('Ready to accept connections')) return
        clearTimeout(timer)
        resolve()
      }
      child.stdout?.on('data', read)
      child.stderr?.on('data', read)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}): ${output}`))
      })
    })
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return child
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Starts an empty, non-persistent `redis-server` on a free port (see {@link launchOnFreePort}).
 * `extra` is passed on the command line, e.g. `['--maxmemory-policy', 'noeviction']`, on every start.
 */
export async function startRedisServer(extra: readonly string[] = []): Promise<RedisServer> {
  const binary = findRedisServer()
  if (binary === undefined) throw new Error(`redis-server is not on PATH: run \`${INSTALL}\``)
  return launchOnFreePort(async (port) => {
    let child: ChildProcess | undefined = await launch(binary, port, extra)
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        if (!child) return
        const running = child
        child = undefined
        running.kill('SIGTERM')
        await exited(running)
      },
      async start() {
        if (child) return
        child = await launch(binary, port, extra)
      },
    }
  })
}

/**
 * Runs `start` on a free port, and again on another one when it fails: a free port may be taken
 * before the server binds it (and a cluster node also needs port + 10000, which another test
 * file's server may hold). Rejects with the last failure after 5 ports.
 */
export async function launchOnFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await start(await freePort())
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

/**
 * Fails fast instead of queueing or waiting while Redis is down or stuck, as redisStore's TSDoc
 * recommends: node-redis' `commandOptions.timeout` only bounds the wait to be written, so the idle
 * `socketTimeout` (kept from firing on a healthy idle link by `pingInterval`) bounds the reply.
 * A stopped Redis fails at once whatever the timeout; tests that make Redis stuck pass a shorter
 * one, and the 5 s default keeps a loaded machine's slow replies from cutting a healthy link.
 */
export async function nodeRedisClient(
  server: RedisServer,
  timeout = 5000,
): Promise<ReturnType<typeof createClient>> {
  const client = createClient({
    url: server.url,
    disableOfflineQueue: true,
    pingInterval: Math.ceil(timeout / 2),
    commandOptions: { timeout },
    socket: {
      connectTimeout: timeout,
      socketTimeout: timeout,
      reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 200),
    },
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/**
 * Quits an ioredis client (standalone or cluster) at the end of a test. One still reconnecting
 * after a test stopped or restarted Redis refuses to queue QUIT (`enableOfflineQueue: false`:
 * "Stream isn't writeable"); it has nothing in flight to wait for, so it is disconnected instead.
 */
export async function quitIoredis(client: Redis | Cluster | undefined): Promise<void> {
  if (!client) return
  if (client.status === 'ready') await client.quit()
  else client.disconnect()
}

/** The ioredis equivalent of {@link nodeRedisClient}. */
export async function ioredisClient(server: RedisServer, timeout = 5000): Promise<Redis> {
  const client = new Redis(server.port, '127.0.0.1', {
    commandTimeout: timeout,
    connectTimeout: timeout,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    retryStrategy: (times: number) => Math.min(50 * times, 200),
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/**
 * Waits until `probe` succeeds again: after an outage the clients reconnect on their own schedule,
 * and only asking tells when they have. Asks every 50 ms, for at most 10 s.
 */
export async function whenAnswering(probe: () => unknown): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await probe()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(50)
    }
  }
}

/** Whether the stuck window of {@link whileStuck} is still open. */
export interface Stuck {
  /** `true` once the pause has ended and Redis answers again. */
  readonly over: boolean
}

/**
 * Runs `body` while `server` is stuck, then waits for it to answer again. Stuck as an overloaded
 * Redis: `CLIENT PAUSE <ms> ALL` holds every client's commands (the pausing client's too) for `ms`
 * (5 s unless told), far longer than the client timeouts of the tests that use it, and its OK says
 * the window has begun, so nothing has to wait for time before `body` runs. `body` gets the
 * window's state: an answer that arrives while `over` is still false did not wait for Redis (the
 * order of two events, not a measured time).
 */
export async function whileStuck<T>(
  server: RedisServer,
  body: (stuck: Stuck) => Promise<T>,
  ms = 5000,
): Promise<T> {
  const blocker = await nodeRedisClient(server, ms * 2)
  const stuck = { over: false }
  await blocker.sendCommand(['CLIENT', 'PAUSE', String(ms), 'ALL'])
  // Held like every other command: answered when the pause ends.
  const ended = blocker.sendCommand(['PING']).finally(() => {
    stuck.over = true
  })
  try {
    return await body(stuck)
  } finally {
    await ended
    await blocker.close()
  }
}

/**
 * A redis-server and a node-redis client ({@link nodeRedisClient}) for the enclosing describe
 * block: started before its tests, stopped after them. Read `client` inside tests and hooks only.
 */
export function useRedisClient(): {
  readonly client: ReturnType<typeof createClient>
  readonly server: RedisServer
} {
  let server: RedisServer | undefined
  let client: ReturnType<typeof createClient> | undefined
  beforeAll(async () => {
    server = await startRedisServer()
    client = await nodeRedisClient(server)
  })
  afterAll(async () => {
    client?.destroy()
    await server?.stop()
  })
  return {
    get client() {
      if (!client) throw new Error('useRedisClient: the client exists only inside tests and hooks')
      return client
    },
    get server() {
      if (!server) throw new Error('useRedisClient: the server exists only inside tests and hooks')
      return server
    },
  }
}
