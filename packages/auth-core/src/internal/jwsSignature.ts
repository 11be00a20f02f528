/**
 * Checking the signature of a compact JWS whose header and payload were already decoded and checked
 * (`decodeCompact`): one call over the token's own bytes, instead of handing the token to a library that would decode
 * it all a second time. The key must already be bound to `alg` (the key set imports it for that `alg`); it is checked
 * again here, as jose does, so that a key of another kind or curve is never used.
 *
 * Where node:crypto can see the imported key (`KeyObject.from`), the check is node's synchronous `crypto.verify`: a
 * WebCrypto verify is queued to the thread pool and resolved through a promise, which costs more than the check itself
 * for RSA and puts a scheduling hop on every request. Elsewhere WebCrypto is used.
 */
import * as NodeCrypto from "node:crypto"

type Params = Algorithm | RsaPssParams | EcdsaParams

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

/** A key ready for one algorithm: the WebCrypto parameters, and node's equivalent where available. */
export interface PreparedKey {
  readonly alg: string
  readonly key: CryptoKey
  readonly params: Params
  /** node:crypto's digest name (null for EdDSA) and key input; undefined when only WebCrypto can verify. */
  readonly node: { readonly digest: string | null; readonly key: NodeCrypto.KeyObject | NodeCrypto.VerifyKeyObjectInput } | undefined
}

const keyObjectFrom = (NodeCrypto as { readonly KeyObject?: { readonly from?: (key: CryptoKey) => NodeCrypto.KeyObject } })
  .KeyObject?.from

const nodeInput = (alg: string, params: Params, key: CryptoKey): PreparedKey["node"] => {
  if (keyObjectFrom === undefined || typeof NodeCrypto.verify !== "function") return undefined
  let object: NodeCrypto.KeyObject
  try {
    object = keyObjectFrom(key)
  } catch {
    return undefined
  }
  // the same mechanism WebCrypto would use, spelled the way node:crypto takes it
  switch (params.name) {
    case "RSASSA-PKCS1-v1_5":
      return { digest: `sha${alg.slice(-3)}`, key: object }
    case "RSA-PSS":
      return {
        digest: `sha${alg.slice(-3)}`,
        key: { key: object, padding: NodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: (params as RsaPssParams).saltLength }
      }
    case "ECDSA":
      // JWS carries ECDSA signatures as r || s (RFC 7518 §3.4), node's default is DER
      return { digest: `sha${alg.slice(-3)}`, key: { key: object, dsaEncoding: "ieee-p1363" } }
    case "Ed25519":
      return { digest: null, key: object }
    default:
      return undefined
  }
}

// a key is imported once per set and `alg`: what it is prepared into is remembered with it, and goes when it goes
const prepared = new WeakMap<CryptoKey, PreparedKey>()

/** The key prepared for `alg`, or undefined when it does not match `alg` in kind, hash and curve. */
export const prepareKey = (alg: string, key: CryptoKey): PreparedKey | undefined => {
  const known = prepared.get(key)
  if (known !== undefined && known.alg === alg) return known
  const params = verifyParams(alg, key)
  if (params === undefined) return undefined
  const made: PreparedKey = { alg, key, params, node: nodeInput(alg, params, key) }
  prepared.set(key, made)
  return made
}

/**
 * Whether the signature of `token` (three base64url segments, already validated) verifies under `prepared`: a
 * boolean at once with node:crypto, else a promise from WebCrypto. The signing input is the token's first two
 * segments as sent (RFC 7515 §5.2). Throws (or rejects) only when the signature cannot be checked at all.
 */
export const verifyCompactSignature = (prepared: PreparedKey, token: string): boolean | Promise<boolean> => {
  const dot = token.lastIndexOf(".")
  const signature = Buffer.from(token.slice(dot + 1), "base64url")
  const input = Buffer.from(token.slice(0, dot), "latin1")
  if (prepared.node !== undefined) return NodeCrypto.verify(prepared.node.digest, input, prepared.node.key, signature)
  return crypto.subtle.verify(prepared.params, prepared.key, signature, input)
}
