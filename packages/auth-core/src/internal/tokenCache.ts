/**
 * Remembering verdicts about bearer tokens without remembering the tokens: entries are keyed by a SHA-256 digest
 * (internal/tokenDigest.ts), expire at a deadline on the Effect Clock, and the oldest entry is dropped when full.
 */

interface Entry<A> {
  readonly value: A
  /** Epoch milliseconds after which the entry is gone. */
  readonly until: number
}

/** A map of values with deadlines and a size bound; time is passed in by the caller, who reads it from the Clock. */
export class ExpiringMap<A> {
  readonly #entries = new Map<string, Entry<A>>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = Math.max(0, Math.floor(maxEntries))
  }

  /** The value for `key` while `now` is before its deadline; an expired entry is dropped. */
  get(key: string, now: number): A | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.until) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  /** Stores `value` until `until` (nothing when the deadline has passed); when full, the oldest entry goes first. */
  set(key: string, value: A, until: number, now: number): void {
    // re-inserting moves the key to the young end of the insertion order
    this.#entries.delete(key)
    if (until <= now || this.#maxEntries === 0) return
    if (this.#entries.size >= this.#maxEntries) this.#evict(now)
    this.#entries.set(key, { value, until })
  }

  /** How many entries are held, expired ones included until they are next touched. */
  get size(): number {
    return this.#entries.size
  }

  // expired entries at the old end are dropped first; if none was, the single oldest entry makes room
  #evict(now: number): void {
    let dropped = false
    for (const [key, entry] of this.#entries) {
      if (now < entry.until) break
      this.#entries.delete(key)
      dropped = true
    }
    if (dropped) return
    const oldest = this.#entries.keys().next()
    if (oldest.done !== true) this.#entries.delete(oldest.value)
  }
}
