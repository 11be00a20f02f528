/**
 * Parsing a fetched JSON Web Key Set into the public signing keys it may contribute, and choosing the key for a JWS
 * header. Pure: no I/O, no time.
 */
import * as jose from "jose"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** The body every JWKS must have (RFC 7517 §5); the keys themselves are judged one by one. */
export const JwkSetBody = Schema.Struct({ keys: Schema.Array(Schema.Unknown) })

const common = {
  kid: Schema.optional(Schema.String),
  use: Schema.optional(Schema.String),
  alg: Schema.optional(Schema.String),
  key_ops: Schema.optional(Schema.Array(Schema.String))
}

const RsaJwk = Schema.Struct({ ...common, kty: Schema.Literal("RSA"), n: Schema.String, e: Schema.String })
const EcJwk = Schema.Struct({
  ...common,
  kty: Schema.Literal("EC"),
  crv: Schema.Literal("P-256", "P-384", "P-521"),
  x: Schema.String,
  y: Schema.String
})
const OkpJwk = Schema.Struct({ ...common, kty: Schema.Literal("OKP"), crv: Schema.Literal("Ed25519"), x: Schema.String })

/** A public signing key as kept from the set; only the members listed here survive parsing. */
export const PublicJwk = Schema.Union(RsaJwk, EcJwk, OkpJwk)

/** A decoded {@link PublicJwk}. */
export type PublicJwk = typeof PublicJwk.Type

const decodeJwk = Schema.decodeUnknownOption(PublicJwk)

// any of these means the publisher leaked a private or symmetric key: such a key is never trusted
const secretMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const

/** The result of parsing a set: the usable keys, and how many were dropped and why (for logs). */
export interface ParsedSet {
  readonly keys: ReadonlyArray<PublicJwk>
  readonly withSecrets: number
  readonly unusable: number
}

const usableForSignatures = (jwk: PublicJwk): boolean =>
  (jwk.use === undefined || jwk.use === "sig") && (jwk.key_ops === undefined || jwk.key_ops.includes("verify"))

/** Keeps the public signature keys of a set; malformed, foreign-type, encryption and secret-bearing keys are dropped. */
export const parseKeys = (keys: ReadonlyArray<unknown>): ParsedSet => {
  const kept: Array<PublicJwk> = []
  let withSecrets = 0
  let unusable = 0
  for (const raw of keys) {
    if (typeof raw === "object" && raw !== null && secretMembers.some((member) => Object.hasOwn(raw, member))) {
      withSecrets++
      continue
    }
    const jwk = decodeJwk(raw)
    if (Option.isSome(jwk) && usableForSignatures(jwk.value)) kept.push(jwk.value)
    else unusable++
  }
  return { keys: kept, withSecrets, unusable }
}

/** The key type (and curve) a JWS algorithm needs, or undefined for algorithms never verified with a key set. */
export const keyTypeFor = (
  alg: string
): { readonly kty: "RSA" } | { readonly kty: "EC" | "OKP"; readonly crv: string } | undefined => {
  switch (alg) {
    case "RS256":
    case "RS384":
    case "RS512":
    case "PS256":
    case "PS384":
    case "PS512":
      return { kty: "RSA" }
    case "ES256":
      return { kty: "EC", crv: "P-256" }
    case "ES384":
      return { kty: "EC", crv: "P-384" }
    case "ES512":
      return { kty: "EC", crv: "P-521" }
    case "EdDSA":
    case "Ed25519":
      return { kty: "OKP", crv: "Ed25519" }
    default:
      return undefined
  }
}

/** Whether a key may verify signatures made with `alg`. */
export const fits = (jwk: PublicJwk, alg: string): boolean => {
  const needed = keyTypeFor(alg)
  if (needed === undefined || needed.kty !== jwk.kty) return false
  if ("crv" in needed && (jwk.kty === "EC" || jwk.kty === "OKP") && needed.crv !== jwk.crv) return false
  return jwk.alg === undefined || jwk.alg === alg
}

/** The outcome of choosing a key: its index in the set, or why none was chosen. */
export type Selection =
  | { readonly _tag: "Found"; readonly index: number }
  /** No key with that kid (or, without a kid, none that fits): a newer set might have it. */
  | { readonly _tag: "Missing" }
  /** The kid exists but its key cannot verify this algorithm: a newer set will not change that. */
  | { readonly _tag: "Mismatch" }
  /** No kid and several keys fit: refusing beats guessing. */
  | { readonly _tag: "Ambiguous" }

/** Chooses the key for a header: by `kid` when present, else the one key that fits `alg`. */
export const select = (keys: ReadonlyArray<PublicJwk>, alg: string, kid: string | undefined): Selection => {
  if (kid !== undefined) {
    let sameKid = false
    for (let index = 0; index < keys.length; index++) {
      const jwk = keys[index]!
      if (jwk.kid !== kid) continue
      if (fits(jwk, alg)) return { _tag: "Found", index }
      sameKid = true
    }
    return sameKid ? { _tag: "Mismatch" } : { _tag: "Missing" }
  }
  let found: number | undefined
  for (let index = 0; index < keys.length; index++) {
    if (!fits(keys[index]!, alg)) continue
    if (found !== undefined) return { _tag: "Ambiguous" }
    found = index
  }
  return found === undefined ? { _tag: "Missing" } : { _tag: "Found", index: found }
}

/** Bit length of an RSA modulus, or undefined when `n` is not valid base64url. */
export const rsaModulusBits = (n: string): number | undefined => {
  if (!/^[A-Za-z0-9_-]+$/.test(n)) return undefined
  let bytes: Uint8Array
  try {
    bytes = jose.base64url.decode(n)
  } catch {
    return undefined
  }
  let start = 0
  while (start < bytes.length && bytes[start] === 0) start++
  if (start === bytes.length) return 0
  return (bytes.length - start) * 8 - Math.clz32(bytes[start]!) + 24
}

/** The members handed to WebCrypto: public material only, whatever else the set carried. */
export const toImportable = (jwk: PublicJwk): jose.JWK => {
  switch (jwk.kty) {
    case "RSA":
      return { kty: "RSA", n: jwk.n, e: jwk.e }
    case "EC":
      return { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y }
    case "OKP":
      return { kty: "OKP", crv: jwk.crv, x: jwk.x }
  }
}
