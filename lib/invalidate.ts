import createDebug from 'debug'
import type { Config } from './config.js'
import { asLogoutError } from './errors.js'
import type { LogoutError } from './errors.js'
import type { SessionStoreLike } from './options.js'
import { destroyIds } from './session.js'
import { bury } from './tombstone.js'
import type { Subject } from './store.js'

const debug = createDebug('sso-logout:invalidate')

/** What ending one IdP session (or user) did locally. */
export interface Invalidation {
  /** Ids of the linked sessions destroyed in the session store. */
  destroyed: string[]
  errors: LogoutError[]
}

export interface InvalidateOptions {
  /** Revocation time recorded (ms). */
  at: number
  /** Sessions linked after this time (ms) survive: the IdP reused the `sid` for a new login. */
  linkedBefore: number
  /** Also take every session of `subject.sub` (not only of `subject.sid`). */
  bySub: boolean
  sessionStore: SessionStoreLike | undefined
}

/**
 * Ends `subject` locally: records the revocation first (so every instance's `guard` refuses its
 * tokens at once), then takes the linked session ids from the index and destroys them in the
 * session store. Failures are collected, never thrown, so callers decide how to answer.
 */
export async function invalidate(
  config: Config,
  subject: Subject,
  options: InvalidateOptions,
): Promise<Invalidation> {
  const errors: LogoutError[] = []
  const revoked: Subject = {
    iss: subject.iss,
    sid: subject.sid,
    sub: options.bySub ? subject.sub : undefined,
  }
  if (revoked.sid === undefined && revoked.sub === undefined) return { destroyed: [], errors }
  try {
    await config.store.revoke(revoked, options.at, config.retention)
  } catch (err) {
    errors.push(asLogoutError('ERR_STORE', 'Recording the revocation failed', err))
  }
  const ids = await takeAll(config, revoked, options.linkedBefore, errors)
  if (ids.length > 0 && options.sessionStore) {
    // Tombstones first: requests of these sessions still in flight must not write them back.
    await bury(config, ids, errors)
    try {
      await destroyIds(options.sessionStore, ids)
    } catch (err) {
      errors.push(asLogoutError('ERR_SESSION_STORE', 'Destroying linked sessions failed', err))
    }
  }
  debug('invalidated %d linked session(s), %d error(s)', ids.length, errors.length)
  return { destroyed: options.sessionStore ? ids : [], errors }
}

async function takeAll(
  config: Config,
  subject: Subject,
  linkedBefore: number,
  errors: LogoutError[],
): Promise<string[]> {
  const queries = [
    subject.sid !== undefined ? { iss: subject.iss, sid: subject.sid, linkedBefore } : undefined,
    subject.sub !== undefined ? { iss: subject.iss, sub: subject.sub, linkedBefore } : undefined,
  ]
  const ids = new Set<string>()
  for (const query of queries) {
    if (!query) continue
    try {
      for (const id of await config.store.take(query)) ids.add(id)
    } catch (err) {
      errors.push(asLogoutError('ERR_STORE', 'Reading the session index failed', err))
    }
  }
  return [...ids]
}
