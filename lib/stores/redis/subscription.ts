/** The local view's subscription: a duplicate of the application's client, subscribed to one channel. */
import createDebug from 'debug'

const debug = createDebug('sso-logout:redis-view')

/**
 * How often the subscriber connection is sent a `PING` (allowed while subscribed, and answered in
 * order with what was published before it). A ping that fails, or is unanswered at the next tick,
 * means the connection may be silently dead: the view is dropped, so a silently lost subscription
 * is trusted for at most two of these. The view is trusted again once a ping is answered and the
 * subscription confirmed.
 */
export const HEARTBEAT_MS = 1_000

/** What the subscription tells the view. */
export interface SubscriptionEvents {
  message(text: string): void
  /** The subscription is confirmed in place: every message published from now on arrives. */
  current(): void
  /** The connection was lost or is in doubt: messages may have been missed. */
  lost(reason: string): void
}

export interface Subscription {
  close(): void
}

type Listener = (...args: unknown[]) => void

/** The parts of an EventEmitter both clients have. */
interface Emitter {
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
}

/** The subscriber a node-redis v5 `duplicate()` returns, as used here. */
interface NodeRedisSubscriber extends Emitter {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  ping(): Promise<unknown>
  destroy(): void
}

/** The subscriber an ioredis `duplicate()` returns, as used here. */
interface IoredisSubscriber extends Emitter {
  status: string
  connect(): Promise<unknown>
  subscribe(channel: string): Promise<unknown>
  ping(): Promise<unknown>
  disconnect(): void
}

/** A connected subscriber of either client, behind one interface. */
interface Subscriber {
  readonly connection: Emitter
  /** Events by which the client says its connection closed or is reconnecting. */
  readonly lossEvents: readonly string[]
  start(): void
  /** Resolves once the server has confirmed the subscription on the current connection. */
  confirm(): Promise<unknown>
  ping(): Promise<unknown>
  close(): void
}

/** Whether `client` can give the view a subscriber: both supported clients have `duplicate()`. */
export function canSubscribe(client: unknown): boolean {
  return typeof (client as { duplicate?: unknown }).duplicate === 'function'
}

/**
 * Subscribes a duplicate of `client` to `channel`. The subscriber is closed by `close()`, and when
 * the application's client ends (its `'end'` event), so quitting the client releases it too.
 */
export function subscribe(client: unknown, channel: string, events: SubscriptionEvents): Subscription {
  const parent = client as Emitter
  const subscriber = isIoredis(client)
    ? ioredisSubscriber(client, channel, events)
    : nodeRedisSubscriber(client, channel, events)
  let closed = false
  let generation = 0
  let confirmed = false
  let pinging = false

  const lost = (reason: string): void => {
    if (closed) return
    generation++
    confirmed = false
    debug('subscription lost: %s', reason)
    events.lost(reason)
  }
  const confirm = (): void => {
    if (closed) return
    const at = generation
    subscriber.confirm().then(
      () => {
        if (closed || at !== generation) return
        confirmed = true
        debug('subscription confirmed')
        events.current()
      },
      (error: unknown) => {
        if (at === generation) lost(`subscribing failed: ${String(error)}`)
      },
    )
  }
  const heartbeat = setInterval(() => {
    if (pinging) return lost('heartbeat unanswered')
    pinging = true
    subscriber.ping().then(
      () => {
        pinging = false
        // The connection answers again after a heartbeat was missed without it closing.
        if (!confirmed) confirm()
      },
      (error: unknown) => {
        pinging = false
        lost(`heartbeat failed: ${String(error)}`)
      },
    )
  }, HEARTBEAT_MS)
  heartbeat.unref()

  for (const event of subscriber.lossEvents) subscriber.connection.on(event, () => lost(event))
  subscriber.connection.on('ready', confirm)
  const close = (): void => {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    parent.off('end', close)
    subscriber.close()
  }
  parent.on('end', close)
  subscriber.start()
  return { close }
}

function isIoredis(client: unknown): boolean {
  return typeof (client as { status?: unknown }).status === 'string'
}

function nodeRedisSubscriber(client: unknown, channel: string, events: SubscriptionEvents): Subscriber {
  const connection = (client as { duplicate(): NodeRedisSubscriber }).duplicate()
  connection.on('error', (error) => debug('subscriber error: %s', String(error)))
  const listener = (message: string): void => events.message(message)
  /** The first connect, until it settles; afterwards `destroy()` closes the connection at once. */
  let opening: Promise<void> | undefined
  const destroy = (): void => {
    try {
      connection.destroy()
    } catch (error) {
      debug('closing the subscriber: %s', String(error))
    }
  }
  return {
    connection,
    lossEvents: ['error', 'reconnecting', 'end'],
    start() {
      const settled = (): void => void (opening = undefined)
      opening = connection.connect().then(settled, settled)
    },
    // node-redis re-subscribes before it emits 'ready' and subscribes a channel it already has
    // without a command; the PING after it is answered only once the SUBSCRIBE has been.
    confirm: async () => {
      await connection.subscribe(channel, listener)
      await connection.ping()
    },
    ping: () => connection.ping(),
    close() {
      if (opening === undefined) return destroy()
      // node-redis v5 keeps the socket it was still opening when destroy() ran (the socket is
      // assigned after the destroy, open, and keeps the process alive), so a subscriber closed
      // while it connects is destroyed once that attempt ends: connected, or failed (an 'error'
      // per failed attempt, which with a reconnect strategy may come long before connect settles).
      let done = false
      const once = (): void => {
        if (done) return
        done = true
        connection.off('error', once)
        destroy()
      }
      connection.on('error', once)
      void opening.then(once)
    },
  }
}

function ioredisSubscriber(client: unknown, channel: string, events: SubscriptionEvents): Subscriber {
  const connection = (client as { duplicate(): IoredisSubscriber }).duplicate()
  connection.on('error', (error) => debug('subscriber error: %s', String(error)))
  connection.on('message', (from, message) => {
    if (from === channel && typeof message === 'string') events.message(message)
  })
  return {
    connection,
    lossEvents: ['close', 'reconnecting', 'end'],
    start() {
      // A duplicate of a `lazyConnect` client waits to be connected; others connect on their own.
      if (connection.status === 'wait') connection.connect().catch(() => undefined)
    },
    // ioredis re-subscribes after it emits 'ready', without telling when the server answered; a
    // SUBSCRIBE of our own is answered once the channel is subscribed.
    confirm: () => connection.subscribe(channel),
    ping: () => connection.ping(),
    close: () => connection.disconnect(),
  }
}

/** One subscription of a store, shared by its local view and its receivers. */
export interface Channel {
  /** Adds listeners; the subscription starts with the first. A listener added once it is current is told so at once. */
  listen(events: SubscriptionEvents): () => void
  close(): void
}

/**
 * Shares one subscription (one connection) between everything of a store that listens to its
 * channel. It is opened when the first listener comes and stays open until `close()`.
 */
export function sharedChannel(client: unknown, channel: string): Channel {
  const listeners = new Set<SubscriptionEvents>()
  let subscription: Subscription | undefined
  let current = false
  let closed = false
  const all: SubscriptionEvents = {
    message: (text) => listeners.forEach((l) => l.message(text)),
    current() {
      current = true
      listeners.forEach((l) => l.current())
    },
    lost(reason) {
      current = false
      listeners.forEach((l) => l.lost(reason))
    },
  }
  return {
    listen(events) {
      listeners.add(events)
      if (!closed) subscription ??= subscribe(client, channel, all)
      if (current) events.current()
      return () => listeners.delete(events)
    },
    close() {
      closed = true
      current = false
      subscription?.close()
      listeners.clear()
    },
  }
}
