import { describe, expect, it } from "@effect/vitest"
import * as Authorization from "../src/Authorization.js"

const call = (name: string) => ({ jsonrpc: "2.0", id: name, method: "tools/call", params: { name } })

describe("Authorization.scopesFor", () => {
  it("collects the scopes of every operation of a batch, once each", () => {
    const policy = new Authorization.Policy()
      .set("tool", "report", { scopes: ["reports:read", "mcp"] })
      .set("tool", "delete", { scopes: ["admin", "mcp"] })
      .set("resource", "file:///secret", { scopes: ["files"] })
    expect(Authorization.scopesFor(policy, [call("report"), call("delete"), call("open")]).sort()).toEqual(["admin", "mcp", "reports:read"])
    expect(Authorization.scopesFor(policy, { jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "file:///secret" } })).toEqual(["files"])
    expect(Authorization.scopesFor(policy, call("open"))).toEqual([])
  })

  it("knows when no operation needs a scope, and follows replacements", () => {
    const policy = new Authorization.Policy().set("tool", "report", { roles: ["auditor"] })
    expect(policy.requiresScopes).toBe(false)
    expect(Authorization.scopesFor(policy, call("report"))).toEqual([])
    policy.set("tool", "delete", { scopes: ["admin"] })
    expect(policy.requiresScopes).toBe(true)
    expect(Authorization.scopesFor(policy, call("delete"))).toEqual(["admin"])
    policy.set("tool", "delete", { roles: ["admin"] })
    expect(policy.requiresScopes).toBe(false)
    expect(Authorization.scopesFor(policy, call("delete"))).toEqual([])
  })
})
