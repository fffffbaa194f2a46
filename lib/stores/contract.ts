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
}

/** What {@link Store.take} removes: the sessions of one `sid`, or of one `sub`, at one issuer. */
export interface TakeQuery {
  iss: string
  sid?: string
  sub?: string
  /** Only sessions linked at or before this time (ms) are taken; later ones survive (`sid` reuse). */
  linkedBefore: number
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
  /** Whether `sessionId` has a live tombstone. */
  isBuried(sessionId: string): Awaitable<boolean>
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
