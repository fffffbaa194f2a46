/** The announcements of the Redis store: every write of a key a local view mirrors is published with it. */
import createDebug from 'debug'

const debug = createDebug('sso-logout:redis-view')

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
 * The channel and message of each write a local view mirrors, for the script that makes the write
 * to publish in the same step (see ANNOUNCE in scripts.ts), and the change for this instance's own
 * view, applied once the script succeeded.
 */
export interface Announcements {
  revoked(key: string, at: number, ttlMs: number): { publish: [string, string]; change: Change }
  buried(key: string, ttlMs: number): { publish: [string, string]; change: Change }
  /** The wake-up of a service's receivers, whose stream has a new entry (they also poll). */
  handedOver(serviceTag: string): [string, string]
}

export function announcements(prefix: string): Announcements {
  const channel = changesChannel(prefix)
  const announced = (change: Change) => ({
    publish: [channel, JSON.stringify(change)] as [string, string],
    change,
  })
  return {
    revoked: (key, at, ttlMs) => announced({ r: [key], a: at, t: ttlMs }),
    buried: (key, ttlMs) => announced({ b: [key], t: ttlMs }),
    handedOver: (serviceTag) => [channel, JSON.stringify({ h: serviceTag } satisfies HandOverNotice)],
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
