/**
 * Real waiting, for clocks that are not the test's: a Redis TTL runs on the server's clock, and a
 * client reconnects on its own schedule. Where the clock is ours (the memory store, a `Date.now()`
 * check in lib) the tests move it with jest fake timers or a `Date.now` spy instead, and where a test
 * waits for a request to arrive it waits for an event, never for time.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
