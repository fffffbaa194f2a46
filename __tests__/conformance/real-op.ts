import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { OpClient } from '../support/op'
import type { Browser, Page } from './browser'

/** oidc-provider client metadata, with the front-channel fields the test server accepts. */
export interface RealOpClient extends OpClient {
  frontchannel_logout_uri?: string
  frontchannel_logout_session_required?: boolean
  id_token_signed_response_alg?: string
}

export type OpEvent = Record<string, unknown> & { event: string }

export interface RealOp {
  issuer: string
  /** Everything the OP printed, in order: requests, responses, back-channel results... */
  events: OpEvent[]
  /** Resolves with the first event (already printed or still to come) that matches. */
  waitFor(match: (event: OpEvent) => boolean, what: string): Promise<OpEvent>
  stop(): Promise<void>
}

/** How long {@link RealOp.waitFor} waits before it gives up with a message naming what it waited for. */
const WAIT_LIMIT = 10_000

/** Starts `oidc-provider-server.mjs` on 127.0.0.1, port 0; resolves once it printed its issuer. */
export async function startRealOp(clients: RealOpClient[]): Promise<RealOp> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'oidc-provider-server.mjs'), JSON.stringify({ clients })],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const events: OpEvent[] = []
  const emitter = new EventEmitter()
  const stderr: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      // oidc-provider prints its own notices on stdout too; protocol lines are JSON objects.
      if (!line.startsWith('{')) return
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (typeof parsed.issuer === 'string') return resolve(parsed.issuer)
      events.push(parsed as OpEvent)
      emitter.emit('event', parsed)
    })
    child.once('exit', (code) =>
      reject(new Error(`oidc-provider-server exited with ${code}: ${stderr.join('')}`)),
    )
  })
  return {
    issuer,
    events,
    waitFor: (match, what) => waitFor(events, emitter, match, what),
    stop: () => stopChild(child),
  }
}

function waitFor(
  events: OpEvent[],
  emitter: EventEmitter,
  match: (event: OpEvent) => boolean,
  what: string,
): Promise<OpEvent> {
  const seen = events.find(match)
  if (seen) return Promise.resolve(seen)
  return new Promise((resolve, reject) => {
    const onEvent = (event: OpEvent) => {
      if (!match(event)) return
      clearTimeout(timer)
      emitter.off('event', onEvent)
      resolve(event)
    }
    // A bound on the wait, not a synchronisation: the event either arrives or the test fails.
    const timer = setTimeout(() => {
      emitter.off('event', onEvent)
      reject(new Error(`the OP never printed ${what}`))
    }, WAIT_LIMIT)
    emitter.on('event', onEvent)
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
  })
}

/**
 * Answers oidc-provider's devInteractions pages (login as `sub`, then consent) until the browser
 * leaves the OP; returns every page, the last being where it came to rest.
 */
export async function throughInteractions(browser: Browser, pages: Page[], sub: string): Promise<Page[]> {
  const all = [...pages]
  for (let step = 0; step < 5; step++) {
    const last = all[all.length - 1]!
    if (!new URL(last.url).pathname.startsWith('/interaction/') || last.status !== 200) return all
    const action = /<form[^>]*action="([^"]+)"/.exec(last.text)?.[1]
    const prompt = /name="prompt" value="([^"]+)"/.exec(last.text)?.[1]
    if (!action || !prompt) throw new Error(`unexpected interaction page: ${last.text.slice(0, 200)}`)
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login: sub, password: 'any' } : { prompt }
    all.push(...(await browser.follow(new URL(action, last.url).href, { method: 'POST', form })))
  }
  throw new Error('more than 5 interaction pages')
}

/** The OP's logout confirmation form, answered "Yes, sign me out" (RP-Initiated Logout §2). */
export async function confirmLogout(browser: Browser, confirmation: Page): Promise<Page[]> {
  const action = /<form[^>]*action="([^"]+)"/.exec(confirmation.text)?.[1]
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmation.text)?.[1]
  if (!action || !xsrf) throw new Error(`not a logout confirmation: ${confirmation.text.slice(0, 200)}`)
  return browser.follow(new URL(action, confirmation.url).href, {
    method: 'POST',
    form: { xsrf, logout: 'yes' },
    from: 'same-origin',
  })
}
