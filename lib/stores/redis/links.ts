/** `link`, `take` and `unlink` of the Redis store: steps of one slot each, in an order that is safe across slots. */
import type { LinkRecord, TakeQuery, TakenSessions } from '../contract.js'
import { issuerTag, serviceTag } from './keys.js'
import type { IndexKind, RedisKeys } from './keys.js'
import { scripts, type RedisScript } from './scripts.js'

/** Runs one script on its key (and keys of the same slot) and rejects with `ERR_STORE` (see store.ts). */
export type Exec = (
  script: RedisScript,
  key: string,
  args: string[],
  sameSlot?: readonly string[],
) => Promise<unknown>

/**
 * How to bury a session in the step that takes it: its tombstone key, the arguments the record
 * script needs for it (ttl ms, channel, change), and what to tell this instance's own view after.
 */
export type Burial = (sessionId: string) => { tombstone: string; args: string[]; done(): void }

/** What a link record named: its issuer tag, sid, sub and expiry E (server ms). */
interface OldLink {
  tag: string
  sid: string | undefined
  sub: string | undefined
  expiry: string
}

/** A session the index being taken names, with its score there. */
interface Member {
  sessionId: string
  score: string
}

/** Appends session ids to a service's hand-over stream (by its tag); rejects when Redis did not take them. */
export type HandOver = (serviceTag: string, sessionIds: string[]) => Promise<void>

/** The link operations of one store. */
export interface LinkSteps {
  link(record: LinkRecord, at: string, ttl: string): Promise<void>
  /**
   * Takes the query's sessions. With `taker` (a service name), other services' sessions are handed
   * over first and returned apart; without it, every session is the caller's.
   */
  take(query: TakeQuery, linkedBefore: string, taker?: string, burial?: Burial): Promise<TakenSessions>
  unlink(sessionId: string): Promise<void>
  linkOf(sessionId: string, iss: string): Promise<LinkRecord | undefined>
}

/**
 * The steps behind {@link Store.link}, {@link Store.take} and {@link Store.unlink}; the order
 * and why it is safe are explained in redisStore's TSDoc ("Redis Cluster"). In short, a
 * session's link record is the truth, and an index member is only a hint to read it:
 * - link: write the record (which returns the old one), then add the member to each index, then
 *   remove the old link's members (only while they still carry the old expiry as their score);
 * - take: read the index, ask each member's record (which deletes itself when it is taken, so
 *   exactly one take gets it, and writes the session's tombstone in the same step when asked),
 *   then remove the members taken, stale or orphaned from this index and the taken ones from
 *   their other index;
 * - unlink: delete the record (which returns it), then remove its members.
 */
export function linkSteps(keys: RedisKeys, exec: Exec, handOver: HandOver): LinkSteps {
  /** Removes `pairs` (session id, score) from one index, each only while it has that score. */
  const remove = async (index: string, pairs: string[]): Promise<void> => {
    if (pairs.length > 0) await exec(scripts.indexRemove, index, pairs)
  }

  /** Removes the members of a link that no longer holds (relinked elsewhere, unlinked). */
  const forget = async (sessionId: string, old: OldLink, keep: readonly string[] = []): Promise<void> => {
    const indexes: string[] = []
    if (old.sid !== undefined) indexes.push(keys.index(old.tag, 'sid', old.sid))
    if (old.sub !== undefined) indexes.push(keys.index(old.tag, 'sub', old.sub))
    await Promise.all(
      indexes
        .filter((index) => !keep.includes(index))
        .map((index) => remove(index, [sessionId, indexScore(old.expiry)])),
    )
  }

  return {
    async link(record, at, ttl) {
      const tag = issuerTag(record.iss)
      const flags = `${record.sid === undefined ? '' : 'd'}${record.sub === undefined ? '' : 'u'}`
      const owner = record.service === undefined ? '' : serviceTag(record.service)
      const args = [at, ttl, tag, record.sid ?? '', record.sub ?? '', flags, owner]
      const reply = asArray(await exec(scripts.setLink, keys.link(record.sessionId), args))
      const expiry = String(reply[0])
      const old = oldLink(reply.slice(1))
      const indexes: string[] = []
      if (expiry !== '0') {
        if (record.sid !== undefined) indexes.push(keys.index(tag, 'sid', record.sid))
        if (record.sub !== undefined) indexes.push(keys.index(tag, 'sub', record.sub))
      }
      await Promise.all([
        ...indexes.map((index) => exec(scripts.indexAdd, index, [record.sessionId, indexScore(expiry)])),
        old ? forget(record.sessionId, old, indexes) : undefined,
      ])
    },

    async take(query, linkedBefore, taker, burial) {
      const kind: IndexKind = query.sid !== undefined ? 'sid' : 'sub'
      const value = query.sid ?? query.sub
      if (value === undefined) return { own: [], handedOver: [] }
      const tag = issuerTag(query.iss)
      const index = keys.index(tag, kind, value)
      const members = pairs(await exec(scripts.indexRead, index, [])).map(([sessionId, score]) => ({
        sessionId,
        score,
      }))
      if (members.length === 0) return { own: [], handedOver: [] }
      const letter = kind === 'sid' ? 'd' : 'u'
      const takeAll = [tag, letter, value, linkedBefore, '']
      const first = await takeEach(
        members,
        taker === undefined ? takeAll : [...takeAll.slice(0, 4), serviceTag(taker)],
      )
      // Other services' sessions are still linked: each is handed to its owner first, and taken
      // (without a taker, so it goes whoever owns it) only once its owner has it durably.
      const owners = new Map<string, Member[]>()
      for (const [member, owner] of first.foreign) owners.set(owner, [...(owners.get(owner) ?? []), member])
      const handed = await Promise.allSettled(
        [...owners].map(async ([owner, list]) => {
          await handOver(
            owner,
            list.map((member) => member.sessionId),
          )
          return list
        }),
      )
      const after = await takeEach(
        handed.flatMap((h) => (h.status === 'fulfilled' ? h.value : [])),
        takeAll,
      )
      const failure = first.failure ?? handed.find((h) => h.status === 'rejected')?.reason ?? after.failure
      const byIndex = new Map<string, string[]>()
      for (const [key, pair] of [...first.cleanup, ...after.cleanup]) {
        byIndex.set(key, [...(byIndex.get(key) ?? []), ...pair])
      }
      await Promise.all([...byIndex].map(([key, list]) => remove(key, list)))
      // The records already taken are gone with the ids: their tombstones (when the take buries) and
      // the revocation recorded with the logout still make guard refuse those sessions (see "Redis
      // Cluster" in redisStore's TSDoc).
      if (failure !== undefined) throw failure
      const taken = { own: first.taken, handedOver: after.taken }
      return burial ? { ...taken, buried: true } : taken

      /** Runs the record script of each member; what it took, what to remove from which index, and what another service owns. */
      async function takeEach(list: Member[], args: string[]) {
        const verdicts = await Promise.allSettled(
          list.map(async (member) => {
            if (!burial) return exec(scripts.takeLink, keys.link(member.sessionId), args)
            const { tombstone, args: buryArgs, done } = burial(member.sessionId)
            const reply = await exec(
              scripts.takeLink,
              keys.link(member.sessionId),
              [...args, ...buryArgs],
              [tombstone],
            )
            if (Array.isArray(reply) && reply[0] === 3) done()
            return reply
          }),
        )
        const taken: string[] = []
        const cleanup: Array<[string, [string, string]]> = []
        const foreign: Array<[Member, string]> = []
        const other: IndexKind = kind === 'sid' ? 'sub' : 'sid'
        let failure: unknown
        verdicts.forEach((verdict, i) => {
          const member = list[i]!
          if (verdict.status === 'rejected') return void (failure ??= verdict.reason)
          const reply = verdict.value
          if (reply === 2) return
          if (Array.isArray(reply) && reply[0] === 4) return void foreign.push([member, String(reply[1])])
          cleanup.push([index, [member.sessionId, member.score]])
          if (!Array.isArray(reply)) return
          taken.push(member.sessionId)
          if (typeof reply[1] !== 'string') return
          cleanup.push([keys.index(tag, other, reply[1]), [member.sessionId, indexScore(String(reply[2]))]])
        })
        return { taken, cleanup, foreign, failure }
      }
    },

    async unlink(sessionId) {
      const old = oldLink(asArray(await exec(scripts.deleteLink, keys.link(sessionId), [])))
      if (old) await forget(sessionId, old)
    },

    // The record is the truth about a link (and expires with it), so it alone answers.
    async linkOf(sessionId, iss) {
      const [at, tag, sid, sub] = asArray(await exec(scripts.readLink, keys.link(sessionId), []))
      if (typeof at !== 'string' || tag !== issuerTag(iss)) return undefined
      return {
        iss,
        sid: typeof sid === 'string' ? sid : undefined,
        sub: typeof sub === 'string' ? sub : undefined,
        sessionId,
        at: Number(at),
      }
    },
  }
}

/** The old link a script returned as { tag, sid, sub, E } (false or nil where absent), or `undefined`. */
function oldLink(reply: unknown[]): OldLink | undefined {
  const [tag, sid, sub, expiry] = reply
  if (typeof tag !== 'string' || typeof expiry !== 'string') return undefined
  return {
    tag,
    sid: typeof sid === 'string' ? sid : undefined,
    sub: typeof sub === 'string' ? sub : undefined,
    expiry,
  }
}

/** An index member's score for a link's expiry E (ms): whole seconds, rounded up (see scripts.ts). */
function indexScore(expiry: string): string {
  return String(Math.ceil(Number(expiry) / 1000))
}

function asArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : []
}

/** A WITHSCORES reply, flat in RESP2 and as pairs in RESP3, as [member, score] pairs. */
function pairs(reply: unknown): Array<[string, string]> {
  const flat = asArray(reply).flat()
  const result: Array<[string, string]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([String(flat[i]), String(flat[i + 1])])
  return result
}
