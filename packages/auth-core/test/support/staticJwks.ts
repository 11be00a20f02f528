import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
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

/** A key set served over HTTP on 127.0.0.1 (the issuer is its origin, the set at `/jwks`), with its signing key. */
export const serveKeySet = async (alg: string, kid: string) => {
  const pair = await keyPair(alg)
  const body = JSON.stringify({ keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid, alg, use: "sig" }] })
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    privateKey: pair.privateKey,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
