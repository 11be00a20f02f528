/**
 * Checking the signature of a compact JWS whose header and payload were already decoded and checked
 * (`decodeCompact`): one WebCrypto call over the token's own bytes, instead of handing the token to a library that
 * would decode it all a second time. The key must already be bound to `alg` (the key set imports it for that `alg`);
 * it is checked again here, as jose does, so that a key of another kind or curve is never used.
 */

type Params = AlgorithmIdentifier | RsaPssParams | EcdsaParams

const hashBits = (alg: string): string => `SHA-${alg.slice(-3)}`

const curves: Readonly<Record<string, string>> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" }

/** WebCrypto parameters for `alg` when `key` is of the matching kind, hash and curve; undefined otherwise. */
export const verifyParams = (alg: string, key: CryptoKey): Params | undefined => {
  if (!key.usages.includes("verify")) return undefined
  const algorithm = key.algorithm as KeyAlgorithm & { readonly hash?: { readonly name: string }; readonly namedCurve?: string }
  switch (alg) {
    case "RS256":
    case "RS384":
    case "RS512":
      return algorithm.name === "RSASSA-PKCS1-v1_5" && algorithm.hash?.name === hashBits(alg) ? { name: algorithm.name } : undefined
    case "PS256":
    case "PS384":
    case "PS512":
      return algorithm.name === "RSA-PSS" && algorithm.hash?.name === hashBits(alg)
        ? { name: algorithm.name, saltLength: Number(alg.slice(-3)) >> 3 }
        : undefined
    case "ES256":
    case "ES384":
    case "ES512":
      return algorithm.name === "ECDSA" && algorithm.namedCurve === curves[alg] ? { name: algorithm.name, hash: hashBits(alg) } : undefined
    case "EdDSA":
    case "Ed25519":
      return algorithm.name === "Ed25519" ? { name: algorithm.name } : undefined
    default:
      return undefined
  }
}

/**
 * Whether the signature of `token` (three base64url segments, already validated) verifies under `params` and `key`.
 * The signing input is the token's first two segments as sent (RFC 7515 §5.2).
 */
export const verifyCompactSignature = (params: Params, key: CryptoKey, token: string): Promise<boolean> => {
  const dot = token.lastIndexOf(".")
  return crypto.subtle.verify(
    params,
    key,
    Buffer.from(token.slice(dot + 1), "base64url"),
    Buffer.from(token.slice(0, dot), "latin1")
  )
}
