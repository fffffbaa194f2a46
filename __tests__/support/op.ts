import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/**
 * Test helpers around a real OpenID Provider (`op-server.mjs`, the `oidc-provider` package) in a
 * child process: start it, log a user in over plain HTTP (authorization code + PKCE through the
 * devInteractions forms), follow a logout redirect through its end-session endpoint.
 */

/** Client metadata as oidc-provider takes it (RFC 7591 names). */
export interface OpClient {
  client_id: string
  client_secret?: string
  redirect_uris: string[]
  post_logout_redirect_uris?: string[]
  backchannel_logout_uri?: string
  backchannel_logout_session_required?: boolean
  grant_types?: string[]
  token_endpoint_auth_method?: string
  [key: string]: unknown
}

export interface OpConfig {
  clients: OpClient[]
  /** Resource indicator (audience) of the JWT access tokens. Defaults to `'urn:sso-logout:test-api'`. */
  resource?: string
  accessTokenTTL?: number
}

export interface Op {
  issuer: string
  /** Events the OP printed (`backchannel.success`, `backchannel.error`, `end_session.success`...). */
  events: Array<Record<string, unknown>>
  stop(): Promise<void>
}

/** Starts the OP on 127.0.0.1, port 0; resolves once it printed its issuer. */
export async function startOp(config: OpConfig): Promise<Op> {
  const child = spawn(process.execPath, [join(__dirname, 'op-server.mjs'), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const events: Array<Record<string, unknown>> = []
  const stderr: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      // oidc-provider prints its own notices on stdout too; protocol lines are JSON objects.
      if (!line.startsWith('{')) return
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (typeof parsed.issuer === 'string') resolve(parsed.issuer)
      else events.push(parsed)
    })
    child.once('exit', (code) => reject(new Error(`op-server exited with ${code}: ${stderr.join('')}`)))
  })
  return { issuer, events, stop: () => stopChild(child) }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
  })
}

/** A minimal cookie jar for one OP origin: name -> value, honouring deletions. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a))
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** One browser step: sends the jar's cookies, stores what comes back, never follows redirects. */
export async function browse(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (jar.cookies.size > 0) headers.set('cookie', jar.header())
  const response = await fetch(url, { ...init, headers, redirect: 'manual' })
  jar.store(response)
  return response
}

export interface LoginInput {
  clientId: string
  clientSecret?: string
  redirectUri: string
  /** The account id typed into the login form. Defaults to `'user-1'`. */
  sub?: string
  /** Defaults to `'openid'`. */
  scope?: string
}

export interface LoginResult {
  idToken: string
  accessToken: string
  refreshToken?: string
  /** The OP's cookies after login (its session): pass to {@link followLogout} and {@link hasOpSession}. */
  jar: CookieJar
}

/** Logs `sub` in: authorization code + PKCE through the devInteractions login and consent forms. */
export async function login(op: Op, input: LoginInput): Promise<LoginResult> {
  const jar = new CookieJar()
  const verifier = randomBytes(32).toString('base64url')
  const authorize = new URL('/auth', op.issuer)
  authorize.search = new URLSearchParams({
    client_id: input.clientId,
    response_type: 'code',
    redirect_uri: input.redirectUri,
    scope: input.scope ?? 'openid',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()
  let location = await nextLocation(jar, authorize)
  for (let step = 0; !location.startsWith(input.redirectUri); step++) {
    if (step > 10) throw new Error(`login did not reach the redirect_uri; stopped at ${location}`)
    location = await interact(jar, new URL(location, op.issuer), input.sub ?? 'user-1')
  }
  const code = new URL(location).searchParams.get('code')
  if (!code) throw new Error(`no code in ${location}`)
  const tokens = await tokenRequest(op, input, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: input.redirectUri,
    code_verifier: verifier,
  })
  if (tokens.status !== 200) throw new Error(`token request failed: ${JSON.stringify(tokens.body)}`)
  const body = tokens.body as { id_token: string; access_token: string; refresh_token?: string }
  return { idToken: body.id_token, accessToken: body.access_token, refreshToken: body.refresh_token, jar }
}

/** Answers one devInteractions page (login or consent) or follows one redirect; returns the next Location. */
export async function interact(jar: CookieJar, url: URL, sub: string): Promise<string> {
  if (!url.pathname.startsWith('/interaction/')) return nextLocation(jar, url)
  const page = await browse(jar, url)
  const html = await page.text()
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
  const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1]
  if (!action || !prompt) throw new Error(`unexpected interaction page: ${html.slice(0, 200)}`)
  const form: Record<string, string> =
    prompt === 'login' ? { prompt, login: sub, password: 'any' } : { prompt }
  return nextLocation(jar, new URL(action, url), { method: 'POST', body: new URLSearchParams(form) })
}

async function nextLocation(jar: CookieJar, url: URL, init?: RequestInit): Promise<string> {
  const response = await browse(jar, url, init)
  const location = response.headers.get('location')
  if (!location) throw new Error(`expected a redirect from ${url.pathname}, got ${response.status}`)
  return new URL(location, url).href
}

/** A token endpoint request with client_secret_basic (or client_id alone for a public client). */
export async function tokenRequest(
  op: Op,
  client: { clientId: string; clientSecret?: string },
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const params = new URLSearchParams(form)
  if (client.clientSecret) {
    headers.authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
  } else params.set('client_id', client.clientId)
  const response = await fetch(new URL('/token', op.issuer), { method: 'POST', headers, body: params })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

export interface LogoutLanding {
  /** Where the browser ends up once it leaves the OP (`returnTo?state=...`), or the OP page it stopped on. */
  url: URL
  /** Status of the last OP response. */
  status: number
  /** Body of the last OP response when it did not redirect away (an error page, the success page). */
  body: string
}

/**
 * Follows a logout redirect through the OP's end-session endpoint, as a browser would: submits
 * the "Yes, sign me out" confirmation form (or the auto-submitting form) and follows redirects
 * until the browser leaves the OP.
 */
export async function followLogout(op: Op, jar: CookieJar, start: string | URL): Promise<LogoutLanding> {
  let url = new URL(start)
  let init: RequestInit | undefined
  for (let step = 0; step < 10; step++) {
    if (url.origin !== new URL(op.issuer).origin) return { url, status: 0, body: '' }
    const response = await browse(jar, url, init)
    const location = response.headers.get('location')
    if (location) {
      ;[url, init] = [new URL(location, url), undefined]
      continue
    }
    const body = await response.text()
    const form = logoutForm(body, url)
    if (response.status !== 200 || !form) return { url, status: response.status, body }
    ;[url, init] = [form.action, { method: 'POST', body: form.fields }]
  }
  throw new Error('logout did not finish in 10 steps')
}

/** The OP's logout confirmation form (answered "yes") or its auto-submitting form. */
function logoutForm(html: string, base: URL): { action: URL; fields: URLSearchParams } | undefined {
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  const other = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  const match = form ?? other
  if (!match) return undefined
  const fields = new URLSearchParams()
  for (const input of match[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields.set(input[1]!, input[2]!)
  }
  if (!fields.has('logout')) fields.set('logout', 'yes')
  return { action: new URL(match[1]!.replace(/&amp;/g, '&'), base), fields }
}

/** `true` when the OP still has a session for the jar: a `prompt=none` authorization gets a code. */
export async function hasOpSession(
  op: Op,
  jar: CookieJar,
  client: { clientId: string; redirectUri: string },
): Promise<boolean> {
  const verifier = randomBytes(32).toString('base64url')
  const url = new URL('/auth', op.issuer)
  url.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: 'openid',
    prompt: 'none',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()
  let location = await nextLocation(jar, url)
  for (let step = 0; !location.startsWith(client.redirectUri) && step < 5; step++) {
    location = await nextLocation(jar, new URL(location))
  }
  const params = new URL(location).searchParams
  // consent_required still means a logged-in user (a revoked grant needs consent again).
  if (params.get('code') || params.get('error') === 'consent_required') return true
  if (params.get('error') === 'login_required') return false
  throw new Error(`unexpected prompt=none answer: ${location}`)
}
