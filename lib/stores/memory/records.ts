/** The memory store's other records: revocations, tombstones, logout-token ids, pending work. */
import type { Subject } from '../contract.js'
import { bounded } from './expiry.js'
import type { Expiring } from './expiry.js'

interface RevocationEntry extends Expiring {
  at: number
}
interface PendingEntry extends Expiring {
  value: string
}

/** Each kind in its own map with its own bound, so filling one never evicts another. */
export class RecordTables {
  readonly revocations = new Map<string, RevocationEntry>()
  readonly tombstones = new Map<string, Expiring>()
  readonly jtis = new Map<string, Expiring>()
  readonly pending = new Map<string, PendingEntry>()

  constructor(private readonly maxEntries: number) {}

  revoke(subject: Subject, at: number, ttl: number): void {
    const expiresAt = Date.now() + ttl * 1000
    for (const key of revocationKeys(subject)) {
      const found = this.revocations.get(key)
      // An expired record the sweep has not reached yet must not lend its time to the new one.
      const previous = found && found.expiresAt > Date.now() ? found : undefined
      if (found) this.revocations.delete(key)
      else bounded(this.revocations, this.maxEntries)
      this.revocations.set(key, {
        at: Math.max(at, previous?.at ?? 0),
        expiresAt: Math.max(expiresAt, previous?.expiresAt ?? 0),
      })
    }
  }

  revokedAt(subject: Subject): number | undefined {
    // Both keys looked up in place (guard asks on every request): no list of keys is built.
    const now = Date.now()
    const bySid =
      subject.sid === undefined ? undefined : this.revocations.get(sidKey(subject.iss, subject.sid))
    const bySub =
      subject.sub === undefined ? undefined : this.revocations.get(subKey(subject.iss, subject.sub))
    const a = bySid && bySid.expiresAt > now ? bySid.at : undefined
    const b = bySub && bySub.expiresAt > now ? bySub.at : undefined
    return a === undefined ? b : b === undefined || a >= b ? a : b
  }

  bury(sessionIds: readonly string[], ttl: number): void {
    const expiresAt = Date.now() + ttl * 1000
    for (const sessionId of sessionIds) {
      // Re-inserted, so a fresh tombstone is the last one its bound would drop.
      if (!this.tombstones.delete(sessionId)) bounded(this.tombstones, this.maxEntries)
      this.tombstones.set(sessionId, { expiresAt })
    }
  }

  isBuried(sessionId: string): boolean {
    const entry = this.tombstones.get(sessionId)
    return entry !== undefined && entry.expiresAt > Date.now()
  }

  claimJti(iss: string, jti: string, ttl: number): boolean {
    const key = indexKey(iss, jti)
    const existing = this.jtis.get(key)
    if (existing && existing.expiresAt > Date.now()) return false
    if (existing) this.jtis.delete(key)
    else bounded(this.jtis, this.maxEntries)
    this.jtis.set(key, { expiresAt: Date.now() + ttl * 1000 })
    return true
  }

  releaseJti(iss: string, jti: string): void {
    this.jtis.delete(indexKey(iss, jti))
  }

  putPending(key: string, value: string, ttl: number): void {
    if (!this.pending.delete(key)) bounded(this.pending, this.maxEntries)
    this.pending.set(key, { value, expiresAt: Date.now() + ttl * 1000 })
  }

  takePending(key: string): string | undefined {
    const entry = this.pending.get(key)
    this.pending.delete(key)
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined
  }
}

/** Length-prefixed so no issuer/value pair can collide with another, whatever characters they hold. */
function indexKey(iss: string, value: string): string {
  return `${iss.length}:${iss}${value}`
}

function revocationKeys(subject: Subject): string[] {
  const keys: string[] = []
  if (subject.sid !== undefined) keys.push(sidKey(subject.iss, subject.sid))
  if (subject.sub !== undefined) keys.push(subKey(subject.iss, subject.sub))
  return keys
}

function sidKey(iss: string, sid: string): string {
  return `sid\u0000${indexKey(iss, sid)}`
}

function subKey(iss: string, sub: string): string {
  return `sub\u0000${indexKey(iss, sub)}`
}
