/** Every request sso-logout sends out (IdP APIs, discovery, JWKS bodies): bounded in time and size. */
import createDebug from 'debug'
import { LogoutError } from './errors.js'

const debug = createDebug('sso-logout:outbound')

/** Largest upstream response body read, in bytes: discovery documents and API answers are small. */
const MAX_BODY = 512 * 1024

/** One outbound call to an identity provider. */
export interface Outbound {
  url: URL
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Milliseconds for the whole exchange, body included. */
  timeout: number
  /** What the call is for, in error messages ("Descope logout", "OIDC discovery"). */
  purpose: string
}

/** What came back: the status and the body as text. */
export interface Inbound {
  status: number
  body: string
}

/**
 * Sends one request with a deadline and reads at most {@link MAX_BODY} bytes of the answer.
 * Redirects are never followed: a token or credential must not travel to a host the app did not name.
 * Network failures and timeouts become `ERR_PROVIDER_REQUEST`; an oversized body `ERR_PROVIDER_RESPONSE`.
 */
export async function send(request: Outbound): Promise<Inbound> {
  const signal = AbortSignal.timeout(request.timeout)
  let response: Response
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: { accept: 'application/json', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal,
    })
    const body = await readCapped(response, MAX_BODY, bodyTooLarge)
    debug('%s %s -> %d', request.method, request.purpose, response.status)
    return { status: response.status, body }
  } catch (cause) {
    if (cause instanceof LogoutError) throw cause
    const reason = signal.aborted ? `timed out after ${request.timeout} ms` : 'could not be sent'
    debug('%s %s', request.purpose, reason)
    throw new LogoutError('ERR_PROVIDER_REQUEST', `${request.purpose} request ${reason}`, {
      cause,
    })
  }
}

function bodyTooLarge(): LogoutError {
  return new LogoutError('ERR_PROVIDER_RESPONSE', `response body larger than ${MAX_BODY} bytes`)
}

/** Parses a JSON object body, or throws `ERR_PROVIDER_RESPONSE` naming what was expected. */
export function jsonObject(inbound: Inbound, purpose: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(inbound.body)
  } catch (cause) {
    throw new LogoutError('ERR_PROVIDER_RESPONSE', `${purpose} answered a body that is not JSON`, {
      cause,
    })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LogoutError('ERR_PROVIDER_RESPONSE', `${purpose} answered JSON that is not an object`)
  }
  return parsed as Record<string, unknown>
}

/**
 * Reads a fetch `Response` body as text, at most `maxBytes`: past that the stream is cancelled and
 * `tooLarge()` is thrown, so a hostile or broken peer cannot make us buffer without bound.
 */
export async function readCapped(
  response: Response,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
