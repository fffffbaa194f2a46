import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { listen } from './serve.js'

export const ROOT = resolve(__dirname, '..', '..')
export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = join(ROOT, '__tests__', 'artifacts')
export const BUILT_ENTRY = join(ROOT, 'dist', 'esm', 'index.js')

/** The launch flags of the browser test: headless Chromium without sandbox, GPU or background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Whether the browser test can run. Without Chromium it is skipped loudly on a workstation and
 * fails on CI (`CI=true`), where a silent skip would hide a missing dependency.
 */
export function browserAvailability(): { run: boolean; reason?: string } {
  if (existsSync(CHROMIUM)) return { run: true }
  const reason = `${CHROMIUM} not found: install it with "apt-get install -y chromium" to run the browser test`
  if (process.env.CI === 'true') throw new Error(reason)
  return { run: false, reason }
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

export interface RunningExample {
  urls: { provider: string; notes: string; calendar: string; inspector?: string }
  /** Everything the example printed so far (stdout and stderr). */
  output(): string
  /**
   * Resolves with the match once the output from offset `from` on matches `pattern` (a line the
   * example prints when something happened, so tests wait for the event rather than for time).
   * Rejects, quoting the output, when the example exits or `timeout` ms (default 8000) pass first.
   */
  waitForOutput(pattern: RegExp, from?: number, timeout?: number): Promise<RegExpExecArray>
  stop(): Promise<void>
}

function parseUrls(text: string): RunningExample['urls'] | undefined {
  const find = (label: string) =>
    new RegExp(`^\\s*${label}\\s+(http://127\\.0\\.0\\.1:\\d+)/\\s*$`, 'm').exec(text)?.[1]
  const provider = find('Demo ID \\(OpenID Provider\\)')
  const notes = find('Notes')
  const calendar = find('Calendar')
  const inspector = find('Inspector \\(tests only\\)')
  // The stores line follows the URLs: once it is in, no URL line is still on its way.
  if (!provider || !notes || !calendar || !/^\s*Stores: /m.test(text)) return undefined
  return { provider, notes, calendar, ...(inspector && { inspector }) }
}

function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(force)
      done()
    })
    child.kill('SIGTERM')
  })
}

export interface ExampleOptions {
  /** Added to the environment, e.g. `{ REDIS_URL }` or `{ EXAMPLE_INSPECTOR: '1' }`. */
  env?: Record<string, string>
  /** The script of example-app/ to run: `start.mjs` (`npm run example`) or `with-redis.mjs`. */
  entry?: 'start.mjs' | 'with-redis.mjs'
  timeoutMs?: number
}

/**
 * Runs `node example-app/start.mjs` on free ports, exactly as `npm run example` does after the
 * build (or `with-redis.mjs`, as `npm run example:redis` does).
 */
export function startExample({
  env = {},
  entry = 'start.mjs',
  timeoutMs = 15000,
}: ExampleOptions = {}): Promise<RunningExample> {
  const child = spawn(process.execPath, [join(ROOT, 'example-app', entry)], {
    cwd: ROOT,
    env: { ...process.env, OP_PORT: '0', NOTES_PORT: '0', CALENDAR_PORT: '0', ...env },
  })
  let text = ''
  const waiters = new Set<() => void>()
  const waitForOutput = (pattern: RegExp, from = 0, timeout = 8000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const settle = (): void => {
        waiters.delete(check)
        clearTimeout(timer)
      }
      const check = (): void => {
        const match = pattern.exec(text.slice(from))
        if (match) {
          settle()
          resolve(match)
        } else if (child.exitCode !== null || child.signalCode !== null) {
          settle()
          reject(new Error(`the example exited before printing ${pattern}:\n${text.slice(from)}`))
        }
      }
      // A bound on failure, so the step is named instead of the test's timeout being hit.
      const timer = setTimeout(() => {
        settle()
        reject(new Error(`the example did not print ${pattern} within ${timeout} ms:\n${text.slice(from)}`))
      }, timeout)
      waiters.add(check)
      check()
    })
  const running = (urls: RunningExample['urls']): RunningExample => ({
    urls,
    output: () => text,
    waitForOutput,
    stop: () => stopChild(child),
  })
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      void stopChild(child)
      fail(new Error(`the example did not print its URLs within ${timeoutMs} ms:\n${text}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      for (const check of [...waiters]) check()
      const urls = parseUrls(text)
      if (urls) {
        clearTimeout(timer)
        ok(running(urls))
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      for (const check of [...waiters]) check()
      fail(new Error(`the example exited early (code ${code}, signal ${signal}):\n${text}`))
    })
  })
}

/**
 * A page on another site that auto-submits a POST form to `target`: the classic logout CSRF.
 * It listens on 127.0.0.1 and is opened as `http://localhost:PORT`, which is a different site
 * from `127.0.0.1` for the browser.
 */
export async function crossSitePage(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="${target}"><input type="hidden" name="returnTo" value="/"></form>
<script>document.getElementById('f').submit()</script>`
  const server = await listen((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(html)
  })
  // Opened as localhost: another site than the 127.0.0.1 the apps are opened on.
  return { url: `http://localhost:${new URL(server.url).port}/`, close: server.close }
}
