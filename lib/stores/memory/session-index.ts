/** The memory store's index: `iss` -> `sid` (or `sub`) -> session ids, lean on heap. */
/**
 * The session ids of one `sid` or `sub`: a bare string while there is one (the common case, and a
 * `Set` costs a few hundred heap bytes), a `Set` from the second on.
 */
export type Ids = string | Set<string>

/**
 * `iss` -> `sid` (or `sub`) -> session ids. Nested maps rather than one map keyed by a joined
 * string: the `sid` string is shared with the link record instead of copied into a new key, which
 * keeps the heap per link, and so the garbage collector's work on a large store, small.
 */
export class SessionIndex {
  private readonly byIssuer = new Map<string, Map<string, Ids>>()

  get(iss: string, value: string): Ids | undefined {
    return this.byIssuer.get(iss)?.get(value)
  }

  add(iss: string, value: string, sessionId: string): void {
    let values = this.byIssuer.get(iss)
    if (!values) this.byIssuer.set(iss, (values = new Map()))
    const ids = values.get(value)
    if (ids === undefined) values.set(value, sessionId)
    else if (typeof ids !== 'string') ids.add(sessionId)
    else if (ids !== sessionId) values.set(value, new Set([ids, sessionId]))
  }

  remove(iss: string, value: string, sessionId: string): void {
    const values = this.byIssuer.get(iss)
    const ids = values?.get(value)
    if (!values || ids === undefined) return
    if (typeof ids !== 'string') {
      ids.delete(sessionId)
      if (ids.size > 1) return
      const last = ids.values().next()
      if (!last.done) return void values.set(value, last.value)
    } else if (ids !== sessionId) return
    values.delete(value)
    if (values.size === 0) this.byIssuer.delete(iss)
  }
}
