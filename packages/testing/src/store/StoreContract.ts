/**
 * The behaviour every implementation of the auth-core Store must show: values and TTLs, set-if-absent, single-use
 * take and compare-and-set under concurrency, fixed increment windows, delete, and isolation between namespaces.
 * Run against the in-memory store with TestClock, and against a server-backed store with real time and, when
 * instances share data, across two instances.
 */
import type * as Store from "@mcp-oauth/auth-core/Store"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { describe, expect, it } from "vitest"

/** How the contract is run for one store. */
export interface StoreContractOptions {
  /**
   * How time passes in TTL tests: `"test"` adjusts Effect's TestClock (a store that reads Effect's Clock, such as
   * the in-memory one), `"live"` sleeps for real (a store whose server keeps time). Default `"test"`.
   */
  readonly clock?: "test" | "live" | undefined
  /** The short TTL of expiry tests (default 200 ms): long enough for a few round trips to a live store. */
  readonly ttl?: Duration.DurationInput | undefined
  /**
   * Whether two stores made with the same namespace are two instances on the same data (e.g. two connections to
   * one Redis); then the concurrency tests spread their calls over two instances. Default false.
   */
  readonly sharedInstances?: boolean | undefined
  /** How many calls race in the concurrency tests (default 50). */
  readonly concurrency?: number | undefined
}

/**
 * Makes a store whose keys live in `namespace`: stores of different namespaces never see each other's keys; with
 * {@link StoreContractOptions.sharedInstances}, stores of the same namespace share them. Each test uses fresh
 * namespaces, so a store needs no cleaning between tests.
 */
export type MakeStore = (namespace: string) => Effect.Effect<Store.Service, never, Scope.Scope>

let namespaces = 0
const freshNamespace = () => `contract-${Date.now().toString(36)}-${(namespaces++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** Defines the contract's tests for one store. */
export const runStoreContract = (name: string, makeStore: MakeStore, options: StoreContractOptions = {}): void => {
  const clock = options.clock ?? "test"
  const ttl = Duration.decode(options.ttl ?? "200 millis")
  const n = options.concurrency ?? 50
  const shared = options.sharedInstances ?? false
  const times = (factor: number) => Duration.times(ttl, factor)

  /** Lets `duration` pass for the store. */
  const elapse = (duration: Duration.Duration): Effect.Effect<void> =>
    clock === "test" ? TestClock.adjust(duration) : Effect.sleep(duration)

  /** The instances of one namespace the concurrency tests spread their calls over. */
  const instances = Effect.gen(function* () {
    const namespace = freshNamespace()
    const first = yield* makeStore(namespace)
    const all = shared ? [first, yield* makeStore(namespace)] : [first]
    const at = (i: number): Store.Service => all[i % all.length] ?? first
    return { first, at }
  })

  const test = (title: string, body: Effect.Effect<void, unknown, Scope.Scope>) =>
    it(title, () => {
      const scoped = Effect.scoped(body)
      return Effect.runPromise(clock === "test" ? Effect.provide(scoped, TestContext.TestContext) : scoped)
    })

  const fresh = Effect.suspend(() => makeStore(freshNamespace()))

  describe(`${name}: store contract`, () => {
    describe("get and set", () => {
      test(
        "a missing key has no value",
        Effect.gen(function* () {
          const store = yield* fresh
          expect(yield* store.get("missing")).toEqual(Option.none())
        })
      )

      test(
        "set stores values exactly: empty, unicode, JSON, multi-line and long",
        Effect.gen(function* () {
          const store = yield* fresh
          const values = ["", "héllo ☃ 🔐", JSON.stringify({ a: [1, "two"] }), " spaced \r\n lines ", "x".repeat(20_000)]
          for (const [i, value] of values.entries()) yield* store.set(`key:${i} with spaces/🔑`, value, times(20))
          for (const [i, value] of values.entries()) {
            expect(yield* store.get(`key:${i} with spaces/🔑`)).toEqual(Option.some(value))
          }
        })
      )

      test(
        "a key is gone once its TTL has passed, and live until then",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("k", "v", ttl)
          expect(yield* store.get("k")).toEqual(Option.some("v"))
          if (clock === "test") {
            yield* elapse(Duration.subtract(ttl, Duration.millis(1)))
            expect(yield* store.get("k")).toEqual(Option.some("v"))
          }
          yield* elapse(times(1.5))
          expect(yield* store.get("k")).toEqual(Option.none())
        })
      )

      test(
        "set replaces the value and its TTL",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("k", "first", ttl)
          yield* store.set("k", "second", times(20))
          yield* elapse(times(1.5))
          expect(yield* store.get("k")).toEqual(Option.some("second"))
          yield* store.set("k", "third", ttl)
          yield* elapse(times(1.5))
          expect(yield* store.get("k")).toEqual(Option.none())
        })
      )
    })

    describe("setIfAbsent", () => {
      test(
        "sets an absent key only, and an expired key counts as absent",
        Effect.gen(function* () {
          const store = yield* fresh
          expect(yield* store.setIfAbsent("k", "first", ttl)).toBe(true)
          expect(yield* store.setIfAbsent("k", "second", times(20))).toBe(false)
          expect(yield* store.get("k")).toEqual(Option.some("first"))
          yield* elapse(times(1.5))
          expect(yield* store.setIfAbsent("k", "third", times(20))).toBe(true)
          expect(yield* store.get("k")).toEqual(Option.some("third"))
        })
      )

      test(
        `of ${n} concurrent calls exactly one sets the key, and its value stays`,
        Effect.gen(function* () {
          const { at, first } = yield* instances
          const results = yield* Effect.all(
            Array.from({ length: n }, (_, i) => at(i).setIfAbsent("k", `value-${i}`, times(20))),
            { concurrency: "unbounded" }
          )
          const winners = results.flatMap((won, i) => (won ? [i] : []))
          expect(winners).toHaveLength(1)
          expect(yield* first.get("k")).toEqual(Option.some(`value-${winners[0]}`))
        })
      )
    })

    describe("take", () => {
      test(
        "returns a value once and deletes it",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("code", "payload", times(20))
          expect(yield* store.take("code")).toEqual(Option.some("payload"))
          expect(yield* store.take("code")).toEqual(Option.none())
          expect(yield* store.get("code")).toEqual(Option.none())
          expect(yield* store.take("never-set")).toEqual(Option.none())
          expect(yield* store.setIfAbsent("code", "again", times(20))).toBe(true)
        })
      )

      test(
        "does not return an expired value",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("code", "payload", ttl)
          yield* elapse(times(1.5))
          expect(yield* store.take("code")).toEqual(Option.none())
        })
      )

      test(
        `of ${n} concurrent takes${shared ? " over two instances" : ""} exactly one gets the value`,
        Effect.gen(function* () {
          const { at, first } = yield* instances
          for (let round = 0; round < 3; round++) {
            yield* first.set("code", `payload-${round}`, times(20))
            const results = yield* Effect.all(
              Array.from({ length: n }, (_, i) => at(i + round).take("code")),
              { concurrency: "unbounded" }
            )
            expect(results.filter(Option.isSome)).toEqual([Option.some(`payload-${round}`)])
          }
        })
      )
    })

    describe("compareAndSet", () => {
      test(
        "replaces only the expected value, and never creates a key",
        Effect.gen(function* () {
          const store = yield* fresh
          expect(yield* store.compareAndSet("k", "anything", "next", times(20))).toBe(false)
          expect(yield* store.get("k")).toEqual(Option.none())
          yield* store.set("k", "v1", times(20))
          expect(yield* store.compareAndSet("k", "other", "next", times(20))).toBe(false)
          expect(yield* store.get("k")).toEqual(Option.some("v1"))
          expect(yield* store.compareAndSet("k", "v1", "v2", times(20))).toBe(true)
          expect(yield* store.get("k")).toEqual(Option.some("v2"))
          // replaying the rotation from the old value fails
          expect(yield* store.compareAndSet("k", "v1", "v3", times(20))).toBe(false)
          expect(yield* store.get("k")).toEqual(Option.some("v2"))
        })
      )

      test(
        "gives the new value a fresh TTL",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("k", "v1", ttl)
          expect(yield* store.compareAndSet("k", "v1", "v2", times(4))).toBe(true)
          yield* elapse(times(1.5))
          expect(yield* store.get("k")).toEqual(Option.some("v2"))
          yield* elapse(times(3))
          expect(yield* store.get("k")).toEqual(Option.none())
        })
      )

      test(
        "does not match an expired value",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("k", "v1", ttl)
          yield* elapse(times(1.5))
          expect(yield* store.compareAndSet("k", "v1", "v2", times(20))).toBe(false)
          expect(yield* store.get("k")).toEqual(Option.none())
        })
      )

      test(
        `of ${n} concurrent swaps from the same value${shared ? " over two instances" : ""} exactly one wins`,
        Effect.gen(function* () {
          const { at, first } = yield* instances
          yield* first.set("refresh", "generation-0", times(20))
          const results = yield* Effect.all(
            Array.from({ length: n }, (_, i) => at(i).compareAndSet("refresh", "generation-0", `next-${i}`, times(20))),
            { concurrency: "unbounded" }
          )
          const winners = results.flatMap((won, i) => (won ? [i] : []))
          expect(winners).toHaveLength(1)
          expect(yield* first.get("refresh")).toEqual(Option.some(`next-${winners[0]}`))
        })
      )
    })

    describe("increment", () => {
      test(
        "counts from 1 in a window that starts at the first increment and is not extended",
        Effect.gen(function* () {
          const store = yield* fresh
          const window = times(4)
          expect(yield* store.increment("hits", window)).toBe(1)
          expect(yield* store.increment("hits", window)).toBe(2)
          expect(yield* store.increment("hits", window)).toBe(3)
          yield* elapse(ttl)
          expect(yield* store.increment("hits", window)).toBe(4)
          // past the window of the first increment, though not of the last one
          yield* elapse(times(3.2))
          expect(yield* store.increment("hits", window)).toBe(1)
          expect(yield* store.increment("hits", window)).toBe(2)
        })
      )

      test(
        "counters of different keys are independent",
        Effect.gen(function* () {
          const store = yield* fresh
          expect(yield* store.increment("a", times(20))).toBe(1)
          expect(yield* store.increment("a", times(20))).toBe(2)
          expect(yield* store.increment("b", times(20))).toBe(1)
        })
      )

      test(
        `${n} concurrent increments${shared ? " over two instances" : ""} count to ${n}, each count seen once`,
        Effect.gen(function* () {
          const { at } = yield* instances
          const results = yield* Effect.all(
            Array.from({ length: n }, (_, i) => at(i).increment("hits", times(20))),
            { concurrency: "unbounded" }
          )
          expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
        })
      )
    })

    describe("delete", () => {
      test(
        "removes a key, and deleting a missing key succeeds",
        Effect.gen(function* () {
          const store = yield* fresh
          yield* store.set("k", "v", times(20))
          yield* store.delete("k")
          expect(yield* store.get("k")).toEqual(Option.none())
          expect(yield* store.take("k")).toEqual(Option.none())
          yield* store.delete("k")
          yield* store.delete("never-set")
          expect(yield* store.setIfAbsent("k", "again", times(20))).toBe(true)
          yield* store.increment("counter", times(20))
          yield* store.delete("counter")
          expect(yield* store.increment("counter", times(20))).toBe(1)
        })
      )
    })

    describe("namespaces", () => {
      test(
        "stores of different namespaces never see each other's keys",
        Effect.gen(function* () {
          const a = yield* fresh
          const b = yield* fresh
          yield* a.set("k", "a", times(20))
          expect(yield* b.get("k")).toEqual(Option.none())
          expect(yield* b.take("k")).toEqual(Option.none())
          expect(yield* b.compareAndSet("k", "a", "b", times(20))).toBe(false)
          expect(yield* b.setIfAbsent("k", "b", times(20))).toBe(true)
          yield* a.increment("n", times(20))
          expect(yield* b.increment("n", times(20))).toBe(1)
          yield* b.delete("k")
          expect(yield* a.get("k")).toEqual(Option.some("a"))
        })
      )

      if (shared) {
        test(
          "two instances of one namespace share every key",
          Effect.gen(function* () {
            const namespace = freshNamespace()
            const a = yield* makeStore(namespace)
            const b = yield* makeStore(namespace)
            yield* a.set("k", "v1", times(20))
            expect(yield* b.get("k")).toEqual(Option.some("v1"))
            expect(yield* b.compareAndSet("k", "v1", "v2", times(20))).toBe(true)
            expect(yield* a.get("k")).toEqual(Option.some("v2"))
            expect(yield* a.setIfAbsent("k", "v3", times(20))).toBe(false)
            expect(yield* b.take("k")).toEqual(Option.some("v2"))
            expect(yield* a.get("k")).toEqual(Option.none())
            expect(yield* a.increment("n", times(20))).toBe(1)
            expect(yield* b.increment("n", times(20))).toBe(2)
            yield* b.delete("n")
            expect(yield* a.increment("n", times(20))).toBe(1)
          })
        )
      }
    })
  })
}
