import type { LocalViewEvent } from '../../lib/index.js'

/**
 * Records what a Redis store's local view reports (`localView.onEvent`), so tests wait for the
 * event itself: take a `mark()` before the action, then `after(mark, type)`.
 */
export class ViewEvents {
  readonly log: LocalViewEvent[] = []
  private waiters: Array<() => void> = []

  readonly onEvent = (event: LocalViewEvent): void => {
    this.log.push(event)
    for (const wake of this.waiters.splice(0)) wake()
  }

  mark(): number {
    return this.log.length
  }

  /** The `count`th event of `type` at or after `mark`, as soon as it arrives (at most 10 s). */
  async after(mark: number, type: LocalViewEvent['type'], count = 1): Promise<LocalViewEvent> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const found = this.log.slice(mark).filter((e) => e.type === type)[count - 1]
      if (found) return found
      if (Date.now() > deadline) throw new Error(`no "${type}" event from the local view within 10 s`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now() + 1)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Whether the view is current now: its last `current` or `lost` event was `current`. */
  get current(): boolean {
    const last = [...this.log].reverse().find((e) => e.type === 'current' || e.type === 'lost')
    return last?.type === 'current'
  }
}
