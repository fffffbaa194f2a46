/** RFC 7009 token revocation: one POST per token, failures returned rather than thrown. */
import { LogoutError } from '../errors.js'
import { send } from '../outbound.js'
import { isSecureOrLoopback } from './url.js'

/** The token types RFC 7009 §2.1 defines hints for. */
export type RevocableToken = 'refresh_token' | 'access_token'

/** How to reach and authenticate to a revocation endpoint. */
export interface RevocationClient {
  endpoint: URL
  clientId: string
  clientSecret?: string
  /** `client_secret_basic` unless the server supports only `client_secret_post`. */
  authMethod: 'client_secret_basic' | 'client_secret_post'
  timeout: number
}

/**
 * Revokes each token (RFC 7009 §2.1: `POST` form `token` + `token_type_hint`, client authentication
 * as RFC 6749 §2.3). Failures are returned, never thrown: the user is already logged out locally
 * and must not see an IdP's revocation outage. A `503` means the token may still be valid (§2.2.1).
 */
export async function revokeTokens(
  client: RevocationClient,
  tokens: Array<{ token: string; hint: RevocableToken }>,
): Promise<LogoutError[]> {
  const errors: LogoutError[] = []
  for (const { token, hint } of tokens) {
    const error = await revokeOne(client, token, hint)
    if (error) errors.push(error)
  }
  return errors
}

async function revokeOne(client: RevocationClient, token: string, hint: RevocableToken) {
  // RFC 7009 §2: the client MUST verify that the endpoint is https; checked again per call because
  // discovery may have supplied it.
  if (!isSecureOrLoopback(client.endpoint)) {
    return new LogoutError('ERR_PROVIDER_REQUEST', 'revocation endpoint is not https: token not sent')
  }
  const form = new URLSearchParams({ token, token_type_hint: hint })
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (client.clientSecret === undefined || client.authMethod === 'client_secret_post') {
    form.set('client_id', client.clientId)
    if (client.clientSecret !== undefined) form.set('client_secret', client.clientSecret)
  } else {
    headers.authorization = basicAuth(client.clientId, client.clientSecret)
  }
  const purpose = `${hint} revocation`
  try {
    const inbound = await send({
      url: client.endpoint,
      method: 'POST',
      headers,
      body: form.toString(),
      timeout: client.timeout,
      purpose,
    })
    // §2.2: 200 both when the token was revoked and when it was already invalid.
    if (inbound.status === 200) return undefined
    return new LogoutError(
      'ERR_PROVIDER_RESPONSE',
      `${purpose} answered HTTP ${inbound.status}${detail(inbound.body)}`,
      {},
    )
  } catch (cause) {
    if (cause instanceof LogoutError) return cause
    return new LogoutError('ERR_PROVIDER_REQUEST', `${purpose} failed`, { cause })
  }
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`
}

/** The OAuth `error` code of an error body (RFC 6749 §5.2), when there is one. */
function detail(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body)
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'error' in parsed &&
      typeof parsed.error === 'string'
    ) {
      return ` (${parsed.error.slice(0, 64)})`
    }
  } catch {
    return ''
  }
  return ''
}
