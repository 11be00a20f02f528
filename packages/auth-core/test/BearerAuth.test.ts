import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { parseAuthorization } from "../src/BearerAuth.js"

const parse = (values: Array<string>) =>
  Effect.runSync(Effect.either(parseAuthorization(values)).pipe(Effect.map(Either.map(Redacted.value))))

describe("parseAuthorization (RFC 6750 §2.1)", () => {
  it.each([
    ["Bearer abc.def-ghi_jkl~mno+pq/rs==", "abc.def-ghi_jkl~mno+pq/rs=="],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["Bearer   abc", "abc"]
  ])("reads %s", (header, token) => {
    expect(parse([header])).toEqual(Either.right(token))
  })

  it.each([[[]], [["Basic dXNlcjpwYXNz"]], [["DPoP abc"]], [["Bearerabc"]]])("%j is a missing token", (values) => {
    const result = parse(values)
    expect(Either.isLeft(result) && result.left._tag).toBe("MissingToken")
  })

  it.each([
    [["Bearer"]],
    [["Bearer "]],
    [["Bearer a b"]],
    [["Bearer a,b"]],
    [["Bearer a=b"]],
    [['Bearer "abc"']],
    [["Bearer\tabc"]],
    [["Bearer abc", "Bearer abc"]],
    [["Bearer abc, Bearer def"]]
  ])("%j is an invalid request", (values) => {
    const result = parse(values)
    expect(Either.isLeft(result) && result.left._tag).toBe("InvalidRequest")
  })
})
