/** How far the identity provider's clock runs ahead of ours, learnt from the `iat` of tokens it signed. */

/** A lead is remembered this long: a clock corrected later stops costing anything within the hour. */
const WINDOW = 60 * 60 * 1000

/**
 * The IdP's lead over this process's clock, in ms. A token is verified after it was issued, so
 * `iat` later than our clock means the IdP's clock is ahead by at least that much. The largest lead
 * seen within the last hour is kept; with clocks in step it is 0.
 *
 * @example
 * ```ts
 * const clock = createClockLead()
 * clock.observe(payload.iat)
 * const slack = Math.min(tolerance, clock.lead())
 * ```
 */
export function createClockLead() {
  let largest = 0
  let seenAt = 0
  return {
    /** Records the `iat` (seconds) of a token that just verified. */
    observe(iat: number | undefined): void {
      if (iat === undefined) return
      const now = Date.now()
      const lead = iat * 1000 - now
      if (lead >= largest || now - seenAt > WINDOW) {
        largest = Math.max(lead, 0)
        seenAt = now
      }
    },
    /** The lead to allow for now, in ms (0 when none was seen within the window). */
    lead(): number {
      return Date.now() - seenAt > WINDOW ? 0 : largest
    },
  }
}

export type ClockLead = ReturnType<typeof createClockLead>
