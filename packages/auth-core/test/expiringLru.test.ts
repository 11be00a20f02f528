import { describe, expect, it } from "vitest"
import * as ExpiringLru from "../src/internal/expiringLru.js"

describe("ExpiringLru", () => {
  it("drops the least recently used entry when full: a hit keeps an old entry", () => {
    const lru = ExpiringLru.make<string>(2)
    lru.set("a", "A", 1_000, 0)
    lru.set("b", "B", 1_000, 0)
    expect(lru.get("a", 1)).toBe("A")
    lru.set("c", "C", 1_000, 2)
    expect(lru.get("b", 3)).toBeUndefined()
    expect(lru.get("a", 3)).toBe("A")
    expect(lru.get("c", 3)).toBe("C")
    expect(lru.size()).toBe(2)
  })

  it("serves an entry until its deadline and never after", () => {
    const lru = ExpiringLru.make<string>(10)
    lru.set("a", "A", 100, 0)
    expect(lru.get("a", 99)).toBe("A")
    expect(lru.get("a", 100)).toBeUndefined()
    expect(lru.size()).toBe(0)
  })

  it("stores nothing whose deadline has passed, and nothing at all with a bound of 0", () => {
    const lru = ExpiringLru.make<string>(10)
    lru.set("late", "L", 50, 50)
    expect(lru.size()).toBe(0)
    const off = ExpiringLru.make<string>(0)
    off.set("a", "A", 1_000, 0)
    expect(off.get("a", 1)).toBeUndefined()
    expect(off.size()).toBe(0)
  })

  it("makes room with an expired oldest entry before evicting a live one", () => {
    const lru = ExpiringLru.make<string>(2)
    lru.set("old", "O", 10, 0)
    lru.set("live", "L", 1_000, 0)
    lru.set("new", "N", 1_000, 20)
    expect(lru.get("live", 21)).toBe("L")
    expect(lru.get("new", 21)).toBe("N")
  })
})
