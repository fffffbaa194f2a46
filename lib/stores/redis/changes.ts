/** The announcements of the Redis store: every write of a key a local view mirrors, published after it. */
import createDebug from 'debug'
import { asLogoutError } from '../../errors.js'
import type { CommandSender } from './client.js'

const debug = createDebug('sso-logout:redis-view')

/** Announces every write of the keys the view mirrors, on the store's channel. */
export interface Announcer {
  revoked(keys: readonly string[], at: number, ttlMs: number): Promise<void>
  buried(keys: readonly string[], ttlMs: number): Promise<void>
  /** Tells a service's receivers that its stream has a new entry (a wake-up only: they also poll). */
  handedOver(serviceTag: string): Promise<void>
}

/** A revocation (`r`, with its time `a`) or tombstones (`b`) written, with their life `t` in ms. */
export type Change = { r: string[]; a: number; t: number } | { b: string[]; t: number }

/** A hand-over to the service of tag `h`. */
export interface HandOverNotice {
  h: string
}

/**
 * The channel of a prefix. A plain PUBLISH reaches the subscribers of every node of a Redis
 * Cluster, so one channel serves every key whatever its slot.
 */
export function changesChannel(prefix: string): string {
  return `${prefix}changes`
}

/**
 * Publishes a change after its write succeeded, so a view that reads the key before the write and
 * keeps "absent" is told. A failure rejects: the write stands, but other instances may not see it
 * until their view is dropped, so the caller (a logout, which the IdP retries) must fail.
 */
export function announcer(
  send: CommandSender,
  prefix: string,
  onChange: (change: Change) => void,
): Announcer {
  const channel = changesChannel(prefix)
  async function publish(change: Change, operation: string): Promise<void> {
    onChange(change)
    try {
      await send(['PUBLISH', channel, JSON.stringify(change)])
    } catch (error) {
      throw asLogoutError('ERR_STORE', `Redis store ${operation} was written but not announced`, error)
    }
  }
  return {
    revoked: (keys, at, ttlMs) => publish({ r: [...keys], a: at, t: ttlMs }, 'revoke'),
    buried: (keys, ttlMs) => publish({ b: [...keys], t: ttlMs }, 'bury'),
    async handedOver(serviceTag) {
      // The entry is durable already; a lost wake-up only costs its receivers one poll interval.
      await send(['PUBLISH', channel, JSON.stringify({ h: serviceTag })]).catch((error: unknown) =>
        debug('announcing a hand-over failed: %s', String(error)),
      )
    },
  }
}

/** An announcement, or `undefined` (and a debug line) for anything else published on the channel. */
export function parseChange(text: string): Change | HandOverNotice | undefined {
  try {
    const change = JSON.parse(text) as Record<string, unknown>
    if (typeof change.h === 'string' && Object.keys(change).length === 1) return { h: change.h }
    const keys = change.r ?? change.b
    const strings = Array.isArray(keys) && keys.every((k) => typeof k === 'string')
    const life = typeof change.t === 'number' && Number.isFinite(change.t)
    if (strings && life && change.b !== undefined) return change as Change
    if (strings && life && typeof change.a === 'number' && Number.isFinite(change.a)) return change as Change
  } catch {
    // falls through to the debug line
  }
  debug('ignored a message on the changes channel: %s', text.slice(0, 200))
  return undefined
}
