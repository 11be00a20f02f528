import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either, Exit, Redacted } from "effect"
import type { AuthInfo } from "../../src/AuthInfo.js"
import { refine } from "../../src/providers/internal/selfHosted.js"
import type { Service } from "../../src/TokenVerifier.js"
import * as VerifiedTokenCache from "../../src/VerifiedTokenCache.js"

// an inner verifier accepting every token; the claim `bad` marks the ones the refinement refuses
const inner: Service = {
  verify: (token) =>
    Effect.sync((): AuthInfo => {
      const name = Redacted.value(token)
      return {
        token,
        subject: name,
        issuer: "https://idp.example.com",
        audience: [],
        clientId: undefined,
        scopes: [],
        expiresAt: Math.floor(Date.now() / 1000) + 600,
        claims: { sub: name, bad: name.startsWith("bad") },
        user: { userId: name, roles: [], permissions: [] }
      }
    })
}

describe("refine over a verifier that holds verdicts", () => {
  it.effect("applies the refinement to a held verdict exactly as to a verification", () =>
    Effect.gen(function* () {
      const refused: Array<string> = []
      const refined = refine(yield* VerifiedTokenCache.make(inner), {
        check: (claims) => (claims["bad"] === true ? "missing_claim" : undefined),
        user: (info) => ({ ...info.user, roles: ["mapped"] }),
        onInvalid: (token) => Effect.sync(() => void refused.push(token))
      })
      expect(refined.immediate).toBeDefined()
      for (const name of ["good", "bad-1"]) yield* Effect.either(refined.verify(Redacted.make(name)))

      // accepted: the held verdict goes through the same user mapping
      const good = refined.immediate!(Redacted.make("good"), yield* Clock.currentTimeMillis)
      expect(good !== undefined && Exit.isSuccess(good) && good.value.user.roles).toEqual(["mapped"])
      // refused: nothing is answered synchronously, so the verification refuses it again and tells onInvalid
      expect(refined.immediate!(Redacted.make("bad-1"), yield* Clock.currentTimeMillis)).toBeUndefined()
      const again = yield* Effect.either(refined.verify(Redacted.make("bad-1")))
      expect(Either.isLeft(again) && again.left._tag === "InvalidToken" && again.left.reason).toBe("missing_claim")
      expect(refused).toEqual(["bad-1", "bad-1"])
    })
  )

  it("holds nothing when the verifier it refines holds nothing", () => {
    expect(refine(inner, { check: () => undefined }).immediate).toBeUndefined()
  })

  it.effect("without onInvalid, refuses a held verdict at once, as verify would", () =>
    Effect.gen(function* () {
      const refined = refine(yield* VerifiedTokenCache.make(inner), { check: (claims) => (claims["bad"] === true ? "missing_claim" : undefined) })
      yield* Effect.either(refined.verify(Redacted.make("bad-2")))
      const verdict = refined.immediate!(Redacted.make("bad-2"), yield* Clock.currentTimeMillis)
      expect(verdict !== undefined && Exit.isFailure(verdict)).toBe(true)
    })
  )
})
