// The driver's side of the service processes (./service.mjs): start one, ask it over IPC, and wait
// for the report that a session is gone from its store.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./service.mjs', import.meta.url))

/**
 * Starts the service of `spec` and resolves, once it listens, to
 * `{ name, sessionStore, port, gone(id), ask(message, key), events, logs, stop() }`.
 */
export async function startService(spec) {
  const child = fork(SCRIPT, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map()
  const asked = new Map()
  const service = { name: spec.name, sessionStore: spec.sessionStore, events: [], logs: [] }
  child.on('message', (message) => {
    if (message?.gone !== undefined) waiting.get(message.gone)?.(message)
    if (message?.event) service.events.push(message.event)
    if (message?.log) service.logs.push(message.log)
    const key = message?.clock ?? message?.has
    if (key !== undefined) asked.get(key)?.(message)
  })
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service ${spec.name} did not start in 30 s`)), 30_000)
    child.on('message', (message) => {
      if (message?.ready === undefined) return
      clearTimeout(timer)
      resolve(message)
    })
    child.once('exit', (code) => reject(new Error(`service ${spec.name} exited with code ${code}`)))
  })
  if (!ready.ready) {
    child.kill('SIGKILL')
    throw new Error(`service ${spec.name}: ${String(ready.error).split('\n')[0]}`)
  }
  return Object.assign(service, {
    port: ready.port,
    /**
     * Resolves to the service's report `{ gone, at, notice }` when its session store has destroyed
     * `id`, or to `undefined` after `timeoutMs`. Call it before the logout: the store may finish
     * before the logout's response reaches the driver.
     */
    gone(id, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id)
          resolve(undefined)
        }, timeoutMs)
        waiting.set(id, (report) => {
          clearTimeout(timer)
          waiting.delete(id)
          resolve(report)
        })
      })
    },
    /** Sends `message` and resolves to the answer carrying the same `key` (`clock` or `has`). */
    ask(message, key) {
      return new Promise((resolve) => {
        asked.set(key, (answer) => {
          asked.delete(key)
          resolve(answer)
        })
        child.send(message)
      })
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
        child.once('exit', () => {
          clearTimeout(force)
          resolve()
        })
        child.send('stop')
      })
    },
  })
}
