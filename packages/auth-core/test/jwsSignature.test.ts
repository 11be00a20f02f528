import { describe, expect, it } from "@effect/vitest"
import * as jose from "jose"
import { type PreparedKey, prepareKey, verifyCompactSignature } from "../src/internal/jwsSignature.js"

const algorithms = ["RS256", "RS384", "PS256", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const

const imported = async (alg: string) => {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true })
  // as the key set holds them: imported from the JWK, not extractable
  const key = (await jose.importJWK(await jose.exportJWK(publicKey), alg, { extractable: false })) as CryptoKey
  const token = await new jose.SignJWT({ sub: "someone" }).setProtectedHeader({ alg }).sign(privateKey)
  return { key, token }
}

/** Both ways of checking, for the same key: node:crypto's, and WebCrypto's (the fallback). */
const both = (prepared: PreparedKey, token: string) =>
  Promise.all([verifyCompactSignature(prepared, token), verifyCompactSignature({ ...prepared, node: undefined }, token)])

const flipped = (token: string, at: number) => {
  const chars = [...token]
  chars[at] = chars[at] === "A" ? "B" : "A"
  return chars.join("")
}

describe("jwsSignature", () => {
  for (const alg of algorithms) {
    it(`${alg}: node:crypto and WebCrypto agree on a valid, an altered and a truncated signature`, async () => {
      const { key, token } = await imported(alg)
      const prepared = prepareKey(alg, key)
      expect(prepared?.node).toBeDefined()
      const dot = token.lastIndexOf(".")
      expect(typeof verifyCompactSignature(prepared!, token)).toBe("boolean")
      expect(await both(prepared!, token)).toEqual([true, true])
      expect(await both(prepared!, flipped(token, dot + 3))).toEqual([false, false])
      expect(await both(prepared!, flipped(token, 2))).toEqual([false, false])
      expect(await both(prepared!, token.slice(0, -4))).toEqual([false, false])
    })
  }

  it("refuses to prepare a key for an algorithm of another kind, hash or curve", async () => {
    const rsa = await imported("RS256")
    const p256 = await imported("ES256")
    const ed = await imported("EdDSA")
    expect(prepareKey("RS256", rsa.key)).toBeDefined()
    expect(prepareKey("RS384", rsa.key)).toBeUndefined()
    expect(prepareKey("PS256", rsa.key)).toBeUndefined()
    expect(prepareKey("ES384", p256.key)).toBeUndefined()
    expect(prepareKey("RS256", p256.key)).toBeUndefined()
    expect(prepareKey("ES256", ed.key)).toBeUndefined()
    expect(prepareKey("HS256", rsa.key)).toBeUndefined()
  })
})
