/** The `Store` contract: every record sso-logout shares between requests, instances and services. */

/** Either a value or a promise of it: stores may answer synchronously (memory) or not (Redis). */
export type Awaitable<T> = T | Promise<T>

/** Which IdP session (or user) a record belongs to. `iss` always namespaces `sid` and `sub`. */
export interface Subject {
  iss: string
  sid?: string
  sub?: string
}

/** One local session linked to an IdP session. */
export interface LinkRecord extends Subject {
  /** The express-session id (`req.sessionID`). */
  sessionId: string
  /** When the link was made, in milliseconds since the epoch. */
  at: number
  /**
   * The service whose session store holds the session (`logout({ service })`). A link without one
   * (written before services were named) belongs to whichever service takes it.
   */
  service?: string | undefined
}

/** What {@link Store.takeFor} removed, split by owner. */
export interface TakenSessions {
  /** Sessions of the taking service (or of none): the caller destroys them in its session store. */
  own: string[]
  /** Sessions of other services, already handed to them durably: each owner destroys its own. */
  handedOver: string[]
  /**
   * `true` when every session returned (own and handed over) was also buried as
   * {@link TakeQuery.bury} asked, in the same step that took it. A store that leaves it unset
   * leaves the burying to the caller.
   */
  buried?: boolean
}

/** What {@link Store.receive} runs: destroys the handed-over sessions in the owner's session store. */
export type Delivery = (sessionIds: string[]) => Promise<void>

/** A running {@link Store.receive}. */
export interface Receiver {
  /** Stops receiving; ids not yet destroyed stay queued for the service's other instances. */
  close(): void
}

/** How {@link Store.receive} reports what it could not do, for the application's log. */
export interface ReceiveOptions {
  /**
   * Identifies this deployment of the service (its origin and client id): another live instance
   * receiving under the same service name with another description is a collision, reported
   * through `onProblem`, since it would destroy sessions in the wrong session store.
   */
  description: string
  onProblem(message: string): void
}

/** What {@link Store.take} removes: the sessions of one `sid`, or of one `sub`, at one issuer. */
export interface TakeQuery {
  iss: string
  sid?: string
  sub?: string
  /** Only sessions linked at or before this time (ms) are taken; later ones survive (`sid` reuse). */
  linkedBefore: number
  /**
   * Seconds. Asks {@link Store.takeFor} to bury each session it takes for that long (as
   * {@link Store.bury} would) in the step that takes it, so that no moment passes in which a
   * logged-out session is neither linked nor buried; the result says whether it did. Optional to
   * honour: the caller buries what a store did not.
   */
  bury?: number
}

/**
 * Where sso-logout keeps what must be shared between requests, instances and services. It holds
 * four kinds of record, each with a time to live, each looked up by key and never by scanning:
 *
 * | record | written by | key | kept for |
 * | --- | --- | --- | --- |
 * | link | {@link Store.link} | `sessionId`, indexed by `iss`+`sid` and `iss`+`sub` | `retention` (default 14 days) |
 * | revocation | {@link Store.revoke} | `iss`+`sid`, `iss`+`sub` | `retention` |
 * | tombstone | {@link Store.bury} | `sessionId` | one day |
 * | replay entry | {@link Store.claimJti} | `iss`+`jti` | the logout token's acceptance window |
 * | pending work | {@link Store.putPending} | a hash of a logout's `state` | ten minutes (the `state` cookie's life) |
 *
 * Revocations are created only for subjects of verified credentials, tombstones for any stored
 * session that logs out. A bounded store must therefore never evict a revocation to make room for a
 * tombstone (an unauthenticated caller can create tombstones, and an evicted revocation lets its
 * logged-out tokens through `guard` again): bound each kind on its own.
 *
 * Each method is one atomic operation, and may answer synchronously or with a promise. A failure
 * rejects (or throws); sso-logout reports it as `ERR_STORE`. Implemented by {@link memoryStore}
 * (one process) and {@link redisStore} (many).
 */
export interface Store {
  /** Records that `sessionId` belongs to `sid` and/or `sub` at `iss`, for `ttl` seconds; replaces its earlier link. */
  link(record: LinkRecord, ttl: number): Awaitable<void>
  /** Removes and returns the ids of the sessions linked to the query's `sid` (or `sub`), in one step. */
  take(query: TakeQuery): Awaitable<string[]>
  /**
   * Records that `sid` and/or `sub` at `iss` was logged out at `at` (ms), for `ttl` seconds. Keeps
   * the later time and the longer life when a record exists.
   */
  revoke(subject: Subject, at: number, ttl: number): Awaitable<void>
  /** The latest revocation time (ms) of the subject's `sid` or `sub`, or `undefined`. */
  revokedAt(subject: Subject): Awaitable<number | undefined>
  /**
   * Records tombstones: these local sessions were logged out, so a request of theirs still in
   * flight must not write them back into the session store. Kept `ttl` seconds.
   */
  bury(sessionIds: readonly string[], ttl: number): Awaitable<void>
  /**
   * Whether `sessionId` has a live tombstone. A store may answer from a local copy that learns of
   * other instances' writes a moment late (the Redis store's view, for `guard`); with `fresh`, it
   * must ask the shared service itself, as the check that keeps a logged-out session from being
   * written back needs. Stores without such a copy can ignore the option.
   */
  isBuried(sessionId: string, options?: { fresh?: boolean }): Awaitable<boolean>
  /** Claims a logout-token id: `true` the first time within `ttl` seconds, `false` after. */
  claimJti(iss: string, jti: string, ttl: number): Awaitable<boolean>
  /**
   * Gives a claimed logout-token id back, so the IdP's retry of a logout that failed after the
   * claim is accepted (Back-Channel Logout 1.0 §2.8: a failed logout answers an error, and the OP
   * may retry).
   */
  releaseJti(iss: string, jti: string): Awaitable<void>
  /**
   * Keeps what a logout must still do when the browser comes back from the OP (RFC 7009
   * revocations held back so the OP can still end its session and notify the other apps), under
   * `key`, for `ttl` seconds. The value may hold tokens: keep it no longer than asked.
   */
  putPending(key: string, value: string, ttl: number): Awaitable<void>
  /** Removes and returns the pending value of `key`, in one step (so it is done once), or `undefined`. */
  takePending(key: string): Awaitable<string | undefined>
  /** Forgets one local session's links (it was destroyed by other means). */
  unlink(sessionId: string): Awaitable<void>
  /**
   * The live link of one local session at issuer `iss`, however it was made: the explicit
   * `link({ sid, sessionId })` of a login writes nothing into the session, so the logout route asks
   * here which IdP session a browser's session belongs to (at the issuer it serves). Optional:
   * without it, such a logout ends the browser's own session only (every other linked session then
   * ends when its IdP session does).
   */
  linkOf?(sessionId: string, iss: string): Awaitable<LinkRecord | undefined>
  /**
   * Like {@link Store.take}, for a store shared by services that each keep their own session
   * store: the sessions of other services than `service` are handed to their owners, durably
   * (they survive a restart of the owner and of this process), before they leave the index, and
   * each owner destroys them through its {@link Store.receive}. Optional: without it, every
   * taken session is destroyed in the taker's session store, which reaches other services only
   * when they share it.
   */
  takeFor?(query: TakeQuery, service: string): Awaitable<TakenSessions>
  /**
   * Delivers to `deliver` the ids of `service`'s sessions that other services took, at least
   * once, until closed. Instances of one service share the work: each id goes to one of them,
   * and an instance that stops before `deliver` resolved gives its ids to another. A `deliver`
   * that rejects gets its ids again later, so it must be idempotent (destroying a session that
   * is gone already is). Present exactly when {@link Store.takeFor} is.
   */
  receive?(service: string, deliver: Delivery, options: ReceiveOptions): Receiver
  /** Releases timers and subscriptions. Optional. */
  close?(): Awaitable<void>
  /**
   * Looks for settings of the backing service that would lose records this contract promises to
   * keep, such as a Redis that may evict keys before their TTL (a lost revocation lets a logged-out
   * token through `guard` again). Optional; meant to be called once at start-up.
   *
   * @returns problems found, as sentences for a log; never rejects. An empty array means nothing
   *   was found; a setting that cannot be read is itself reported as a problem.
   */
  checkConfiguration?(): Promise<string[]>
}
