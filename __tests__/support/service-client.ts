// Drives support/service.mjs processes: start one, sign in, call its guarded API, list its sessions.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** A service process (support/service.mjs) and what it printed. */
export interface Service {
  url: string
  /** Every line it printed, parsed, in order. */
  lines: ReadonlyArray<Record<string, unknown>>
  events: ServiceEvent[]
  logs: string[]
  /** Session ids whose destroy the service held (config `hold`). */
  held: string[]
  /** Resolves once the service printed a line that `match` accepts (or already had). */
  printed(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
  /** Resolves once an onLogout event that `match` accepts came (or already had). */
  event(match: (event: ServiceEvent) => boolean): Promise<ServiceEvent>
  stop(): Promise<void>
  /** SIGKILL: the process dies at once, whatever it was doing. */
  kill(): Promise<void>
}

export interface ServiceEvent {
  reason: string
  sid?: string
  sessionsDestroyed: number
  sessionsHandedOver?: number
  errors: string[]
}

export const LINKED_SID = `local r = redis.call('GET', KEYS[1]) if not r then return nil end return cmsgpack.unpack(r)[3] or nil`
export const SERVICE = join(__dirname, 'service.mjs')
export const BUILT = join(__dirname, '..', '..', 'dist', 'esm', 'index.js')

/** Starts support/service.mjs; resolves once it printed its URL. */
export async function startService(config: Record<string, unknown>): Promise<Service> {
  const child = spawn(process.execPath, [SERVICE, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: Array<Record<string, unknown>> = []
  const waiting = new Set<(line: Record<string, unknown>) => boolean>()
  const printed = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find(match)
      if (seen) return resolve(seen)
      const wait = (line: Record<string, unknown>) => match(line) && (resolve(line), true)
      waiting.add(wait)
    })
  const service: Service = {
    url: '',
    lines,
    events: [],
    logs: [],
    held: [],
    printed,
    event: async (match) =>
      (await printed((line) => line.event !== undefined && match(line.event as ServiceEvent)))
        .event as ServiceEvent,
    stop: () => stopChild(child),
    kill: () => killChild(child),
  }
  const stderr: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  service.url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const parsed = JSON.parse(text) as Record<string, unknown>
      lines.push(parsed)
      if (typeof parsed.url === 'string') resolve(parsed.url)
      if (parsed.event) service.events.push(parsed.event as ServiceEvent)
      if (typeof parsed.log === 'string') service.logs.push(parsed.log)
      if (Array.isArray(parsed.held)) service.held.push(...(parsed.held as string[]))
      for (const wait of [...waiting]) if (wait(parsed)) waiting.delete(wait)
    })
    child.once('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr.join('')}`)))
  })
  return service
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

export function stopChild(child: ChildProcess): Promise<void> {
  // A killed child has a signalCode and no exitCode: it is gone all the same.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
  })
}

/** Signs in at `service` with a bearer token: the session is created and linked to the token's sid. */
export async function login(service: Service, token: string): Promise<{ cookie: string; id: string }> {
  const response = await fetch(`${service.url}/login`, { headers: { authorization: `Bearer ${token}` } })
  expect(response.status).toBe(200)
  const { id } = (await response.json()) as { id: string }
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))
  return { cookie: cookie!.split(';')[0]!, id }
}

/** What a request of the signed-in user carries: a bearer token, a session cookie, or both. */
export interface Credential {
  token?: string
  cookie?: string
}

function credentialHeaders(credential: Credential): Record<string, string> {
  const headers: Record<string, string> = {}
  if (credential.token) headers.authorization = `Bearer ${credential.token}`
  if (credential.cookie) headers.cookie = credential.cookie
  return headers
}

/** POST to the logout route (`path` may carry a query), the redirect not followed. */
export function logoutAt(service: Service, credential: Credential, path = '/logout'): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: credentialHeaders(credential),
  })
}

/** POST /admin/revoke: `auth.revoke(subject)` in the service. */
export function revokeAt(service: Service, subject: { sid?: string; sub?: string }): Promise<Response> {
  return fetch(`${service.url}/admin/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(subject),
  })
}

/** POST a logout token to the service's back-channel receiver. */
export function backchannelAt(service: Service, logoutToken: string): Promise<Response> {
  return fetch(`${service.url}/backchannel`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: logoutToken }).toString(),
  })
}

/** GET /api (behind guard) with a token or a session cookie: the status and the signed-in user. */
export async function api(service: Service, credential: Credential) {
  const response = await fetch(`${service.url}/api`, { headers: credentialHeaders(credential) })
  const text = await response.text()
  return {
    status: response.status,
    authenticate: response.headers.get('www-authenticate'),
    user: response.status === 200 ? (JSON.parse(text) as { user: string | null }).user : undefined,
  }
}

export async function sessions(service: Service): Promise<string[]> {
  return (await (await fetch(`${service.url}/admin/sessions`)).json()) as string[]
}

/** Signs in at `service` with an opaque token: the session is linked with the explicit link({ sid, sub, sessionId }). */
export async function loginExplicitly(
  service: Service,
  sid: string,
  sub = `user-${sid}`,
): Promise<{ cookie: string; id: string }> {
  const query = new URLSearchParams({ sid, sub })
  const response = await fetch(`${service.url}/login-explicit?${query}`)
  expect(response.status).toBe(200)
  const { id } = (await response.json()) as { id: string }
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))
  return { cookie: cookie!.split(';')[0]!, id }
}
