/**
 * The key-value store the OAuth proxy keeps its state in: TTLs, atomic take (single-use codes and states) and
 * compare-and-set (refresh-token rotation). In memory by default; `@mcp-oauth/redis` shares it between instances.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { UpstreamUnavailable } from "./Errors.js"

/** A TTL key-value store with the atomic operations single-use values and rotation need. Values are strings. */
export interface Service {
  /** The value of a live key. */
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, UpstreamUnavailable>
  /** Sets a key with a time to live. */
  readonly set: (key: string, value: string, ttl: Duration.DurationInput) => Effect.Effect<void, UpstreamUnavailable>
  /** Sets a key only if it is absent; true when this call set it. */
  readonly setIfAbsent: (key: string, value: string, ttl: Duration.DurationInput) => Effect.Effect<boolean, UpstreamUnavailable>
  /** Atomically reads and deletes a key: of two concurrent takes, at most one gets the value. */
  readonly take: (key: string) => Effect.Effect<Option.Option<string>, UpstreamUnavailable>
  /** Atomically replaces `expected` with `next` (keeping a fresh TTL); false when the value was not `expected`. */
  readonly compareAndSet: (
    key: string,
    expected: string,
    next: string,
    ttl: Duration.DurationInput
  ) => Effect.Effect<boolean, UpstreamUnavailable>
  /** Deletes a key. */
  readonly delete: (key: string) => Effect.Effect<void, UpstreamUnavailable>
  /** Increments a counter that lives for `window` from its first increment; returns the new count (rate limits). */
  readonly increment: (key: string, window: Duration.DurationInput) => Effect.Effect<number, UpstreamUnavailable>
}

/** The store service. */
export class Store extends Context.Tag("@mcp-oauth/auth-core/Store")<Store, Service>() {}

interface Entry {
  readonly value: string
  readonly expiresAt: number
}

/**
 * An in-memory store for one instance, bounded by `maxEntries` (the entry closest to expiry is dropped first when
 * full). Time from Effect's Clock, so TestClock drives expiry. Operations are atomic because they run synchronously.
 */
export const makeMemory = (options: { readonly maxEntries?: number } = {}): Effect.Effect<Service> =>
  Effect.sync(() => {
    const maxEntries = options.maxEntries ?? 100_000
    const entries = new Map<string, Entry>()
    const live = (key: string, now: number): Entry | undefined => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expiresAt <= now) {
        entries.delete(key)
        return undefined
      }
      return entry
    }
    const put = (key: string, value: string, ttl: Duration.DurationInput, now: number) => {
      if (!entries.has(key) && entries.size >= maxEntries) evict(now)
      entries.set(key, { value, expiresAt: now + Duration.toMillis(ttl) })
    }
    const evict = (now: number) => {
      let victim: string | undefined
      let soonest = Number.POSITIVE_INFINITY
      for (const [key, entry] of entries) {
        if (entry.expiresAt <= now) {
          entries.delete(key)
          return
        }
        if (entry.expiresAt < soonest) {
          soonest = entry.expiresAt
          victim = key
        }
      }
      if (victim !== undefined) entries.delete(victim)
    }
    const withNow = <A>(f: (now: number) => A) => Effect.map(Clock.currentTimeMillis, f)
    return {
      get: (key) => withNow((now) => Option.fromNullable(live(key, now)?.value)),
      set: (key, value, ttl) => withNow((now) => put(key, value, ttl, now)),
      setIfAbsent: (key, value, ttl) =>
        withNow((now) => {
          if (live(key, now) !== undefined) return false
          put(key, value, ttl, now)
          return true
        }),
      take: (key) =>
        withNow((now) => {
          const entry = live(key, now)
          entries.delete(key)
          return Option.fromNullable(entry?.value)
        }),
      compareAndSet: (key, expected, next, ttl) =>
        withNow((now) => {
          if (live(key, now)?.value !== expected) return false
          put(key, next, ttl, now)
          return true
        }),
      delete: (key) => Effect.sync(() => void entries.delete(key)),
      increment: (key, window) =>
        withNow((now) => {
          const entry = live(key, now)
          const count = (entry === undefined ? 0 : Number(entry.value)) + 1
          // a new counter goes through the bounded insert; an existing one keeps the window of its first increment
          if (entry === undefined) put(key, String(count), window, now)
          else entries.set(key, { value: String(count), expiresAt: entry.expiresAt })
          return count
        })
    }
  })

/** The in-memory store as a layer (the embedded default). */
export const layerMemory = (options: { readonly maxEntries?: number } = {}): Layer.Layer<Store> =>
  Layer.effect(Store, makeMemory(options))
