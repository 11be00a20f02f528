import { describe, expect, it } from "@effect/vitest"
import * as ClaimMapping from "../src/ClaimMapping.js"

describe("ClaimMapping", () => {
  const claims = JSON.parse(
    '{"sub":"u1","email":"u@example.com","name":"U","https://example.com/roles":["editor"],' +
      '"realm_access":{"roles":["admin","user"]},"permissions":["read:files"],"scope":"a b","scp":["b","c"],' +
      '"__proto__":{"polluted":true}}'
  )

  it("reads namespaced claim names literally and dotted paths into nested objects", () => {
    const user = ClaimMapping.toUser(claims, { roles: ["https://example.com/roles", "realm_access.roles"] })
    expect(user).toEqual({ userId: "u1", email: "u@example.com", name: "U", roles: ["editor", "admin", "user"], permissions: ["read:files"] })
  })

  it("merges scope and scp without repeats", () => {
    expect(ClaimMapping.scopes(claims)).toEqual(["a", "b", "c"])
  })

  it("never walks inherited properties", () => {
    expect(ClaimMapping.read(claims, "__proto__.polluted")).toBe(true)
    expect(ClaimMapping.read({ sub: "x" }, "constructor")).toBeUndefined()
    expect(ClaimMapping.read({ sub: "x" }, "toString")).toBeUndefined()
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
  })

  it("ignores values of the wrong type", () => {
    const user = ClaimMapping.toUser({ sub: "u", email: 42, name: "", roles: "a b", permissions: [1, "p"] })
    expect(user).toEqual({ userId: "u", email: undefined, name: undefined, roles: ["a", "b"], permissions: ["p"] })
  })
})
