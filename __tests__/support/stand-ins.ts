import type { IncomingMessage, ServerResponse } from 'node:http'
import { listen } from './serve.js'

/**
 * Local HTTP servers standing in for the provider endpoints of SPEC.md §5, each answering the way
 * the provider documents it: Auth0 `GET /v2/logout` and `GET /oidc/logout`, WorkOS
 * `GET /user_management/sessions/logout`, Descope `POST /v1/auth/logout` and `/v1/auth/logoutall`.
 * They record every request, and can be told to fail: `500`, `hang` (never answer), `malformed`
 * (a 200 whose body is broken JSON).
 */

export type StandInMode = 'ok' | '500' | 'hang' | 'malformed'

/** One request a stand-in received, exactly as it came. */
export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** Raw query string, to see valueless flags such as `federated`. */
  search: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface StandIn {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** `127.0.0.1:PORT`, for the `domain`/`apiHostname` options. */
  host: string
  requests: RecordedRequest[]
  mode: StandInMode
  close(): Promise<void>
}

export interface StandInOptions {
  /** Auth0 "Allowed Logout URLs" / WorkOS "Logout URIs". Defaults to `['https://app.example.com/']`. */
  allowedLogoutUrls?: string[]
  /** Descope project id the stand-in accepts. Defaults to `'P2test'`. */
  projectId?: string
}

type Handler = (req: RecordedRequest, res: ServerResponse, options: Required<StandInOptions>) => void

/** Starts a stand-in on 127.0.0.1, port 0. */
export async function startStandIn(
  kind: 'auth0' | 'workos' | 'descope',
  options: StandInOptions = {},
): Promise<StandIn> {
  const resolved = { allowedLogoutUrls: ['https://app.example.com/'], projectId: 'P2test', ...options }
  const handler = HANDLERS[kind]
  const requests: RecordedRequest[] = []
  const standIn: StandIn = { origin: '', host: '', requests, mode: 'ok', close: async () => undefined }
  const server = await listen((req, res) => {
    void record(req).then((recorded) => {
      requests.push(recorded)
      if (standIn.mode === 'hang') return
      if (standIn.mode === '500') return json(res, 500, { error: 'internal_error' })
      if (standIn.mode === 'malformed') return text(res, 200, 'application/json', '{"sessionJwt": ')
      handler(recorded, res, resolved)
    })
  })
  standIn.host = server.host
  standIn.origin = server.url
  standIn.close = server.close
  return standIn
}

const HANDLERS: Record<'auth0' | 'workos' | 'descope', Handler> = {
  auth0(req, res, options) {
    if (req.method !== 'GET') return text(res, 405, 'text/plain', 'Method Not Allowed')
    if (req.path === '/v2/logout') return auth0V2(req, res, options)
    if (req.path === '/oidc/logout') return auth0Oidc(req, res, options)
    return text(res, 404, 'text/plain', 'Not Found')
  },
  workos(req, res, options) {
    if (req.method !== 'GET' || req.path !== '/user_management/sessions/logout')
      return text(res, 404, 'text/plain', '')
    if (!req.query.session_id)
      return json(res, 400, { code: 'invalid_request', message: 'session_id is required' })
    const target = req.query.return_to ?? options.allowedLogoutUrls[0]!
    if (!options.allowedLogoutUrls.includes(target)) return json(res, 400, { code: 'invalid_return_to' })
    return redirect(res, target)
  },
  descope(req, res, options) {
    if (req.path !== '/v1/auth/logout' && req.path !== '/v1/auth/logoutall') return json(res, 404, {})
    if (req.method !== 'POST') return json(res, 405, {})
    const match = /^Bearer ([^:]+):(.+)$/.exec(String(req.headers.authorization ?? ''))
    if (!match || match[1] !== options.projectId) return json(res, 401, { errorCode: 'E011003' })
    // Descope answers with every token and cookie field emptied, so the client clears its cookies.
    return json(res, 200, {
      sessionJwt: '',
      refreshJwt: '',
      cookieDomain: '',
      cookiePath: '/',
      cookieMaxAge: 0,
    })
  },
}

function auth0V2(req: RecordedRequest, res: ServerResponse, options: Required<StandInOptions>): void {
  const target = req.query.returnTo
  if (target === undefined) return text(res, 200, 'text/plain', 'OK')
  if (!options.allowedLogoutUrls.includes(target)) return text(res, 400, 'text/plain', 'Bad Request')
  return redirect(res, target)
}

function auth0Oidc(req: RecordedRequest, res: ServerResponse, options: Required<StandInOptions>): void {
  const q = req.query
  if (!q.id_token_hint && !(q.logout_hint && q.client_id)) return text(res, 400, 'text/plain', 'Bad Request')
  const target = q.post_logout_redirect_uri
  if (target === undefined) return text(res, 200, 'text/plain', 'OK')
  if (!options.allowedLogoutUrls.includes(target)) return text(res, 400, 'text/plain', 'Bad Request')
  const url = new URL(target)
  if (q.state !== undefined) url.searchParams.set('state', q.state)
  return redirect(res, url.href)
}

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const url = new URL(req.url ?? '/', 'http://stand-in')
  return {
    method: req.method ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    search: url.search,
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location }).end()
}

function json(res: ServerResponse, status: number, body: unknown): void {
  text(res, status, 'application/json', JSON.stringify(body))
}

function text(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body)
}

/** A bare OAuth server: a discovery document (built from its own origin) and a recording `/revoke`. */
export interface MiniOp {
  issuer: string
  requests: RecordedRequest[]
  /** Status `/revoke` and discovery answer with: `'ok'`, `'500'`, `'hang'`, `'malformed'`. */
  mode: StandInMode
  close(): Promise<void>
}

/**
 * Stands in for an OP with no `end_session_endpoint`, as Google's discovery document is (SPEC.md §5):
 * `GET /.well-known/openid-configuration` and RFC 7009 `POST /revoke` (200 for any token, §2.2).
 */
export async function startMiniOp(
  extra: (origin: string) => Record<string, unknown> = () => ({}),
): Promise<MiniOp> {
  const requests: RecordedRequest[] = []
  const mini: MiniOp = { issuer: '', requests, mode: 'ok', close: async () => undefined }
  const server = await listen((req, res) => {
    void record(req).then((recorded) => {
      requests.push(recorded)
      if (mini.mode === 'hang') return
      if (mini.mode === '500') return json(res, 500, { error: 'server_error' })
      if (mini.mode === 'malformed') return text(res, 200, 'application/json', '{"issuer": ')
      if (recorded.path === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer: mini.issuer,
          jwks_uri: `${mini.issuer}/jwks`,
          revocation_endpoint: `${mini.issuer}/revoke`,
          ...extra(mini.issuer),
        })
      }
      if (recorded.path === '/revoke' && recorded.method === 'POST') return text(res, 200, 'text/plain', '')
      return json(res, 404, { error: 'not_found' })
    })
  })
  mini.issuer = server.url
  mini.close = server.close
  return mini
}
