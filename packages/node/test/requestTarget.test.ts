import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { requestTarget } from "../src/requestTarget.js"

// what the URL parser makes of a target: the one reading every target must agree with
const parsed = (target: string) => {
  try {
    const url = new URL(target, "http://localhost")
    return { pathname: url.pathname, search: url.search }
  } catch {
    return { pathname: "/", search: "" }
  }
}

describe("requestTarget", () => {
  it.each([
    "/mcp",
    "/",
    "/.well-known/oauth-protected-resource/mcp",
    "/mcp/",
    "//mcp",
    "/./mcp",
    "/a/../mcp",
    "/.well-known/../mcp",
    "/%2e%2e/mcp",
    "/mcp?x=1",
    "/mcp#frag",
    "/m%63p",
    "/a\\b",
    "/..",
    "/.",
    "/a/.",
    "/a/..."
  ])("reads %s as the URL parser does", (target) => {
    expect(requestTarget(target)).toEqual(parsed(target))
  })

  it("agrees with the URL parser on any target built from path characters", () => {
    const piece = fc.constantFrom("/", ".", "..", "a", "mcp", "-", "_", "~", "%2e", "%2F", "?", "#", "\\", " ", "=", "@")
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const target = `/${pieces.join("")}`
        expect(requestTarget(target)).toEqual(parsed(target))
      }),
      { numRuns: 2000 }
    )
  })
})
