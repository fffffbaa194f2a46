import { existsSync } from 'node:fs'
import { BUILT_ENTRY, startExample, type RunningExample } from '../support/browser.js'
import { describeRedis, ping } from '../support/redis-server.js'

// `npm run example:redis` after the build: example-app/with-redis.mjs starts a redis-server of its
// own, runs the example against it, and stops it once the example has exited.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describeRedis('npm run example:redis', () => {
  let example: RunningExample | undefined

  afterAll(() => example?.stop())

  it('runs the example on a redis-server of its own, and stops that server when the example stops', async () => {
    if (!existsSync(BUILT_ENTRY)) throw new Error(`${BUILT_ENTRY} is missing: run "npm run build" first`)
    example = await startExample({ entry: 'with-redis.mjs' })
    const started = /redis-server \(pid (\d+)\) is listening on (redis:\/\/127\.0\.0\.1:(\d+));/.exec(
      example.output(),
    )
    expect(started).not.toBeNull()
    const [, pid, url, port] = started!
    expect(example.output()).toContain(`Stores: one redisStore on ${url} for both apps`)
    expect(await ping(Number(port))).toBe(true)
    // The apps answer with their stores on that Redis.
    expect((await fetch(`${example.urls.calendar}/`)).status).toBe(200)

    await example.stop()
    expect(alive(Number(pid))).toBe(false)
    expect(await ping(Number(port))).toBe(false)
  })
})
