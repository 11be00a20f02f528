/**
 * A bounded map whose entries each carry a deadline: least recently used first out when full, expired entries
 * dropped when touched. Time is passed in by the caller (from Effect's Clock), so nothing here reads a clock. The one
 * cache shape of the library: verified tokens (VerifiedTokenCache) and introspection verdicts, keyed by a token digest.
 */

interface Slot<V> {
  readonly value: V
  /** Milliseconds since the epoch after which the entry is not served. */
  readonly until: number
}

/** A bounded, expiring LRU map. */
export interface ExpiringLru<V> {
  /** The value if present and `now` is before its deadline; a hit becomes the most recently used entry. */
  readonly get: (key: string, now: number) => V | undefined
  /** Stores a value until `until` (nothing when that has passed), evicting the least recently used beyond the bound. */
  readonly set: (key: string, value: V, until: number, now: number) => void
  /** Entries held, expired ones included until they are touched or evicted. */
  readonly size: () => number
  /** Drops every entry. */
  readonly clear: () => void
}

/** A map of at most `maxEntries` entries; `0` keeps nothing. */
export const make = <V>(maxEntries: number): ExpiringLru<V> => {
  const bound = Math.max(0, Math.floor(maxEntries))
  // a Map iterates in insertion order: re-inserting on a hit keeps the least recently used entry first
  const slots = new Map<string, Slot<V>>()

  const get = (key: string, now: number): V | undefined => {
    const slot = slots.get(key)
    if (slot === undefined) return undefined
    slots.delete(key)
    if (now >= slot.until) return undefined
    slots.set(key, slot)
    return slot.value
  }

  const set = (key: string, value: V, until: number, now: number): void => {
    slots.delete(key)
    if (until <= now || bound === 0) return
    // the oldest entry is looked at on every insert, so expired entries do not wait for the bound to leave
    const oldest = slots.entries().next()
    if (!oldest.done && now >= oldest.value[1].until) slots.delete(oldest.value[0])
    while (slots.size >= bound) {
      const first = slots.keys().next()
      if (first.done) break
      slots.delete(first.value)
    }
    slots.set(key, { value, until })
  }

  return { get, set, size: () => slots.size, clear: () => slots.clear() }
}
