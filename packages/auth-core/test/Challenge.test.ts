import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Challenge from "../src/Challenge.js"

const metadataUrl = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

describe("Challenge.render", () => {
  it("carries only resource_metadata and scope when no error is given", () => {
    const header = Challenge.render({ resourceMetadata: metadataUrl, scope: ["mcp", "files:read"] })
    expect(header).toBe(`Bearer resource_metadata="${metadataUrl}", scope="mcp files:read"`)
  })

  it("drops scopes that are not valid scope tokens rather than emitting a broken header", () => {
    const header = Challenge.render({ resourceMetadata: metadataUrl, scope: ["ok", 'bad"quote', "sp ace", ""] })
    expect(Challenge.parse(header)?.params.get("scope")).toBe("ok")
  })

  it("neutralises attribute-like text in error_description", () => {
    const header = Challenge.render({
      resourceMetadata: metadataUrl,
      error: "invalid_token",
      errorDescription: 'nope", scope="admin", resource_metadata="https://evil.example'
    })
    const parsed = Challenge.parse(header)
    expect(parsed).toBeDefined()
    expect(parsed!.params.get("resource_metadata")).toBe(metadataUrl)
    expect(parsed!.params.has("scope")).toBe(false)
    expect(parsed!.params.get("error_description")).not.toMatch(/scope\s*=|resource_metadata\s*=/)
  })

  it("round-trips through the strict parser for arbitrary scopes and descriptions", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }),
        fc.option(fc.string({ unit: "binary", maxLength: 300 }), { nil: undefined }),
        fc.constantFrom<Array<"invalid_request" | "invalid_token" | "insufficient_scope" | undefined>>("invalid_request", "invalid_token", "insufficient_scope", undefined),
        (scopes, description, error) => {
          const header = Challenge.render({ resourceMetadata: metadataUrl, scope: scopes, error, errorDescription: description })
          const parsed = Challenge.parse(header)
          expect(parsed).toBeDefined()
          expect(parsed!.scheme).toBe("Bearer")
          expect(parsed!.params.get("resource_metadata")).toBe(metadataUrl)
          const validScopes = scopes.filter(Challenge.isScopeToken)
          expect(parsed!.params.get("scope")).toBe(validScopes.length > 0 ? validScopes.join(" ") : undefined)
          expect(parsed!.params.get("error")).toBe(error)
          const rendered = parsed!.params.get("error_description")
          if (error === undefined || description === undefined) expect(rendered).toBeUndefined()
          else {
            expect(rendered).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/)
            expect(rendered).not.toMatch(/(scope|resource_metadata|error|realm)\s*=/i)
          }
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("Challenge.parse", () => {
  it.each([
    ["Bearer", "no parameters"],
    ['Bearer resource_metadata=unquoted', "token68-style value"],
    ['Bearer a="1",, b="2"', "empty list element"],
    ['Bearer a="1" b="2"', "missing comma"],
    ['Bearer a="1", a="2"', "repeated attribute"],
    ['Bearer a="unterminated', "unterminated quote"]
  ])("refuses %s (%s)", (header) => {
    expect(Challenge.parse(header)).toBeUndefined()
  })

  it("unescapes quoted pairs", () => {
    expect(Challenge.parse('Bearer realm="a\\"b"')?.params.get("realm")).toBe('a"b')
  })
})
