/** The names of every key the Redis store writes. */
import type { Subject } from '../contract.js'

/** Names of every key the Redis store writes, all under one prefix. */
export interface RedisKeys {
  /** Prefix of the per-session records; the scripts append the raw session id. */
  sessionPrefix: string
  session(sessionId: string): string
  tombstone(sessionId: string): string
  pending(key: string): string
  index(iss: string, kind: 'sid' | 'sub', value: string): string
  /** The issuer and the sid (or sub) an index key names; `undefined` for any other name. */
  parseIndex(name: string): { iss: string; value: string } | undefined
  revocations(subject: Subject): string[]
  jti(iss: string, jti: string): string
}

/**
 * The issuer is URI-encoded so it contains no `:`, which makes every name unambiguous even though
 * the trailing `sid`, `sub`, `jti` or session id is kept raw. Session records (`s:`) and issuer
 * records (`i:`) tombstones (`t:`) and pending work (`p:`) never share a name because their first segment differs.
 */
export function redisKeys(prefix: string): RedisKeys {
  const issuer = (iss: string): string => `${prefix}i:${encodeURIComponent(iss)}:`
  const sessionPrefix = `${prefix}s:`
  return {
    sessionPrefix,
    session: (sessionId) => `${sessionPrefix}${sessionId}`,
    tombstone: (sessionId) => `${prefix}t:${sessionId}`,
    pending: (key) => `${prefix}p:${key}`,
    index: (iss, kind, value) => `${issuer(iss)}${kind}:${value}`,
    parseIndex(name) {
      const head = `${prefix}i:`
      if (!name.startsWith(head)) return undefined
      const match = /^([^:]*):s(?:id|ub):/.exec(name.slice(head.length))
      if (!match) return undefined
      return {
        iss: decodeURIComponent(match[1]!),
        value: name.slice(head.length + match[0].length),
      }
    },
    revocations(subject) {
      const keys: string[] = []
      if (subject.sid !== undefined) keys.push(`${issuer(subject.iss)}rsid:${subject.sid}`)
      if (subject.sub !== undefined) keys.push(`${issuer(subject.iss)}rsub:${subject.sub}`)
      return keys
    },
    jti: (iss, jti) => `${issuer(iss)}jti:${jti}`,
  }
}
