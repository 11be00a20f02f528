import { describe, expect, it } from "@effect/vitest"
import * as ResourceUrl from "../src/ResourceUrl.js"

describe("ResourceUrl", () => {
  it.each([
    ["https://MCP.Example.com/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com/", "https://mcp.example.com"],
    ["http://127.0.0.1:3000/mcp", "http://127.0.0.1:3000/mcp"],
    ["https://mcp.example.com/mcp/", "https://mcp.example.com/mcp/"]
  ])("canonicalizes %s", (input, expected) => {
    expect(ResourceUrl.canonicalize(input)).toEqual({ url: expected })
  })

  it.each([
    ["not a url", "not_a_url"],
    ["ftp://mcp.example.com/mcp", "scheme"],
    ["https://mcp.example.com/mcp#x", "fragment"],
    ["https://user:pw@mcp.example.com/mcp", "userinfo"],
    ["http://mcp.example.com/mcp", "insecure"]
  ])("refuses %s", (input, problem) => {
    expect(ResourceUrl.canonicalize(input)).toEqual({ problem })
  })

  it("compares audiences as exact strings (RFC 7519 §2) against the configured value or its canonical form", () => {
    const resource = "https://mcp.example.com/mcp"
    expect(ResourceUrl.sameResource(resource, resource)).toBe(true)
    expect(ResourceUrl.sameResource(resource, "https://MCP.example.com:443/mcp")).toBe(true)
    expect(ResourceUrl.sameResource("api://default", "api://default")).toBe(true)
    expect(ResourceUrl.sameResource("https://MCP.example.com/mcp", resource)).toBe(false)
    expect(ResourceUrl.sameResource("https://mcp.example.com/mcp/", resource)).toBe(false)
    expect(ResourceUrl.sameResource("https://mcp.example.com/mcpx", resource)).toBe(false)
    expect(ResourceUrl.sameResource("https://mcp.example.com", resource)).toBe(false)
    expect(ResourceUrl.sameResource("https://mcp.example.com.evil/mcp", resource)).toBe(false)
    expect(ResourceUrl.sameResource(" https://mcp.example.com/mcp", resource)).toBe(false)
  })

  it("inserts well-known suffixes between host and path", () => {
    expect(ResourceUrl.protectedResourceMetadataUrl("https://h.example/mcp")).toBe(
      "https://h.example/.well-known/oauth-protected-resource/mcp"
    )
    expect(ResourceUrl.wellKnownUrl("https://h.example", "oauth-authorization-server")).toBe(
      "https://h.example/.well-known/oauth-authorization-server"
    )
    expect(ResourceUrl.wellKnownUrl("https://h.example/tenant/", "openid-configuration")).toBe(
      "https://h.example/.well-known/openid-configuration/tenant"
    )
  })
})
