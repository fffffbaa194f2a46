// Child-process plumbing: each server under test and each load generator is its own Node process,
// talking to the runner over IPC only.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

/** The child's first message that `accept`s; the others go to `onOther`. */
function firstMessage(child, what, timeoutMs, accept = () => true, onOther = () => {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer in ${timeoutMs} ms`)), timeoutMs)
    const listener = (message) => {
      if (!accept(message)) return onOther(message)
      child.off('message', listener)
      clearTimeout(timer)
      resolve(message)
    }
    child.on('message', listener)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with code ${code}`))
    })
  })
}

/** Starts a server process for `spec` and resolves to `{ port, heapUsed, stop }`. */
export async function startServer(spec, execArgv = []) {
  const child = fork(here('./server.mjs'), [JSON.stringify(spec)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const ready = await firstMessage(child, `server "${spec.app}"`, 300_000).catch((err) => {
    child.kill('SIGKILL')
    throw err
  })
  if (!ready.ready) {
    child.kill('SIGKILL')
    throw new Error(firstLine(ready.error))
  }
  /** Stops the server; resolves to what it reports on the way out (`{ destroyed }`), or `{}`. */
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve({})
      let report = {}
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.on('message', (message) => {
        if (message?.stopped) report = message
      })
      child.once('exit', () => {
        clearTimeout(force)
        resolve(report)
      })
      child.send('stop')
    })
  /** The server process's CPU time so far (user + system, all threads), in microseconds. */
  const cpu = async () => {
    const answer = firstMessage(child, 'server cpu', 10_000, (m) => m?.cpu !== undefined)
    child.send('cpu')
    return (await answer).cpu
  }
  return { port: ready.port, heapUsed: ready.heapUsed, stop, cpu }
}

/**
 * Forks a child script (with `args` as JSON in argv[2], so it can prepare at once) that takes one
 * IPC message and answers with `{ ok, result | error }`; returns `run(message)` to send it.
 */
export function forkChild(script, args = {}, { execArgv = [], timeoutMs = 120_000 } = {}) {
  const child = fork(here(script), [JSON.stringify(args)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    /** Sends `message`; resolves to the reply's result. Other messages go to `onOther`. */
    async run(message, onOther) {
      const answer = firstMessage(child, script, timeoutMs, (m) => m?.ok !== undefined, onOther)
      child.send(message)
      const reply = await answer.catch((err) => {
        child.kill('SIGKILL')
        throw err
      })
      if (!reply.ok) throw new Error(firstLine(reply.error))
      return reply.result
    },
    /** Ends the child if it was never run (its server failed to start). */
    async cancel() {
      if (child.exitCode !== null || !child.connected) return
      child.disconnect()
      await exited
    },
  }
}

/** Runs one child script that takes one IPC message and answers with `{ ok, result | error }`. */
export function runChild(script, message, options) {
  return forkChild(script, {}, options).run(message)
}

function firstLine(text) {
  return String(text).split('\n')[0]
}
