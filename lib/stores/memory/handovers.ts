/** The memory store's hand-over: other services' session ids, queued until one of their receivers destroyed them. */
import type { Delivery, ReceiveOptions, Receiver } from '../contract.js'

/** Milliseconds before ids whose delivery failed (the session store was down) are delivered again. */
export const RETRY_MS = 1_000

interface Registered {
  deliver: Delivery
  options: ReceiveOptions
  closed: boolean
}

/**
 * One queue per service, in this process (services sharing a memory store share the process). A
 * batch stays queued until a receiver's delivery resolves: one that rejects gets it again after
 * {@link RETRY_MS}, and a service with no receiver yet keeps its batches until one starts. The
 * queues hold at most `maxIds` ids in all; past it the oldest batches go first (those sessions
 * are still buried, so guard refuses them wherever they show up).
 */
export class Handovers {
  private readonly queues = new Map<string, string[][]>()
  private readonly receivers = new Map<string, Registered[]>()
  private readonly busy = new Set<string>()
  private queued = 0
  private turn = 0

  constructor(private readonly maxIds: number) {}

  hand(service: string, ids: string[]): void {
    const queue = this.queues.get(service) ?? []
    queue.push(ids)
    this.queues.set(service, queue)
    this.queued += ids.length
    this.trim()
    this.drain(service)
  }

  receive(service: string, deliver: Delivery, options: ReceiveOptions): Receiver {
    const live = (this.receivers.get(service) ?? []).filter((r) => !r.closed)
    const clash = live.find((r) => r.options.description !== options.description)
    if (clash) {
      const message = collision(service)
      options.onProblem(message)
      clash.options.onProblem(message)
    }
    const entry: Registered = { deliver, options, closed: false }
    this.receivers.set(service, [...live, entry])
    void Promise.resolve().then(() => this.drain(service))
    return {
      close: () => {
        entry.closed = true
        this.receivers.set(
          service,
          (this.receivers.get(service) ?? []).filter((r) => r !== entry),
        )
      },
    }
  }

  /** Hands the service's batches, one at a time, to its receivers in turn. */
  private drain(service: string): void {
    if (this.busy.has(service)) return
    const queue = this.queues.get(service)
    const receivers = this.receivers.get(service)
    if (!queue || queue.length === 0 || !receivers || receivers.length === 0) return
    const receiver = receivers[this.turn++ % receivers.length]!
    const batch = queue[0]!
    this.busy.add(service)
    const done = (delivered: boolean): void => {
      this.busy.delete(service)
      if (delivered) {
        // The batch may have been trimmed away meanwhile.
        const at = queue.indexOf(batch)
        if (at !== -1) {
          queue.splice(at, 1)
          this.queued -= batch.length
        }
        this.drain(service)
      } else {
        setTimeout(() => this.drain(service), RETRY_MS).unref()
      }
    }
    Promise.resolve()
      .then(() => receiver.deliver([...batch]))
      .then(
        () => done(true),
        () => done(false),
      )
  }

  private trim(): void {
    for (const queue of this.queues.values()) {
      while (this.queued > this.maxIds && queue.length > 1) this.queued -= queue.shift()!.length
    }
  }
}

export function collision(service: string): string {
  return (
    `service "${service}" is received by two apps that describe themselves differently ` +
    "(another baseURL or clientId): each would destroy the other's sessions in the wrong session " +
    'store. Give each app its own options.service.'
  )
}
