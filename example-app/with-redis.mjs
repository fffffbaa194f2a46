// `npm run example:redis`: the example with Notes and Calendar sharing a redisStore, on a
// redis-server of its own: a free loopback port, nothing written to disk, stopped when the example
// exits. To use a Redis you already run, set REDIS_URL and run `npm run example` instead.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const INSTALL = 'apt-get install -y redis-server'
const START = join(import.meta.dirname, 'start.mjs')

/** A port that was free a moment ago (redis-server has no "any free port" of its own). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/**
 * Starts redis-server on `port` and resolves to the child once it says it accepts connections;
 * rejects when it exits first (the port was taken meanwhile) or cannot be started. It gets a
 * process group of its own, so the Ctrl+C meant for the example does not stop it under the
 * example's feet: it is stopped after the example has closed its connections.
 */
function redisServer(port, dir) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  // noeviction: a Redis that may evict keys would forget revocations (redisStore checks this).
  args.push('--maxmemory-policy', 'noeviction', '--dir', dir)
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  return new Promise((resolve, reject) => {
    let output = ''
    const onOutput = (chunk) => {
      output += chunk
      if (!/ready to accept connections/i.test(output)) return
      child.off('exit', onExit)
      // Keep reading what it logs from now on, so a full pipe never blocks it.
      child.stdout.off('data', onOutput).resume()
      child.stderr.off('data', onOutput).resume()
      resolve(child)
    }
    const onExit = (code, signal) =>
      reject(
        new Error(`redis-server stopped before it was ready (${signal ?? `exit code ${code}`}):\n${output}`),
      )
    child.stdout.on('data', onOutput)
    child.stderr.on('data', onOutput)
    child.once('exit', onExit)
    child.once('error', (err) =>
      reject(err.code === 'ENOENT' ? new Error(`redis-server is not installed; try: ${INSTALL}`) : err),
    )
  })
}

async function startRedis(dir) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return { port, child: await redisServer(port, dir) }
    } catch (err) {
      if (attempt === 3 || /not installed/.test(err.message)) throw err
    }
  }
}

function stopped(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

const dir = await mkdtemp(join(tmpdir(), 'sso-logout-example-redis-'))
let redis
try {
  redis = await startRedis(dir)
} catch (err) {
  await rm(dir, { recursive: true, force: true })
  console.error(err.message)
  process.exit(1)
}
const url = `redis://127.0.0.1:${redis.port}`
console.log(`redis-server (pid ${redis.child.pid}) is listening on ${url}; it stops with the example`)

const example = spawn(process.execPath, [START], {
  stdio: 'inherit',
  env: { ...process.env, REDIS_URL: url },
})
// The example shuts itself down on these; this process waits for it, then stops Redis.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => example.kill(signal))
let redisFailed = false
redis.child.once('exit', (code, signal) => {
  redisFailed = true
  console.error(`redis-server stopped on its own (${signal ?? `exit code ${code}`}): stopping the example`)
  example.kill('SIGTERM')
})
example.once('exit', async (code, signal) => {
  redis.child.removeAllListeners('exit')
  await stopped(redis.child)
  await rm(dir, { recursive: true, force: true })
  process.exit(redisFailed ? 1 : (code ?? (signal ? 1 : 0)))
})
