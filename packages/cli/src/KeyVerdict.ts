/**
 * What the library makes of each key of a JSON Web Key Set. The verdict comes from auth-core's own key selection
 * (`Jwks.fromKeySet`): a key is usable exactly when the library would verify a token with it.
 *
 * @since 0.1.0
 */
import * as Jwks from "@mcp-oauth/auth-core/Jwks"
import * as JwtVerifier from "@mcp-oauth/auth-core/JwtVerifier"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"

/** How one key fares. */
export type Verdict =
  /** The library verifies tokens with it, for these algorithms. */
  | { readonly _tag: "Usable"; readonly algorithms: ReadonlyArray<string> }
  /** It carries private or symmetric key material: refused, and that secret must be treated as leaked. */
  | { readonly _tag: "Secret"; readonly members: ReadonlyArray<string> }
  /** An RSA key below the library's minimum modulus size. */
  | { readonly _tag: "Weak"; readonly bits: number | undefined }
  /** Its `alg` is not one the library accepts (symmetric, `none`, unknown). */
  | { readonly _tag: "Algorithm"; readonly alg: string }
  /** Marked for encryption only (`use` or `key_ops`): rightly ignored for signatures. */
  | { readonly _tag: "NotForSignatures" }
  /** Malformed, a key type or curve the library does not verify with, or an `alg` its key type cannot serve. */
  | { readonly _tag: "Unsupported" }

/** One key's description and verdict. */
export interface KeyReport {
  readonly label: string
  readonly verdict: Verdict
}

const secretMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const modulusBits = (n: unknown): number | undefined => {
  if (typeof n !== "string" || !/^[A-Za-z0-9_-]+$/.test(n)) return undefined
  const bytes = Buffer.from(n, "base64url")
  let start = 0
  while (start < bytes.length && bytes[start] === 0) start++
  return start === bytes.length ? 0 : (bytes.length - start) * 8 - Math.clz32(bytes[start]!) + 24
}

const labelOf = (raw: unknown, index: number): string => {
  if (!isRecord(raw)) return `key #${index + 1}`
  const parts = [typeof raw["kid"] === "string" ? `kid=${raw["kid"]}` : `key #${index + 1}`]
  if (typeof raw["kty"] === "string") parts.push(raw["kty"])
  if (typeof raw["crv"] === "string") parts.push(raw["crv"])
  if (typeof raw["alg"] === "string") parts.push(raw["alg"])
  return parts.join(" ")
}

/** Asks the library whether it would verify `alg` with this single key. */
const libraryAccepts = (raw: unknown, alg: string) =>
  Effect.flatMap(Jwks.fromKeySet({ keys: [raw] }), (set) =>
    Effect.either(
      set.getKey({ alg, kid: isRecord(raw) && typeof raw["kid"] === "string" ? raw["kid"] : undefined })
    )
  )

/** The verdict on one key of a set. */
export const judge = (raw: unknown, index: number): Effect.Effect<KeyReport> =>
  Effect.gen(function* () {
    const label = labelOf(raw, index)
    if (!isRecord(raw)) return { label, verdict: { _tag: "Unsupported" } }
    const secrets = secretMembers.filter((member) => Object.hasOwn(raw, member))
    if (secrets.length > 0) return { label, verdict: { _tag: "Secret", members: secrets } }
    const use = raw["use"]
    const ops = raw["key_ops"]
    if ((use !== undefined && use !== "sig") || (Array.isArray(ops) && !ops.includes("verify"))) {
      return { label, verdict: { _tag: "NotForSignatures" } }
    }
    const declared = typeof raw["alg"] === "string" ? raw["alg"] : undefined
    const candidates: ReadonlyArray<string> = declared === undefined ? JwtVerifier.asymmetricAlgorithms : [declared]
    if (declared !== undefined && !(JwtVerifier.asymmetricAlgorithms as ReadonlyArray<string>).includes(declared)) {
      return { label, verdict: { _tag: "Algorithm", alg: declared } }
    }
    const usable: Array<string> = []
    let weak = false
    for (const alg of candidates) {
      const result = yield* libraryAccepts(raw, alg)
      if (Either.isRight(result)) usable.push(alg)
      else if (result.left._tag === "InvalidToken" && result.left.reason === "weak_key") weak = true
    }
    if (usable.length > 0) return { label, verdict: { _tag: "Usable", algorithms: usable } }
    if (weak) return { label, verdict: { _tag: "Weak", bits: modulusBits(raw["n"]) } }
    return { label, verdict: { _tag: "Unsupported" } }
  })

/** The verdicts on every key of a set, in order. */
export const judgeAll = (keys: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<KeyReport>> =>
  Effect.forEach(keys, judge)

/** The smallest RSA modulus the library accepts, in bits. */
export const minRsaModulusBits: number = Jwks.defaults.minRsaModulusBits
