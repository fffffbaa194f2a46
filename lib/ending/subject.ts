/** Ends one IdP session or user locally: revoke, take the linked session ids, destroy them. */
import createDebug from 'debug'
import { asLogoutError } from '../errors.js'
import type { LogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { SessionStoreLike } from '../options/types.js'
import { destroyIds } from '../request/session.js'
import type { Awaitable, Subject, TakeQuery, TakenSessions } from '../stores/contract.js'
import { collect, settled } from './collect.js'
import { TOMBSTONE_TTL, bury } from './tombstones.js'

const debug = createDebug('sso-logout:invalidate')

/** What ending one IdP session (or user) did locally. */
export interface Invalidation {
  /** Ids of the linked sessions destroyed in the session store (never `ownSessionId`). */
  destroyed: string[]
  /** Ids of other services' sessions, handed to them to destroy in their own session stores. */
  handedOver: string[]
  errors: LogoutError[]
  /** Whether `ownSessionId` was among the linked sessions (its link is then already gone). */
  tookOwn: boolean
  /** Whether the take also buried `ownSessionId`, in the step that took it (TakeQuery.bury). */
  ownBuried: boolean
}

export interface InvalidateOptions {
  /** Revocation time recorded (ms). */
  at: number
  /** Sessions linked after this time (ms) survive: the IdP reused the `sid` for a new login. */
  linkedBefore: number
  /** Also take every session of `subject.sub` (not only of `subject.sid`). */
  bySub: boolean
  sessionStore: SessionStoreLike | undefined
  /** The request's own session: taken from the index, but buried and destroyed by the caller. */
  ownSessionId?: string
}

/**
 * Ends `subject` locally: records the revocation first (so every instance's `guard` refuses its
 * tokens at once), then takes the linked session ids from the index and destroys them in the
 * session store. Failures are collected, never thrown, so callers decide how to answer.
 * Synchronous when the store is and there is no other session to destroy (a logout of a sid whose
 * only session is the browser's own).
 */
export function invalidate(
  config: Config,
  subject: Subject,
  options: InvalidateOptions,
): Awaitable<Invalidation> {
  const errors: LogoutError[] = []
  const revoked: Subject = {
    iss: subject.iss,
    sid: subject.sid,
    sub: options.bySub ? subject.sub : undefined,
  }
  if (revoked.sid === undefined && revoked.sub === undefined) {
    return { destroyed: [], handedOver: [], errors, tookOwn: false, ownBuried: false }
  }
  // Sent together, not one after the other: a stuck store then costs one client timeout, not one
  // per command. Their order does not matter: a session the take returns is destroyed here, and one
  // linked while they run carries a token (or a link time) from before the revocation, which guard
  // refuses once the revocation lands (on a Redis Cluster the two run on different masters).
  const tombstoneTtl = Math.max(TOMBSTONE_TTL, config.retention)
  const recorded = record(config, revoked, options.at, errors)
  const taken = takeAll(config, revoked, options.linkedBefore, tombstoneTtl, errors)
  if (!(recorded instanceof Promise) && !(taken instanceof Promise)) {
    return endTaken(config, taken, options, tombstoneTtl, errors)
  }
  return Promise.all([recorded, taken]).then(([, t]) => endTaken(config, t, options, tombstoneTtl, errors))
}

/** Buries what the take did not, then destroys the other sessions it returned. */
function endTaken(
  config: Config,
  { own, handedOver, buried: takenBuried }: TakenSessions,
  options: InvalidateOptions,
  tombstoneTtl: number,
  errors: LogoutError[],
): Awaitable<Invalidation> {
  const others = own.filter((id) => id !== options.ownSessionId)
  const tookOwn = others.length !== own.length
  // Tombstones before any destroy: requests of these sessions still in flight must not write them
  // back, and a session this process cannot destroy (another service's, until its owner has; or
  // one in a session store that failed) is refused by `guard` wherever it shows up next, for as
  // long as a link could have named it: the links' retention. A store that can buries each session
  // in the step that takes it (TakeQuery.bury); what it did not, is buried here.
  const buried =
    takenBuried === true
      ? undefined
      : bury(config, handedOver.length === 0 ? others : [...others, ...handedOver], errors, tombstoneTtl)
  const { sessionStore } = options
  const done = (): Invalidation => {
    if (debug.enabled) {
      debug(
        'invalidated %d linked session(s), handed %d to other services, %d error(s)',
        others.length,
        handedOver.length,
        errors.length,
      )
    }
    return {
      destroyed: sessionStore ? others : [],
      handedOver,
      errors,
      tookOwn,
      ownBuried: tookOwn && takenBuried === true,
    }
  }
  if (others.length === 0 || !sessionStore) return buried instanceof Promise ? buried.then(done) : done()
  const destroyed = async (): Promise<Invalidation> => {
    if (buried instanceof Promise) await buried
    try {
      await destroyIds(sessionStore, others)
    } catch (err) {
      errors.push(asLogoutError('ERR_SESSION_STORE', 'Destroying linked sessions failed', err))
    }
    return done()
  }
  return destroyed()
}

function record(config: Config, subject: Subject, at: number, errors: LogoutError[]): Awaitable<void> {
  const message = 'Recording the revocation failed'
  return collect(() => config.store.revoke(subject, at, config.retention), undefined, errors, message)
}

const NOTHING: TakenSessions = { own: [], handedOver: [] }

/**
 * The sessions of the subject's sid and of its sub (when asked), each once, split into this
 * service's and those handed to their own services (by a store that can, see Store.takeFor).
 */
function takeAll(
  config: Config,
  subject: Subject,
  linkedBefore: number,
  bury: number,
  errors: LogoutError[],
): Awaitable<TakenSessions> {
  const message = 'Reading the session index failed'
  const { store, service } = config
  const take = (query: TakeQuery): Awaitable<TakenSessions> => {
    if (store.takeFor) return collect(() => store.takeFor!(query, service), NOTHING, errors, message)
    const ids = collect(() => store.take(query), [], errors, message)
    return ids instanceof Promise ? ids.then(ownOnly) : ownOnly(ids)
  }
  const answers: Array<Awaitable<TakenSessions>> = []
  if (subject.sid !== undefined)
    answers.push(take({ iss: subject.iss, sid: subject.sid, linkedBefore, bury }))
  if (subject.sub !== undefined)
    answers.push(take({ iss: subject.iss, sub: subject.sub, linkedBefore, bury }))
  const all = settled(answers)
  return all instanceof Promise ? all.then(merge) : merge(all)
}

function ownOnly(ids: string[]): TakenSessions {
  return { own: ids, handedOver: [] }
}

function merge(taken: TakenSessions[]): TakenSessions {
  if (taken.length === 1) return taken[0]!
  return {
    own: [...new Set(taken.flatMap((t) => t.own))],
    handedOver: [...new Set(taken.flatMap((t) => t.handedOver))],
    buried: taken.every((t) => t.buried === true),
  }
}
