import { Effect, Layer } from "effect"
import * as jose from "jose"
import { InvalidToken } from "../../src/Errors.js"
import { Jwks, type KeySelector } from "../../src/Jwks.js"

/** A key set held in memory, counting lookups, for verifier unit tests (the remote cache has its own tests). */
export const staticJwks = (keys: Record<string, CryptoKey>) => {
  const lookups: Array<KeySelector> = []
  const layer = Layer.succeed(Jwks, {
    getKey: (selector) =>
      Effect.suspend(() => {
        lookups.push(selector)
        const key = selector.kid === undefined ? undefined : keys[selector.kid]
        return key === undefined ? Effect.fail(new InvalidToken({ reason: "unknown_key" })) : Effect.succeed(key)
      })
  })
  return { layer, lookups }
}

/** A fresh signing key pair. */
export const keyPair = (alg: string) => jose.generateKeyPair(alg, { extractable: true })
