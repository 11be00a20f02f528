import { describe, expect, it } from "@effect/vitest"
import { runStoreContract } from "@mcp-oauth/testing/store"
import { Effect, Option, TestClock } from "effect"
import * as Store from "../src/Store.js"

// every namespace is a store of its own: the in-memory store is one process's, so instances never share
runStoreContract("in-memory", () => Store.makeMemory(), { clock: "test" })

describe("Store.makeMemory bound", () => {
  it.effect("when full, drops the entry closest to expiry to admit a new key", () =>
    Effect.gen(function* () {
      const store = yield* Store.makeMemory({ maxEntries: 3 })
      yield* store.set("late", "1", "30 minutes")
      yield* store.set("soonest", "2", "1 minute")
      yield* store.set("middle", "3", "10 minutes")
      yield* store.set("new", "4", "20 minutes")
      expect(yield* store.get("soonest")).toEqual(Option.none())
      expect(yield* store.get("late")).toEqual(Option.some("1"))
      expect(yield* store.get("middle")).toEqual(Option.some("3"))
      expect(yield* store.get("new")).toEqual(Option.some("4"))
    })
  )

  it.effect("reclaims an expired entry before dropping a live one", () =>
    Effect.gen(function* () {
      const store = yield* Store.makeMemory({ maxEntries: 2 })
      yield* store.set("long", "1", "1 hour")
      yield* store.set("short", "2", "1 minute")
      yield* TestClock.adjust("2 minutes")
      yield* store.set("new", "3", "1 hour")
      expect(yield* store.get("long")).toEqual(Option.some("1"))
      expect(yield* store.get("new")).toEqual(Option.some("3"))
      expect(yield* store.get("short")).toEqual(Option.none())
    })
  )

  it.effect("overwriting a key when full evicts nothing", () =>
    Effect.gen(function* () {
      const store = yield* Store.makeMemory({ maxEntries: 2 })
      yield* store.set("a", "1", "1 minute")
      yield* store.set("b", "2", "1 hour")
      yield* store.set("a", "updated", "1 minute")
      expect(yield* store.compareAndSet("b", "2", "3", "1 hour")).toBe(true)
      expect(yield* store.get("a")).toEqual(Option.some("updated"))
      expect(yield* store.get("b")).toEqual(Option.some("3"))
    })
  )

  it.effect("never holds more than maxEntries keys, whatever the operations", () =>
    Effect.gen(function* () {
      const store = yield* Store.makeMemory({ maxEntries: 5 })
      for (let i = 0; i < 50; i++) {
        if (i % 3 === 0) yield* store.setIfAbsent(`k${i}`, "v", `${i + 1} minutes`)
        else yield* store.set(`k${i}`, "v", `${i + 1} minutes`)
      }
      const live = yield* Effect.filter(
        Array.from({ length: 50 }, (_, i) => `k${i}`),
        (key) => Effect.map(store.get(key), Option.isSome)
      )
      // the longest-lived keys survive
      expect(live).toEqual(["k45", "k46", "k47", "k48", "k49"])
    })
  )

  // an attacker rotating rate-limit keys must not grow the map without limit
  it.effect("counters count toward maxEntries too", () =>
    Effect.gen(function* () {
      const store = yield* Store.makeMemory({ maxEntries: 3 })
      for (let i = 0; i < 10; i++) yield* store.increment(`client-${i}`, `${i + 1} minutes`)
      const live = yield* Effect.filter(
        Array.from({ length: 10 }, (_, i) => `client-${i}`),
        (key) => Effect.map(store.get(key), Option.isSome)
      )
      expect(live).toEqual(["client-7", "client-8", "client-9"])
    })
  )

  it.effect("the layer provides the Store service", () =>
    Effect.gen(function* () {
      const store = yield* Store.Store
      yield* store.set("k", "v", "1 minute")
      expect(yield* store.take("k")).toEqual(Option.some("v"))
    }).pipe(Effect.provide(Store.layerMemory()))
  )
})
