// A throw-away redis-server for the Redis scenarios: a free loopback port, no persistence,
// stopped (by its own pid) when the benchmark ends.
import { spawn, execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { createClient } from 'redis'

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

function redisBinary() {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/** Resolves to `{ url, version, stop }`, or `{ missing: reason }` when redis-server is not installed. */
export async function startRedis() {
  const binary = redisBinary()
  if (!binary) return { missing: 'redis-server is not installed on this machine' }
  const port = await freePort()
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  const url = `redis://127.0.0.1:${port}`
  const client = createClient({ url, socket: { reconnectStrategy: (n) => (n > 50 ? false : 100) } })
  client.on('error', () => {})
  await client.connect()
  const info = await client.info('server')
  await client.quit()
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill('SIGTERM')
    })
  return { url, version, stop }
}
