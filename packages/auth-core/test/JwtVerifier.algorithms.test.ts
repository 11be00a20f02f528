import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, TestClock } from "effect"
import * as jose from "jose"
import * as JwtVerifier from "../src/JwtVerifier.js"
import { keyPair, staticJwks } from "./support/staticJwks.js"

const issuer = "https://idp.example.com"
const resource = "https://mcp.example.com/mcp"
const now = 1_000_000

const algs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const

const pairs = Object.fromEntries(await Promise.all(algs.map(async (alg) => [alg, await keyPair(alg)] as const))) as Record<
  (typeof algs)[number],
  CryptoKeyPair
>

// public keys as the key set imports them: bound to one algorithm
const imported = Object.fromEntries(
  await Promise.all(
    algs.map(async (alg) => [alg, (await jose.importJWK(await jose.exportJWK(pairs[alg].publicKey), alg)) as CryptoKey] as const)
  )
) as Record<(typeof algs)[number], CryptoKey>

const sign = (alg: string, kid: string, key: CryptoKey) =>
  new jose.SignJWT({ iss: issuer, aud: resource, sub: "user-1", iat: now, exp: now + 600 })
    .setProtectedHeader({ alg, kid })
    .sign(key)

const verify = (token: string, keys: Record<string, CryptoKey>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(now * 1000)
    const verifier = yield* JwtVerifier.make({ issuer, audience: resource })
    const result = yield* Effect.either(verifier.verify(Redacted.make(token)))
    return Either.isLeft(result) ? result.left.reason : "accepted"
  }).pipe(Effect.provide(staticJwks(keys).layer))

// flips one bit in the middle of the signature segment
const tamper = (token: string) => {
  const [h, p, s] = token.split(".") as [string, string, string]
  const bytes = Buffer.from(s, "base64url")
  bytes[bytes.length >> 1]! ^= 1
  return `${h}.${p}.${bytes.toString("base64url")}`
}

describe("JwtVerifier signatures", () => {
  for (const alg of algs) {
    it.effect(`accepts ${alg} and refuses it with a changed signature or payload`, () =>
      Effect.gen(function* () {
        const token = yield* Effect.promise(() => sign(alg, "k", pairs[alg].privateKey))
        expect(yield* verify(token, { k: imported[alg] })).toBe("accepted")
        expect(yield* verify(tamper(token), { k: imported[alg] })).toBe("signature")
        const [h, , s] = token.split(".")
        const other = Buffer.from(JSON.stringify({ iss: issuer, aud: resource, sub: "admin", iat: now, exp: now + 600 })).toString("base64url")
        expect(yield* verify(`${h}.${other}.${s}`, { k: imported[alg] })).toBe("signature")
      })
    )
  }

  it.effect("refuses a key of another kind, hash or curve than the header's alg", () =>
    Effect.gen(function* () {
      const cases: Array<[string, (typeof algs)[number]]> = [
        ["ES384", "ES256"], // curve
        ["RS384", "RS256"], // hash
        ["PS256", "RS256"], // padding
        ["RS256", "ES256"], // kind
        ["EdDSA", "ES256"]
      ]
      for (const [headerAlg, keyAlg] of cases) {
        // signed with the key the verifier will be handed, but announced as another algorithm
        const token = yield* Effect.promise(() => sign(keyAlg, "k", pairs[keyAlg].privateKey))
        const [, p, s] = token.split(".")
        const header = Buffer.from(JSON.stringify({ alg: headerAlg, kid: "k" })).toString("base64url")
        expect(yield* verify(`${header}.${p}.${s}`, { k: imported[keyAlg] })).toBe("algorithm")
      }
    })
  )

  it.effect("refuses a signature that is not valid base64url as malformed, before any key lookup", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign("ES256", "k", pairs.ES256.privateKey))
      const [h, p] = token.split(".")
      expect(yield* verify(`${h}.${p}.not+base64/`, { k: imported.ES256 })).toBe("malformed")
    })
  )

  it.effect("refuses a signature of the wrong length", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign("ES256", "k", pairs.ES256.privateKey))
      const [h, p] = token.split(".")
      expect(yield* verify(`${h}.${p}.AAAA`, { k: imported.ES256 })).toBe("signature")
    })
  )
})
