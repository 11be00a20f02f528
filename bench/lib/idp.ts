/**
 * A stand-in identity provider for benchmarks: signing keys for RS256, ES256 and EdDSA, token minting, and a local
 * JWKS server on 127.0.0.1 that counts its fetches and whose key set can change (rotation).
 */
import { randomUUID, sign as nodeSign, KeyObject } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as jose from "jose"

/** The algorithms benchmarked. */
export const algorithms = ["RS256", "ES256", "EdDSA"] as const

/** One of {@link algorithms}. */
export type Alg = (typeof algorithms)[number]

/** A signing key with its public JWK. */
export interface SigningKey {
  readonly alg: Alg
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: jose.JWK
}

/** A fresh key pair for `alg`, published under `kid`. */
export const signingKey = async (alg: Alg, kid: string = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<SigningKey> => {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) })
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" }
  return { alg, kid, privateKey, publicKey, publicJwk }
}

/** A local JWKS endpoint. */
export interface JwksServer {
  /** The issuer identifier (the server's origin). */
  readonly issuer: string
  /** The key set URL. */
  readonly jwksUri: string
  /** Fetches served so far. */
  readonly fetches: () => number
  /** Replaces the published keys (a rotation). */
  readonly publish: (keys: ReadonlyArray<SigningKey>) => void
  readonly close: () => Promise<void>
}

/** Serves `keys` at `/jwks` on 127.0.0.1. */
export const startJwksServer = async (keys: ReadonlyArray<SigningKey>): Promise<JwksServer> => {
  let body = JSON.stringify({ keys: keys.map((k) => k.publicJwk) })
  let fetches = 0
  const server = createServer((req, res) => {
    if (req.url !== "/jwks") {
      res.writeHead(404).end()
      return
    }
    fetches++
    res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "max-age=300" }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    fetches: () => fetches,
    publish: (next) => {
      body = JSON.stringify({ keys: next.map((k) => k.publicJwk) })
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Claims of a typical access token for `audience`, distinct per `n`. */
export const claims = (issuer: string, audience: string, n: number, now = Math.floor(Date.now() / 1000)) => ({
  iss: issuer,
  aud: audience,
  sub: `user-${n}`,
  client_id: "bench-client",
  scope: "mcp read",
  iat: now,
  exp: now + 3600,
  jti: `${n}-${randomUUID()}`,
  email: `user-${n}@example.com`,
  name: `User ${n}`
})

/** Signs claims with jose (async, WebCrypto). */
export const mint = (key: SigningKey, payload: Record<string, unknown>): Promise<string> =>
  new jose.SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" }).sign(key.privateKey)

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url")

/**
 * A synchronous signer on node:crypto, for minting tens of thousands of tokens quickly (EdDSA and ES256 only; an
 * RSA signature costs about a millisecond). Produces the same compact JWS as jose.
 */
export const fastSigner = (key: SigningKey): ((payload: Record<string, unknown>) => string) => {
  const privateKey = KeyObject.from(key.privateKey)
  const header = b64({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
  return (payload) => {
    const input = `${header}.${b64(payload)}`
    const signature =
      key.alg === "EdDSA"
        ? nodeSign(null, Buffer.from(input), privateKey)
        : key.alg === "ES256"
          ? nodeSign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" })
          : nodeSign("sha256", Buffer.from(input), privateKey)
    return `${input}.${signature.toString("base64url")}`
  }
}

/** A token whose header names `kid` and whose signature is junk: it can only fail, after the key lookup. */
export const unsignedWithKid = (kid: string, payload: Record<string, unknown>, alg: Alg = "ES256"): string =>
  `${b64({ alg, kid, typ: "at+jwt" })}.${b64(payload)}.${Buffer.from(randomUUID()).toString("base64url")}`
