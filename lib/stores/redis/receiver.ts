/** A service's receiver on the Redis store: its instances share the hand-over stream through one consumer group. */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import createDebug from 'debug'
import { invalidArg, objectOption } from '../../options/check.js'
import type { Delivery, ReceiveOptions, Receiver } from '../contract.js'
import type { ScriptRunner } from './client.js'
import { parseChange } from './changes.js'
import { serviceTag, type RedisKeys } from './keys.js'
import { scripts } from './scripts.js'
import type { Channel } from './subscription.js'

const debug = createDebug('sso-logout:receive')

/** Options of the hand-over between services (`redisStore({ delivery })`). */
export interface DeliveryOptions {
  /**
   * Milliseconds between two looks at the service's stream when no wake-up came (a wake-up is
   * published with every hand-over, so this only bounds the delay when one is lost, or while the
   * subscription is down). 50 to 60,000. Defaults to `1000`.
   */
  pollInterval?: number | undefined
  /**
   * Milliseconds an entry may stay delivered but unacknowledged before another instance of the
   * service takes it over: the instance holding it died mid-batch, or its session store failed.
   * Longer than the slowest session-store destroy you expect. 100 to 3,600,000. Defaults to `30000`.
   */
  claimAfter?: number | undefined
}

export interface DeliverySettings {
  pollInterval: number
  claimAfter: number
}

/** Resolves `options.delivery`. */
export function deliverySettings(value: unknown): DeliverySettings {
  const o = objectOption(value, 'options.delivery', ['pollInterval', 'claimAfter']) ?? {}
  return {
    pollInterval: bounded(o.pollInterval, 'options.delivery.pollInterval', 1_000, 50, 60_000),
    claimAfter: bounded(o.claimAfter, 'options.delivery.claimAfter', 30_000, 100, 3_600_000),
  }
}

function bounded(value: unknown, path: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArg(path, `an integer number of milliseconds from ${min} to ${max}`, value)
  }
  return value
}

/** The consumer group every instance of a service joins. */
export const GROUP = 'owners'
/** Entries read per script; a full batch is followed at once by the next. */
const BATCH = 100
/** Every this many polls the receiver re-registers its description and forgets departed consumers. */
const REGISTER_EVERY = 10

interface Entry {
  id: string
  sessionIds: string[]
}

/** What a receiver needs of its store. */
export interface ReceiverDeps {
  run: ScriptRunner
  keys: RedisKeys
  channel: Channel | undefined
  settings: DeliverySettings
  /** Seconds a hand-over entry is kept (the links' retention, at most). */
  retention: number
}

/**
 * Receives `service`'s hand-overs until closed. Each pass claims what dead (or failing) consumers
 * held past `claimAfter`, reads what is new, destroys each entry's sessions through `deliver`, and
 * acknowledges (and deletes) the entries delivered. An entry whose delivery failed stays pending and
 * is claimed again, by this instance or another, after `claimAfter`: delivery is at least once.
 */
export function startReceiver(
  deps: ReceiverDeps,
  service: string,
  deliver: Delivery,
  options: ReceiveOptions,
): Receiver {
  const tag = serviceTag(service)
  const stream = deps.keys.stream(tag)
  const registry = deps.keys.registry(tag)
  // Unique per start, so a restarted instance never mistakes its predecessor's entries for its own.
  const consumer = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`
  const ttl = String(deps.retention * 1000)
  const claimAfter = String(deps.settings.claimAfter)
  const reported = new Set<string>()
  let closed = false
  let running = false
  let again = false
  let passes = 0

  const pass = async (): Promise<void> => {
    if (closed) return
    if (running) return void (again = true)
    running = true
    try {
      do {
        again = false
        const tidy = passes++ % REGISTER_EVERY === 0
        // The registration is its own key and its own answer: it need not hold up the read, and
        // its failure (retried on a later pass) must not stop the deliveries.
        const registered = tidy
          ? register().catch((error: unknown) =>
              debug('registering %s failed (a later pass retries): %s', service, String(error)),
            )
          : undefined
        const reply = await deps.run(scripts.receive, stream, [
          GROUP,
          consumer,
          claimAfter,
          String(BATCH),
          ttl,
          tidy ? '1' : '',
        ])
        const entries = [...entriesOf(reply, 0), ...entriesOf(reply, 1)]
        // Closed while reading: nothing more is delivered here; the entries go, unacknowledged, to
        // another instance after claimAfter.
        if (closed) break
        // A batch's entries are independent logouts: delivered together, so a burst of them costs
        // about one session-store round trip, not one per entry. Each is acknowledged only once it
        // was delivered; one that fails is claimed again later, alone.
        const delivered = await Promise.all(
          entries.map(async (entry) => {
            try {
              if (entry.sessionIds.length > 0) await deliver(entry.sessionIds)
              return entry.id
            } catch (error) {
              debug(
                'delivery of %s failed, claimed again after %d ms: %s',
                entry.id,
                deps.settings.claimAfter,
                String(error),
              )
              return undefined
            }
          }),
        )
        const done = delivered.filter((id): id is string => id !== undefined)
        await registered
        if (done.length > 0) await deps.run(scripts.ack, stream, [GROUP, ...done])
        if (entries.length >= BATCH) again = true
      } while (again && !closed)
    } catch (error) {
      debug('receiving for %s failed (next poll retries): %s', service, String(error))
    } finally {
      running = false
    }
  }

  const register = async (): Promise<void> => {
    const others = await deps.run(scripts.register, registry, [
      options.description,
      String(deps.settings.pollInterval * REGISTER_EVERY * 3),
    ])
    for (const other of Array.isArray(others) ? others : []) {
      const description = String(other)
      if (reported.has(description)) continue
      reported.add(description)
      options.onProblem(
        `service "${service}" is also received by an app described as ${description} (this one: ` +
          `${options.description}): each would destroy sessions in the wrong session store. ` +
          'Give each app its own options.service.',
      )
    }
  }

  const timer = setInterval(() => void pass(), deps.settings.pollInterval)
  timer.unref()
  const unlisten = deps.channel?.listen({
    message(text) {
      const notice = parseChange(text)
      if (notice && 'h' in notice && notice.h === tag) void pass()
    },
    // Wake-ups may have been missed while the subscription was down.
    current: () => void pass(),
    lost: () => undefined,
  })
  void pass()
  return {
    close() {
      closed = true
      clearInterval(timer)
      unlisten?.()
    },
  }
}

/** Entries of one half of the receive script's reply, each with the session ids it names. */
function entriesOf(reply: unknown, half: 0 | 1): Entry[] {
  const list = Array.isArray(reply) ? (reply as unknown[])[half] : undefined
  if (!Array.isArray(list)) return []
  const entries: Entry[] = []
  for (const raw of list) {
    // A claimed entry deleted meanwhile has no fields: nothing to deliver, only to acknowledge.
    if (!Array.isArray(raw) || typeof raw[0] !== 'string') continue
    const fields = Array.isArray(raw[1]) ? (raw[1] as unknown[]) : []
    entries.push({ id: raw[0], sessionIds: idsOf(fields) })
  }
  return entries
}

function idsOf(fields: unknown[]): string[] {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'i') continue
    try {
      const ids: unknown = JSON.parse(String(fields[i + 1]))
      if (Array.isArray(ids)) return ids.filter((id): id is string => typeof id === 'string')
    } catch {
      debug('ignored a malformed hand-over entry')
    }
  }
  return []
}
