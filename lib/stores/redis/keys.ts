/** The names of every key the Redis store writes, and the Redis Cluster hash slot each one lands in. */
import { hash } from 'node:crypto'
import type { Subject } from '../contract.js'

/** Which of a link's two indexes: by `sid` or by `sub`. */
export type IndexKind = 'sid' | 'sub'

/** Names of every key the Redis store writes, all under one prefix. */
export interface RedisKeys {
  /** The record of one linked session: its link time and the indexes that name it. */
  link(sessionId: string): string
  tombstone(sessionId: string): string
  pending(key: string): string
  /** The index of the sessions of one `sid` or `sub`, by issuer tag (see {@link issuerTag}), named by its {@link indexTag}. */
  index(tag: string, kind: IndexKind, value: string): string
  revocations(subject: Subject): string[]
  jti(iss: string, jti: string): string
  /** The hand-over stream of one service, by service tag (see {@link issuerTag}). */
  stream(serviceTag: string): string
  /** Which apps receive under one service name, by service tag. */
  registry(serviceTag: string): string
}

/**
 * A fixed-length stand-in for an issuer in key names: 12 base64url characters (72 bits) of its
 * SHA-256. An issuer is a URL of 30 or more characters that every index, revocation and jti key
 * would otherwise repeat; the tag keeps names short and free of `{` and `}` (which Redis Cluster
 * reads as a hash tag). Two issuers of one deployment share a tag with a probability near 2^-72.
 */
export function issuerTag(iss: string): string {
  return remembered(iss)
}

/** The same 12-character tag for a service name (`options.service`), kept in link records and stream names. */
export function serviceTag(service: string): string {
  return remembered(service)
}

/**
 * Tags of issuers and services, which a deployment has a handful of and every store operation
 * names: kept rather than hashed again on each call. Bounded, since the store's methods accept any
 * string: past the bound it starts over.
 */
const tags = new Map<string, string>()
const MAX_TAGS = 256

function remembered(value: string): string {
  let tag = tags.get(value)
  if (tag === undefined) {
    if (tags.size >= MAX_TAGS) tags.clear()
    tag = tagOf(value)
    tags.set(value, tag)
  }
  return tag
}

/**
 * The tag of one `sid` or `sub` at one issuer, for its index name. A sid or sub is often a UUID or
 * longer, and an index is a key of its own per linked session: 36 characters in its name cost 48
 * bytes of Redis memory per index (jemalloc rounds a name up to 16-byte steps), twice per link.
 * The raw value stays in the link record, which decides what a take gets, so two values sharing a
 * tag (probability near 2^-72 per pair) cannot take a session of the other; at worst, a take of one
 * drops the other's member as stale, and the revocation that take's logout records still makes
 * guard refuse that session.
 */
export function indexTag(tag: string, kind: IndexKind, value: string): string {
  return tagOf(`${tag}${kind === 'sid' ? 'd' : 'u'}${value}`)
}

/** One-shot `hash()` rather than a Hash object: a take names two index tags, and it is a third of the cost. */
function tagOf(value: string): string {
  return hash('sha256', value, 'base64url').slice(0, 12)
}

/**
 * Each name is `<prefix>{<slot part>}<kind letter>`. The part in braces is the Redis Cluster hash
 * tag, so keys spread over the slots by session, by `sid`, by `sub`, by jti and by pending key.
 * Names never collide: the last letter tells the kind apart (`l` link record, `t` tombstone, `p`
 * pending, `i` index, `r` revocation, `j` jti, `q` a service's hand-over stream, `o` its
 * registry); an index is named by its 12-character {@link indexTag} alone; elsewhere the issuer tag has a fixed
 * length and is followed by a letter saying whether a `sid` (`d`) or a `sub` (`u`) comes next, and
 * the trailing value is kept raw. A value containing `}` ends the hash tag early, identically for
 * every key of that value, so they still share a slot. A prefix containing a hash tag puts every
 * key in one slot, which also works.
 */
export function redisKeys(prefix: string): RedisKeys {
  const scoped = (tag: string, kind: IndexKind, value: string, letter: string): string =>
    `${prefix}{${tag}${kind === 'sid' ? 'd' : 'u'}${value}}${letter}`
  return {
    link: (sessionId) => `${prefix}{s${sessionId}}l`,
    tombstone: (sessionId) => `${prefix}{s${sessionId}}t`,
    pending: (key) => `${prefix}{p${key}}p`,
    index: (tag, kind, value) => `${prefix}{${indexTag(tag, kind, value)}}i`,
    revocations(subject) {
      const tag = issuerTag(subject.iss)
      const keys: string[] = []
      if (subject.sid !== undefined) keys.push(scoped(tag, 'sid', subject.sid, 'r'))
      if (subject.sub !== undefined) keys.push(scoped(tag, 'sub', subject.sub, 'r'))
      return keys
    },
    jti: (iss, jti) => `${prefix}{${issuerTag(iss)}j${jti}}j`,
    stream: (serviceTag) => `${prefix}{v${serviceTag}}q`,
    registry: (serviceTag) => `${prefix}{v${serviceTag}}o`,
  }
}
