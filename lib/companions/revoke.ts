/** `revoke()`: programmatic logout of a `sid` and/or `sub`, with no request. */
import { emit, handedOver } from '../ending/event.js'
import { invalidate } from '../ending/subject.js'
import { invalidArg, subjectArg } from '../options/check.js'
import type { Config } from '../options/config.js'
import { sessionStoreFor } from '../request/session.js'

/** `revoke({ sid?, sub?, iss? })`: what to log out. `iss` defaults to the configured issuer. */
export interface RevokeInput {
  sid?: string | undefined
  sub?: string | undefined
  iss?: string | undefined
}

/**
 * Builds `revoke()`: programmatic logout ("log out everywhere", an admin action). Revokes the
 * `sid` and/or `sub`, destroys every linked local session, and resolves to how many were
 * destroyed. Rejects with the first `LogoutError` when the store or session store failed.
 */
export function createRevoke(config: Config) {
  return async function revoke(input: RevokeInput): Promise<number> {
    const subject = checkInput(input, config.verifier.issuer)
    const now = Date.now()
    const result = await invalidate(config, subject, {
      at: now,
      linkedBefore: now,
      bySub: subject.sub !== undefined,
      sessionStore: sessionStoreFor(config),
    })
    await emit(config, {
      reason: 'api',
      ...subject,
      sessionsDestroyed: result.destroyed.length,
      ...handedOver(result.handedOver.length),
      provider: config.provider?.name,
      errors: result.errors,
      notes: [],
    })
    if (result.errors[0]) throw result.errors[0]
    return result.destroyed.length
  }
}

function checkInput(input: RevokeInput, defaultIssuer: string | undefined): RevokeInput & { iss: string } {
  if (typeof input !== 'object' || input === null)
    throw invalidArg('input', 'an object { sid?, sub?, iss? }', input)
  return subjectArg(input, defaultIssuer)
}
