import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import * as TokenVerifier from "../src/TokenVerifier.js"

const verify = (fn: TokenVerifier.VerifyFunction, token = "opaque-token") =>
  Effect.either(TokenVerifier.fromFunction(fn).verify(Redacted.make(token)))

describe("TokenVerifier.fromFunction", () => {
  it.effect("maps a user function's result to AuthInfo", () =>
    Effect.gen(function* () {
      const result = yield* verify(async (token) => ({
        subject: `user-of-${token}`,
        scopes: ["mcp"],
        clientId: "c",
        user: { email: "a@example.com", roles: ["admin"] }
      }))
      const info = Either.getOrThrow(result)
      expect(info.subject).toBe("user-of-opaque-token")
      expect(info.user).toEqual({ userId: "user-of-opaque-token", email: "a@example.com", name: undefined, roles: ["admin"], permissions: [] })
      expect(info.scopes).toEqual(["mcp"])
      expect(Redacted.value(info.token)).toBe("opaque-token")
    })
  )

  const failures: Array<[string, TokenVerifier.VerifyFunction]> = [
    ["a synchronous throw", () => {
      throw new Error("boom")
    }],
    ["a rejection", async () => Promise.reject(new Error("nope"))],
    ["a thrown non-error", () => {
      throw "string"
    }],
    ["an empty subject", async () => ({ subject: "" })],
    ["a missing result", async () => undefined as never],
    ["a non-string subject", async () => ({ subject: 42 as never })]
  ]
  for (const [name, fn] of failures) {
    it.effect(`turns ${name} into invalid_token`, () =>
      Effect.gen(function* () {
        const result = yield* verify(fn)
        expect(Either.isLeft(result) && result.left._tag).toBe("InvalidToken")
        expect(Either.isLeft(result) && result.left.reason).toBe("rejected")
      })
    )
  }
})
