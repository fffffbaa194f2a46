/** `link`, `take` and `unlink` of the Redis store: steps of one key each, in an order that is safe across slots. */
import type { LinkRecord, TakeQuery } from '../contract.js'
import { issuerTag } from './keys.js'
import type { IndexKind, RedisKeys } from './keys.js'
import { scripts, type RedisScript } from './scripts.js'

/** Runs one script on its one key and rejects with `ERR_STORE` (see store.ts). */
export type Exec = (script: RedisScript, key: string, args: string[]) => Promise<unknown>

/** What a link record named: its issuer tag, sid, sub and expiry E (server ms). */
interface OldLink {
  tag: string
  sid: string | undefined
  sub: string | undefined
  expiry: string
}

/** The link operations of one store. */
export interface LinkSteps {
  link(record: LinkRecord, at: string, ttl: string): Promise<void>
  take(query: TakeQuery, linkedBefore: string): Promise<string[]>
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
 *   exactly one take gets it), then remove the members taken, stale or orphaned from this index
 *   and the taken ones from their other index;
 * - unlink: delete the record (which returns it), then remove its members.
 */
export function linkSteps(keys: RedisKeys, exec: Exec): LinkSteps {
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
      indexes.filter((index) => !keep.includes(index)).map((index) => remove(index, [sessionId, old.expiry])),
    )
  }

  return {
    async link(record, at, ttl) {
      const tag = issuerTag(record.iss)
      const flags = `${record.sid === undefined ? '' : 'd'}${record.sub === undefined ? '' : 'u'}`
      const args = [at, ttl, tag, record.sid ?? '', record.sub ?? '', flags]
      const reply = asArray(await exec(scripts.setLink, keys.link(record.sessionId), args))
      const expiry = String(reply[0])
      const old = oldLink(reply.slice(1))
      const indexes: string[] = []
      if (expiry !== '0') {
        if (record.sid !== undefined) indexes.push(keys.index(tag, 'sid', record.sid))
        if (record.sub !== undefined) indexes.push(keys.index(tag, 'sub', record.sub))
      }
      await Promise.all([
        ...indexes.map((index) => exec(scripts.indexAdd, index, [record.sessionId, expiry])),
        old ? forget(record.sessionId, old, indexes) : undefined,
      ])
    },

    async take(query, linkedBefore) {
      const kind: IndexKind = query.sid !== undefined ? 'sid' : 'sub'
      const value = query.sid ?? query.sub
      if (value === undefined) return []
      const tag = issuerTag(query.iss)
      const index = keys.index(tag, kind, value)
      const members = pairs(await exec(scripts.indexRead, index, []))
      if (members.length === 0) return []
      const letter = kind === 'sid' ? 'd' : 'u'
      const args = [tag, letter, value, linkedBefore]
      const verdicts = await Promise.allSettled(
        members.map(([sessionId]) => exec(scripts.takeLink, keys.link(sessionId), args)),
      )
      const taken: string[] = []
      const here: string[] = []
      const elsewhere = new Map<string, string[]>()
      const other: IndexKind = kind === 'sid' ? 'sub' : 'sid'
      let failure: unknown
      verdicts.forEach((verdict, i) => {
        const [sessionId, score] = members[i]!
        if (verdict.status === 'rejected') return void (failure ??= verdict.reason)
        const reply = verdict.value
        if (reply === 2) return
        here.push(sessionId, score)
        if (!Array.isArray(reply)) return
        taken.push(sessionId)
        if (typeof reply[1] !== 'string') return
        const otherIndex = keys.index(tag, other, reply[1])
        elsewhere.set(otherIndex, [...(elsewhere.get(otherIndex) ?? []), sessionId, String(reply[2])])
      })
      await Promise.all([remove(index, here), ...[...elsewhere].map(([key, list]) => remove(key, list))])
      // The records already taken are gone with the ids: the revocation recorded with the logout
      // still makes guard refuse those sessions (see "Redis Cluster" in redisStore's TSDoc).
      if (failure !== undefined) throw failure
      return taken
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
