/** The memory store's links: session id -> its link, indexed by `iss`+`sid` and `iss`+`sub`. */
import type { LinkRecord, TakeQuery } from '../contract.js'
import { bounded } from './expiry.js'
import type { Expiring } from './expiry.js'
import { SessionIndex } from './session-index.js'

export interface LinkEntry extends LinkRecord, Expiring {}

/** Issuers are few; a caller passing endless made-up ones must not grow the intern table. */
const MAX_INTERNED_ISSUERS = 1000

/** The link records and their two indexes, bounded by `maxEntries`. */
export class LinkTable {
  readonly entries = new Map<string, LinkEntry>()
  private readonly bySid = new SessionIndex()
  private readonly bySub = new SessionIndex()
  private readonly issuers = new Map<string, string>()

  constructor(private readonly maxEntries: number) {}

  link(record: LinkRecord, ttl: number): void {
    const previous = this.entries.get(record.sessionId)
    if (previous) this.remove(record.sessionId, previous)
    const entry: LinkEntry = {
      iss: this.intern(record.iss),
      sid: record.sid,
      sub: record.sub,
      sessionId: record.sessionId,
      at: record.at,
      service: record.service,
      expiresAt: Date.now() + ttl * 1000,
    }
    bounded(this.entries, this.maxEntries, (id, old) => this.remove(id, old))
    this.entries.set(record.sessionId, entry)
    if (entry.sid !== undefined) this.bySid.add(entry.iss, entry.sid, entry.sessionId)
    if (entry.sub !== undefined) this.bySub.add(entry.iss, entry.sub, entry.sessionId)
  }

  take(query: TakeQuery): string[] {
    return this.takeEntries(query).map((entry) => entry.sessionId)
  }

  /** Takes like {@link take}, split into `service`'s sessions (or no service's) and each other service's. */
  takeFor(query: TakeQuery, service: string): { own: string[]; others: Map<string, string[]> } {
    const own: string[] = []
    const others = new Map<string, string[]>()
    for (const entry of this.takeEntries(query)) {
      if (entry.service === undefined || entry.service === service) own.push(entry.sessionId)
      else others.set(entry.service, [...(others.get(entry.service) ?? []), entry.sessionId])
    }
    return { own, others }
  }

  private takeEntries(query: TakeQuery): LinkEntry[] {
    const index = query.sid !== undefined ? this.bySid : this.bySub
    const value = query.sid ?? query.sub
    if (value === undefined) return []
    const ids = index.get(query.iss, value)
    if (ids === undefined) return []
    const now = Date.now()
    const taken: LinkEntry[] = []
    for (const sessionId of typeof ids === 'string' ? [ids] : [...ids]) {
      const entry = this.entries.get(sessionId)
      if (!entry || entry.expiresAt <= now) {
        if (entry) this.remove(sessionId, entry)
        else index.remove(query.iss, value, sessionId)
        continue
      }
      if (entry.at > query.linkedBefore) continue
      this.remove(sessionId, entry)
      taken.push(entry)
    }
    return taken
  }

  linkOf(sessionId: string, iss: string): LinkRecord | undefined {
    const entry = this.entries.get(sessionId)
    if (!entry || entry.iss !== iss || entry.expiresAt <= Date.now()) return undefined
    return { iss: entry.iss, sid: entry.sid, sub: entry.sub, sessionId, at: entry.at, service: entry.service }
  }

  unlink(sessionId: string): void {
    const entry = this.entries.get(sessionId)
    if (entry) this.remove(sessionId, entry)
  }

  /** Drops one link and its index entries (also what the sweep calls for an expired link). */
  remove(sessionId: string, entry: LinkEntry): void {
    this.entries.delete(sessionId)
    if (entry.sid !== undefined) this.bySid.remove(entry.iss, entry.sid, sessionId)
    if (entry.sub !== undefined) this.bySub.remove(entry.iss, entry.sub, sessionId)
  }

  /** One string per issuer, however many tokens it came from (each token parse makes a new one). */
  private intern(iss: string): string {
    const known = this.issuers.get(iss)
    if (known !== undefined) return known
    if (this.issuers.size < MAX_INTERNED_ISSUERS) this.issuers.set(iss, iss)
    return iss
  }
}
