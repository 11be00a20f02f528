import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Redacted, TestClock, TestContext } from "effect"
import * as jose from "jose"
import * as JwtVerifier from "../src/JwtVerifier.js"
import { keyPair, staticJwks } from "./support/staticJwks.js"

const issuer = "https://idp.example.com"
const resource = "https://mcp.example.com/mcp"
// TestClock starts at 0; tokens are issued around this instant
const now = 1_000_000

const rsa = await keyPair("RS256")
const ec = await keyPair("ES256")

const sign = (claims: Record<string, unknown>, header: Partial<jose.JWTHeaderParameters> = {}, key = rsa.privateKey) =>
  new jose.SignJWT({ iss: issuer, aud: resource, sub: "user-1", iat: now, exp: now + 600, scope: "mcp read", ...claims } as jose.JWTPayload)
    .setProtectedHeader({ alg: "RS256", kid: "rsa", typ: "at+jwt", ...header })
    .sign(key)

const verifyWith = (token: string, options: Partial<JwtVerifier.JwtVerifierOptions> = {}) => {
  const jwks = staticJwks({ rsa: rsa.publicKey, ec: ec.publicKey })
  return Effect.gen(function* () {
    yield* TestClock.setTime(now * 1000)
    const verifier = yield* JwtVerifier.make({ issuer, audience: resource, ...options })
    return yield* Effect.either(verifier.verify(Redacted.make(token)))
  }).pipe(Effect.provide(jwks.layer), Effect.map((result) => ({ result, lookups: jwks.lookups })))
}

const reasonOf = (result: Either.Either<unknown, { reason: string }>) => (Either.isLeft(result) ? result.left.reason : "accepted")

describe("JwtVerifier", () => {
  it.effect("accepts a valid token and maps its claims", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ client_id: "c1", email: "u@example.com", name: "U", roles: ["admin"] }))
      const { result } = yield* verifyWith(token)
      expect(Either.isRight(result)).toBe(true)
      const info = Either.getOrThrow(result)
      expect(info.subject).toBe("user-1")
      expect(info.clientId).toBe("c1")
      expect(info.scopes).toEqual(["mcp", "read"])
      expect(info.expiresAt).toBe(now + 600)
      expect(info.user).toEqual({ userId: "user-1", email: "u@example.com", name: "U", roles: ["admin"], permissions: [] })
    })
  )

  it.effect("accepts ES256 and scp arrays", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() =>
        sign({ scope: undefined, scp: ["a", "b"] }, { alg: "ES256", kid: "ec" }, ec.privateKey)
      )
      const { result } = yield* verifyWith(token)
      expect(Either.getOrThrow(result).scopes).toEqual(["a", "b"])
    })
  )

  it.effect("refuses a foreign issuer before looking up any key", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ iss: "https://evil.example.com" }))
      const { result, lookups } = yield* verifyWith(token)
      expect(reasonOf(result)).toBe("issuer")
      expect(lookups).toHaveLength(0)
    })
  )

  it.effect("refuses an oversized token before parsing it", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ pad: "x".repeat(20_000) }))
      const { result, lookups } = yield* verifyWith(token)
      expect(reasonOf(result)).toBe("too_large")
      expect(lookups).toHaveLength(0)
    })
  )

  it.effect("follows the clock for expiry", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ exp: now + 60 }))
      const jwks = staticJwks({ rsa: rsa.publicKey })
      const verifier = yield* JwtVerifier.make({ issuer, audience: resource, clockTolerance: "5 seconds" }).pipe(
        Effect.provide(jwks.layer)
      )
      yield* TestClock.setTime(now * 1000)
      expect(Either.isRight(yield* Effect.either(verifier.verify(Redacted.make(token))))).toBe(true)
      yield* TestClock.adjust("64 seconds")
      expect(Either.isRight(yield* Effect.either(verifier.verify(Redacted.make(token))))).toBe(true)
      yield* TestClock.adjust("2 seconds")
      expect(reasonOf(yield* Effect.either(verifier.verify(Redacted.make(token))))).toBe("expired")
    })
  )

  const cases: Array<[string, () => Promise<string>, string, Partial<JwtVerifier.JwtVerifierOptions>?]> = [
    ["expired", () => sign({ exp: now - 3600 }), "expired"],
    ["no exp", () => sign({ exp: undefined }), "missing_claim"],
    ["string exp", () => sign({ exp: String(now + 600) as never }), "claim_type"],
    ["future nbf", () => sign({ nbf: now + 3600 }), "not_yet_valid"],
    ["future iat", () => sign({ iat: now + 3600 }), "issued_in_future"],
    ["foreign aud", () => sign({ aud: "https://other.example.com/mcp" }), "audience"],
    ["trailing-slash aud", () => sign({ aud: `${resource}/` }), "audience"],
    ["aud array without us", () => sign({ aud: ["https://a.example", "https://b.example"] }), "audience"],
    ["missing aud", () => sign({ aud: undefined }), "audience"],
    ["prefix-extended iss", () => sign({ iss: `${issuer}.evil.com` }), "issuer"],
    ["empty sub", () => sign({ sub: "" }), "subject"],
    ["numeric sub", () => sign({ sub: 42 as never }), "subject"],
    ["typ JWT where at+jwt is required", () => sign({}, { typ: "JWT" }), "type", { typ: "at+jwt" }],
    ["jku header", () => sign({}, { jku: "https://evil.example/jwks" }), "header"],
    ["HS256", async () => new jose.SignJWT({ iss: issuer, aud: resource, sub: "u", exp: now + 60 }).setProtectedHeader({ alg: "HS256", kid: "rsa" }).sign(new Uint8Array(32)), "algorithm"],
    ["unknown kid", () => sign({}, { kid: "nope" }), "unknown_key"],
    ["signed by another key", async () => sign({}, {}, (await keyPair("RS256")).privateKey), "signature"],
    ["JWE-shaped", async () => "a.b.c.d.e", "malformed"],
    ["JSON serialization", async () => JSON.stringify({ payload: "x", signatures: [] }), "malformed"]
  ]
  for (const [name, make, reason, options] of cases) {
    it.effect(`refuses ${name} (${reason})`, () =>
      Effect.gen(function* () {
        const token = yield* Effect.promise(make)
        const { result } = yield* verifyWith(token, options)
        expect(reasonOf(result)).toBe(reason)
      })
    )
  }

  it.effect("accepts an aud array that contains this resource", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ aud: ["https://other.example", resource] }))
      expect(reasonOf((yield* verifyWith(token)).result)).toBe("accepted")
    })
  )

  it.effect("refuses this resource with an upper-case host (RFC 7519 compares audiences exactly)", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ aud: "https://MCP.example.com/mcp" }))
      expect(reasonOf((yield* verifyWith(token)).result)).toBe("audience")
    })
  )

  it("refuses any single-byte change to a valid token", async () => {
    const token = await sign({})
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), async (index, char) => {
        fc.pre(token[index] !== char)
        const mutated = token.slice(0, index) + char + token.slice(index + 1)
        // base64url's last character can carry unused bits; a change there that decodes to the same bytes is the same token
        const same = mutated.split(".").every((part, i) => Buffer.from(part, "base64url").equals(Buffer.from(token.split(".")[i] ?? "", "base64url")))
        fc.pre(!same)
        const { result } = await Effect.runPromise(verifyWith(mutated).pipe(Effect.provide(TestContext.TestContext)))
        expect(Either.isLeft(result)).toBe(true)
      }),
      { numRuns: 300 }
    )
  })
})
