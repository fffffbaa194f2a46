// One variant of one scenario, in its own process so that its heap, its garbage collector and
// its JIT feedback are its own: a variant whose store holds a million links pays for that heap,
// and the other side of its pair does not. Built from the JSON spec in argv[2]; then, per
// message from the runner, runs one round of `n` operations and answers what it cost.
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { dirname } from 'node:path'
import { setImmediate as settle } from 'node:timers/promises'
import { promisify } from 'node:util'
import { readUsers } from './fixtures.mjs'
import { inject } from './inject.mjs'
import { measureRound } from './measure.mjs'
import { inprocessBuild, redisCommands } from './variants/common.mjs'
import * as backchannel from './variants/backchannel.mjs'
import * as guard from './variants/guard.mjs'
import * as link from './variants/link.mjs'
import * as logout from './variants/logout.mjs'

const modules = { backchannel, guard, link, logout }

/**
 * A V8 sampling profiler over the rounds only (the set-up would otherwise dominate it): of CPU
 * time, or with a `.heapprofile` file of where the heap is allocated (every object sampled, also
 * those the collector already freed: a request's garbage is what it costs).
 */
const profiler = {
  session: undefined,
  async start(file) {
    if (this.session) return
    this.session = new Session()
    this.session.connect()
    const post = promisify(this.session.post.bind(this.session))
    if (file.endsWith('.heapprofile')) {
      return post('HeapProfiler.startSampling', {
        samplingInterval: 512,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      })
    }
    await post('Profiler.enable')
    await post('Profiler.setSamplingInterval', { interval: 200 })
    await post('Profiler.start')
  },
  async stop(file) {
    if (!this.session) return
    const method = file.endsWith('.heapprofile') ? 'HeapProfiler.stopSampling' : 'Profiler.stop'
    const { profile } = await promisify(this.session.post.bind(this.session))(method)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(profile))
    this.session.disconnect()
  },
}

/** Zero-argument operations resolving to something comparable with `variant.expect`. */
function operations(variant) {
  if (variant.operation) return (i) => variant.operation(i)
  return (i) => {
    const request = variant.request(i)
    return async () => (await inject(variant.handler, request)).statusCode
  }
}

/** The first operation, unmeasured, checked in full: a wrong answer stops the run before it starts. */
async function probe(variant, i) {
  if (!variant.request) {
    const result = await variant.operation(i)()
    if (result !== variant.expect) throw new Error(`the first operation answered ${String(result)}`)
    return
  }
  const res = await inject(variant.handler, variant.request(i))
  if (res.statusCode !== variant.expect) {
    throw new Error(`the first request answered ${res.statusCode}, not ${variant.expect}`)
  }
  const problem = variant.check?.(res)
  if (problem) throw new Error(`the first response is wrong: ${problem}`)
}

async function main() {
  const spec = JSON.parse(process.argv[2])
  const fixtures = readUsers(spec.fixturesDir)
  const users = fixtures.users.slice(0, spec.users)
  fixtures.users = undefined
  const ctx = { spec, fixtures, users, pkg: await inprocessBuild.importPackage(), onClose: [] }
  const build = modules[spec.module]?.[spec.build]
  if (!build) throw new Error(`no variant ${spec.module}.${spec.build}`)
  const variant = await build(ctx)
  const operation = operations(variant)
  // Consuming variants take the next user each time; the others cycle through theirs.
  let next = 0
  const index = () => (spec.consumes || users.length === 0 ? next++ : next++ % users.length)
  await probe(variant, index())
  process.on('message', async (message) => {
    try {
      if (message.type === 'round') {
        if (spec.profile) await profiler.start(spec.profile)
        const ops = Array.from({ length: message.n }, () => operation(index()))
        // Deferred work of the previous round (session writes, timers) is not this round's.
        await settle()
        const sentBefore = redisCommands.sent
        const { results, ...cost } = await measureRound(ops)
        cost.commands = redisCommands.sent - sentBefore
        const wrong = results.filter((r) => r !== variant.expect)
        if (wrong.length > 0) {
          throw new Error(`${wrong.length} of ${results.length} operations answered ${String(wrong[0])}`)
        }
        return process.send({ type: 'round', result: { ...cost, n: results.length } })
      }
      if (message.type === 'stop') {
        const consumed = spec.consumes ? next : undefined
        if (spec.profile) await profiler.stop(spec.profile)
        const destroyed = variant.destroyed ? await variant.destroyed() : undefined
        for (const close of ctx.onClose) await close()
        process.send({ type: 'stopped', work: { consumed, destroyed } }, () => process.exit(0))
      }
    } catch (err) {
      process.send({ type: 'error', error: err?.stack ?? String(err) })
    }
  })
  process.send({ type: 'ready', heapMB: process.memoryUsage().heapUsed / 2 ** 20 })
}

// The runner is gone (interrupted): nothing will ask this process to stop.
process.on('disconnect', () => process.exit(0))

main().catch((err) => {
  process.send?.({ type: 'error', error: err?.stack ?? String(err) })
  setTimeout(() => process.exit(1), 100)
})
