import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either, Exit, FastCheck as fc, Layer, Redacted, Runtime, TestClock } from "effect"
import * as jose from "jose"
import type { AuthInfo } from "../src/AuthInfo.js"
import { InvalidToken } from "../src/Errors.js"
import * as JwtVerifier from "../src/JwtVerifier.js"
import { TokenVerifier, type Service } from "../src/TokenVerifier.js"
import * as VerifiedTokenCache from "../src/VerifiedTokenCache.js"
import { keyPair, staticJwks } from "./support/staticJwks.js"

// TestClock starts at 0; principals expire relative to this instant (seconds)
const start = 1_000_000

/** The principal an inner verifier here gives for `name`, without its token. */
const principalOf = (name: string, expiresAt: number | undefined): Omit<AuthInfo, "token"> => ({
  subject: `user-of-${name}`,
  issuer: "https://idp.example.com",
  audience: ["https://mcp.example.com/mcp"],
  clientId: "client",
  scopes: ["mcp"],
  expiresAt,
  claims: { sub: `user-of-${name}`, nested: { roles: ["reader"] } },
  user: { userId: `user-of-${name}`, roles: ["reader"], permissions: [] }
})

/** An inner verifier that counts its calls and accepts every token, expiring at `expiresAt(token)`. */
const counting = (expiresAt: (token: string) => number | undefined = () => start + 3600) => {
  const calls: Array<string> = []
  const verifier: Service = {
    verify: (redacted) =>
      Effect.sync((): AuthInfo => {
        const token = Redacted.value(redacted)
        calls.push(token)
        return { ...principalOf(token, expiresAt(token)), token: redacted }
      })
  }
  return { verifier, calls }
}

const verifyWith = (cache: Service, token: string) => cache.verify(Redacted.make(token))

describe("VerifiedTokenCache", () => {
  it.effect("verifies a repeated token once, and hands back the token the request presented", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const cache = yield* VerifiedTokenCache.make(inner.verifier)
      const first = yield* verifyWith(cache, "t1")
      const presented = Redacted.make("t1")
      const second = yield* cache.verify(presented)
      expect(inner.calls).toEqual(["t1"])
      expect(second.subject).toBe("user-of-t1")
      expect(second.token).toBe(presented)
      expect(Redacted.value(first.token)).toBe("t1")
      expect(yield* cache.size).toBe(1)
    })
  )

  it.effect("serves an entry until the token's exp and not a moment longer", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting(() => start + 30)
      const cache = yield* VerifiedTokenCache.make(inner.verifier, { maxTtl: "1 hour" })
      yield* verifyWith(cache, "t")
      yield* TestClock.adjust("29999 millis")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(2)
    })
  )

  it.effect("never serves an entry longer than maxTtl, however late the token expires", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting(() => start + 86_400)
      const cache = yield* VerifiedTokenCache.make(inner.verifier, { maxTtl: "10 seconds" })
      yield* verifyWith(cache, "t")
      yield* TestClock.adjust("9 seconds")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(2)
    })
  )

  it.effect("uses the default maxTtl of one minute", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const cache = yield* VerifiedTokenCache.make(inner.verifier)
      yield* verifyWith(cache, "t")
      yield* TestClock.adjust("59 seconds")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      yield* verifyWith(cache, "t")
      expect(inner.calls).toHaveLength(2)
    })
  )

  it.effect("does not cache principals without an expiry, or already expired", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting((token) => (token === "no-exp" ? undefined : start))
      const cache = yield* VerifiedTokenCache.make(inner.verifier)
      for (let i = 0; i < 2; i++) {
        yield* verifyWith(cache, "no-exp")
        yield* verifyWith(cache, "expired")
      }
      expect(inner.calls).toEqual(["no-exp", "expired", "no-exp", "expired"])
      expect(yield* cache.size).toBe(0)
    })
  )

  it.effect("never caches a refusal", () =>
    Effect.gen(function* () {
      let calls = 0
      const refusing: Service = {
        verify: () => Effect.suspend(() => (calls++, Effect.fail(new InvalidToken({ reason: "signature" }))))
      }
      const cache = yield* VerifiedTokenCache.make(refusing)
      for (let i = 0; i < 3; i++) {
        const result = yield* Effect.either(verifyWith(cache, "bad"))
        expect(Either.isLeft(result) && result.left.reason).toBe("signature")
      }
      expect(calls).toBe(3)
      expect(yield* cache.size).toBe(0)
    })
  )

  it.effect("holds at most maxEntries, dropping the least recently used", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const cache = yield* VerifiedTokenCache.make(inner.verifier, { maxEntries: 3 })
      for (const token of ["a", "b", "c"]) yield* verifyWith(cache, token)
      yield* verifyWith(cache, "a") // a becomes the most recently used; b is now the oldest
      yield* verifyWith(cache, "d")
      expect(yield* cache.size).toBe(3)
      inner.calls.length = 0
      for (const token of ["a", "c", "d", "b"]) yield* verifyWith(cache, token)
      expect(inner.calls).toEqual(["b"])
    })
  )

  it.effect("stays bounded under many distinct tokens", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const cache = yield* VerifiedTokenCache.make(counting().verifier, { maxEntries: 100 })
      for (let i = 0; i < 1_000; i++) yield* verifyWith(cache, `t${i}`)
      expect(yield* cache.size).toBe(100)
    })
  )

  it.effect("keys entries by the SHA-256 digest of the token", () =>
    Effect.sync(() => {
      const token = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
      expect(VerifiedTokenCache.digest(token)).toBe(createHash("sha256").update(token).digest("base64url"))
      expect(VerifiedTokenCache.digest(token)).not.toContain(token)
    })
  )

  it.effect("never answers one token with another's principal", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const cache = yield* VerifiedTokenCache.make(inner.verifier, { maxEntries: 8 })
      const check = (tokens: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          for (const token of tokens) {
            const info = yield* verifyWith(cache, token)
            if (info.subject !== `user-of-${token}`) return false
          }
          return true
        })
      const runtime = yield* Effect.runtime<never>()
      const property = fc.asyncProperty(fc.array(fc.string({ maxLength: 6 }), { maxLength: 30 }), (tokens) =>
        Runtime.runPromise(runtime)(check(tokens))
      )
      yield* Effect.promise(() => fc.assert(property, { numRuns: 100 }))
    })
  )

  it.effect("freezes the remembered principal so one request cannot change what the next one sees", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const cache = yield* VerifiedTokenCache.make(counting().verifier)
      const first = yield* verifyWith(cache, "t")
      expect(() => (first.user.roles as Array<string>).push("admin")).toThrow(TypeError)
      expect(() => ((first.claims["nested"] as { roles: Array<string> }).roles[0] = "admin")).toThrow(TypeError)
      const second = yield* verifyWith(cache, "t")
      expect(second.user.roles).toEqual(["reader"])
    })
  )

  it.effect("forgets everything on invalidateAll", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const cache = yield* VerifiedTokenCache.make(inner.verifier)
      yield* verifyWith(cache, "t")
      yield* cache.invalidateAll
      yield* verifyWith(cache, "t")
      expect(inner.calls).toEqual(["t", "t"])
    })
  )

  it.effect("layer wraps the verifier in context", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start * 1000)
      const inner = counting()
      const layer = VerifiedTokenCache.layer().pipe(Layer.provide(Layer.succeed(TokenVerifier, inner.verifier)))
      yield* Effect.gen(function* () {
        const verifier = yield* TokenVerifier
        yield* verifyWith(verifier, "t")
        yield* verifyWith(verifier, "t")
      }).pipe(Effect.provide(layer))
      expect(inner.calls).toEqual(["t"])
    })
  )

  it.effect("in front of the JWT verifier: a cached token still stops working at its exp", () =>
    Effect.gen(function* () {
      const issuer = "https://idp.example.com"
      const resource = "https://mcp.example.com/mcp"
      const { publicKey, privateKey } = yield* Effect.promise(() => keyPair("ES256"))
      const jwks = staticJwks({ k: publicKey })
      const token = yield* Effect.promise(() =>
        new jose.SignJWT({ iss: issuer, aud: resource, sub: "u", iat: start, exp: start + 90 })
          .setProtectedHeader({ alg: "ES256", kid: "k" })
          .sign(privateKey)
      )
      yield* TestClock.setTime(start * 1000)
      const jwt = yield* JwtVerifier.make({ issuer, audience: resource, clockTolerance: "0 seconds" }).pipe(
        Effect.provide(jwks.layer)
      )
      const cache = yield* VerifiedTokenCache.make(jwt, { maxTtl: "1 minute" })
      yield* verifyWith(cache, token)
      yield* verifyWith(cache, token)
      expect(jwks.lookups).toHaveLength(1)
      yield* TestClock.adjust("60 seconds") // maxTtl reached: verified again, still valid
      yield* verifyWith(cache, token)
      expect(jwks.lookups).toHaveLength(2)
      yield* TestClock.adjust("30 seconds") // exp reached: the cache does not answer, the verifier refuses
      const late = yield* Effect.either(verifyWith(cache, token))
      expect(Either.isLeft(late) && late.left._tag === "InvalidToken" && late.left.reason).toBe("expired")
    })
  )

  describe("immediate (the synchronous verdict the guard reads before running a fiber)", () => {
    const now = Clock.currentTimeMillis
    const principal = (exit: Exit.Exit<AuthInfo, unknown> | undefined) => (exit !== undefined && Exit.isSuccess(exit) ? exit.value : undefined)

    it.effect("holds nothing before a verification, then the principal with the presented token, until exp", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start * 1000)
        const inner = counting(() => start + 30)
        const cache = yield* VerifiedTokenCache.make(inner.verifier, { maxTtl: "1 hour" })
        expect(cache.immediate(Redacted.make("t"), yield* now)).toBeUndefined()
        yield* verifyWith(cache, "t")
        const presented = Redacted.make("t")
        const held = principal(cache.immediate(presented, yield* now))
        expect(held?.subject).toBe("user-of-t")
        expect(held?.token).toBe(presented)
        expect(cache.immediate(Redacted.make("t2"), yield* now)).toBeUndefined()
        expect(inner.calls).toEqual(["t"])
        yield* TestClock.adjust("30 seconds")
        expect(cache.immediate(Redacted.make("t"), yield* now)).toBeUndefined()
      })
    )

    it.effect("never holds a refusal", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start * 1000)
        const cache = yield* VerifiedTokenCache.make({ verify: () => Effect.fail(new InvalidToken({ reason: "signature" })) })
        yield* Effect.either(verifyWith(cache, "bad"))
        expect(cache.immediate(Redacted.make("bad"), yield* now)).toBeUndefined()
      })
    )

    it.effect("forgets with invalidateAll", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start * 1000)
        const cache = yield* VerifiedTokenCache.make(counting().verifier)
        yield* verifyWith(cache, "t")
        yield* cache.invalidateAll
        expect(cache.immediate(Redacted.make("t"), yield* now)).toBeUndefined()
      })
    )

    it.effect("on a miss asks the inner verifier's immediate verdict, remembers a success and passes a refusal on", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start * 1000)
        const asked: Array<string> = []
        const inner = counting()
        const cache = yield* VerifiedTokenCache.make({
          verify: inner.verifier.verify,
          immediate: (token) => {
            asked.push(Redacted.value(token))
            return Redacted.value(token) === "bad"
              ? Exit.fail(new InvalidToken({ reason: "signature" }))
              : Exit.succeed({ ...principalOf(Redacted.value(token), start + 3600), token })
          }
        })
        expect(principal(cache.immediate(Redacted.make("t"), yield* now))?.subject).toBe("user-of-t")
        expect(principal(cache.immediate(Redacted.make("t"), yield* now))?.subject).toBe("user-of-t")
        const refused = cache.immediate(Redacted.make("bad"), yield* now)
        expect(refused !== undefined && Exit.isFailure(refused)).toBe(true)
        expect(cache.immediate(Redacted.make("bad"), yield* now)).toBeDefined()
        // the second "t" was a held verdict; both "bad" were judged, never remembered
        expect(asked).toEqual(["t", "bad", "bad"])
        // and verify serves what immediate remembered
        yield* verifyWith(cache, "t")
        expect(inner.calls).toEqual([])
      })
    )
  })
})
