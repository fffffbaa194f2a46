import type { IncomingMessage } from 'node:http'
import type { Fields } from './body.js'
import type { Config } from '../options/config.js'
import type { LogoutError } from '../errors.js'
import type { LogoutEvent } from '../options/types.js'
import type { SessionRequest } from './session.js'
import { currentSession, sessionLink } from './session.js'
import { readSource } from './sources.js'
import type { Source } from './sources.js'
import type { Verification, VerifiedToken } from '../tokens/access-token.js'

/** Who a request belongs to: a verified token and/or a linked session. */
export interface Identity {
  token?: VerifiedToken
  iss?: string
  sid?: string
  sub?: string
  /** Why no token counted (missing, invalid, keys unavailable), for the event and debugging. */
  tokenError?: LogoutError
}

/** Finds the first token in `sources` and verifies it. A token that fails contributes nothing. */
export async function verifyRequestToken(
  config: Config,
  req: IncomingMessage,
  body?: Fields,
): Promise<Verification | undefined> {
  const session = currentSession(req as SessionRequest)
  const jwt = firstToken(config.tokenSources, { req, session, body })
  if (jwt === undefined || !config.verifier.enabled) return undefined
  return config.verifier.verify(jwt)
}

function firstToken(sources: Source[], input: Parameters<typeof readSource>[0]): string | undefined {
  for (const source of sources) {
    const value = readSource(input, source)
    if (value !== undefined) return value
  }
  return undefined
}

/** Combines the verified token with the session's remembered link (made from a verified token too). */
export function identify(req: IncomingMessage, verification: Verification | undefined): Identity {
  const link = sessionLink(req as SessionRequest)
  const token = verification?.token
  return {
    token,
    iss: token?.iss ?? link?.iss,
    sid: token?.sid ?? link?.sid,
    sub: token?.sub ?? link?.sub,
    tokenError: verification?.error,
  }
}

/** Calls `onLogout` once; a failing hook is logged, never turned into a failed logout. */
export async function emit(config: Config, event: LogoutEvent): Promise<void> {
  for (const error of event.errors)
    config.logger.warn(`sso-logout: ${event.reason} logout: ${error.code}: ${error.message}`)
  if (!config.onLogout) return
  try {
    await config.onLogout(event)
  } catch (err) {
    config.logger.error(`sso-logout: onLogout threw: ${err instanceof Error ? err.message : String(err)}`)
  }
}
