/**
 * JWT access-token verification (RFC 9068, RFC 8725) over a {@link Jwks} key set: jose imports the keys, node:crypto
 * (or WebCrypto where node's is absent) checks signatures.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AuthInfo } from "./AuthInfo.js"
import * as ClaimMapping from "./ClaimMapping.js"
import { InvalidToken, type InvalidTokenReason } from "./Errors.js"
import { Jwks } from "./Jwks.js"
import { sameResource } from "./ResourceUrl.js"
import { TokenVerifier, type Service } from "./TokenVerifier.js"
import { decodeCompact } from "./internal/compactJws.js"
import * as Telemetry from "./Telemetry.js"
import { prepareKey, verifyCompactSignature } from "./internal/jwsSignature.js"
import { spanned } from "./internal/tracing.js"

/** Asymmetric JWS algorithms; symmetric (HS*) and `none` are never accepted. */
export const asymmetricAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519"
] as const

/** One of {@link asymmetricAlgorithms}. */
export type AsymmetricAlgorithm = (typeof asymmetricAlgorithms)[number]

/** Options named after the claims and header fields they control. */
export interface JwtVerifierOptions {
  /** Accepted `iss` values, compared exactly. */
  readonly issuer: string | ReadonlyArray<string>
  /** Accepted audiences (RFC 8707 resource comparison); usually this server's resource URL. */
  readonly audience: string | ReadonlyArray<string>
  /** Accepted `alg` values (default: every asymmetric algorithm). */
  readonly algorithms?: ReadonlyArray<AsymmetricAlgorithm> | undefined
  /** Require this `typ` header (RFC 9068 `at+jwt`); off by default since many providers send `JWT`. */
  readonly typ?: "at+jwt" | undefined
  /** Leeway for `exp`, `nbf` and `iat` (default 30 seconds). */
  readonly clockTolerance?: Duration.DurationInput | undefined
  /** Refuse tokens whose `iat` is older than this (requires `iat`). */
  readonly maxTokenAge?: Duration.DurationInput | undefined
  /** Largest token accepted, in bytes, checked before any parsing (default 16 KiB). */
  readonly maxTokenBytes?: number | undefined
  /** Where the user's fields live in the claims. */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

// Headers that point at or embed keys, or change how the payload is read; our keys come only from the configured set.
const refusedHeaders = ["jwk", "jku", "x5u", "x5c", "crit", "b64", "enc", "zip"]

// one refusal per reason, made once: junk tokens arrive in bulk, and each new error would validate and take a stack
const refusals = new Map<InvalidTokenReason, InvalidToken>()
const invalid = (reason: InvalidTokenReason): InvalidToken => {
  let refusal = refusals.get(reason)
  if (refusal === undefined) {
    refusal = new InvalidToken({ reason })
    refusals.set(reason, refusal)
  }
  return refusal
}

const normalizedTyp = (typ: unknown): string | undefined =>
  typeof typ === "string" ? typ.toLowerCase().replace(/^application\//, "") : undefined

const isFiniteNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

/** Builds a JWT verifier using the {@link Jwks} service for keys. */
export const make = (options: JwtVerifierOptions): Effect.Effect<Service, never, Jwks> =>
  Effect.gen(function* () {
    const jwks = yield* Jwks
    const issuers = new Set(typeof options.issuer === "string" ? [options.issuer] : options.issuer)
    const audiences = typeof options.audience === "string" ? [options.audience] : [...options.audience]
    const algorithms = new Set<string>(options.algorithms ?? asymmetricAlgorithms)
    const toleranceSeconds = Duration.toSeconds(options.clockTolerance ?? "30 seconds")
    const maxAgeSeconds = options.maxTokenAge === undefined ? undefined : Duration.toSeconds(options.maxTokenAge)
    const maxTokenBytes = options.maxTokenBytes ?? 16 * 1024
    const mapping = options.claims ?? {}

    const verifyUntraced = Effect.fnUntraced(function* (redacted: Redacted.Redacted<string>) {
      const token = Redacted.value(redacted)
      // length in UTF-16 units bounds the byte length from below; tokens are ASCII when well-formed
      if (token.length > maxTokenBytes) return yield* invalid("too_large")
      const decoded = decodeCompact(token)
      if (decoded === undefined) return yield* invalid("malformed")
      const { header, payload } = decoded

      if (typeof header["alg"] !== "string" || !algorithms.has(header["alg"])) return yield* invalid("algorithm")
      if (refusedHeaders.some((name) => Object.hasOwn(header, name))) return yield* invalid("header")
      if (header["kid"] !== undefined && typeof header["kid"] !== "string") return yield* invalid("header")
      if (options.typ !== undefined && normalizedTyp(header["typ"]) !== options.typ) return yield* invalid("type")
      // checked before any key fetch: a foreign issuer's token never makes us contact anyone
      if (typeof payload["iss"] !== "string" || !issuers.has(payload["iss"])) return yield* invalid("issuer")

      const alg = header["alg"]
      const key = yield* jwks.getKey({ alg, kid: header["kid"] as string | undefined })
      // the header and payload are decoded once, above; the signature is checked over the token's own bytes
      const prepared = prepareKey(alg, key)
      if (prepared === undefined) return yield* invalid("algorithm")
      let checked: boolean | Promise<boolean>
      try {
        checked = verifyCompactSignature(prepared, token)
      } catch {
        return yield* invalid("malformed")
      }
      // node:crypto answers at once, so a token whose key is already held is verified without leaving the fiber
      const signed = typeof checked === "boolean"
        ? checked
        : yield* Effect.tryPromise({ try: () => checked, catch: () => invalid("malformed") })
      if (!signed) return yield* invalid("signature")

      const now = (yield* Clock.currentTimeMillis) / 1000
      const aud = payload["aud"]
      const audList = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : undefined
      if (audList === undefined || !audList.every((a) => typeof a === "string")) return yield* invalid("audience")
      if (!audList.some((a) => audiences.some((expected) => sameResource(a, expected)))) {
        return yield* invalid("audience")
      }
      const { exp, nbf, iat, sub } = payload
      if (exp === undefined) return yield* invalid("missing_claim")
      if (!isFiniteNumber(exp)) return yield* invalid("claim_type")
      if (now - toleranceSeconds >= exp) return yield* invalid("expired")
      if (nbf !== undefined && !isFiniteNumber(nbf)) return yield* invalid("claim_type")
      if (isFiniteNumber(nbf) && nbf > now + toleranceSeconds) return yield* invalid("not_yet_valid")
      if (iat !== undefined && !isFiniteNumber(iat)) return yield* invalid("claim_type")
      if (isFiniteNumber(iat) && iat > now + toleranceSeconds) return yield* invalid("issued_in_future")
      if (maxAgeSeconds !== undefined) {
        if (!isFiniteNumber(iat)) return yield* invalid("missing_claim")
        if (now - iat > maxAgeSeconds + toleranceSeconds) return yield* invalid("expired")
      }
      if (typeof sub !== "string" || sub.trim() === "") return yield* invalid("subject")

      const clientId = typeof payload["client_id"] === "string" ? payload["client_id"] : typeof payload["azp"] === "string" ? payload["azp"] : undefined
      const info: AuthInfo = {
        token: redacted,
        subject: sub,
        issuer: payload["iss"],
        audience: audList as Array<string>,
        clientId,
        scopes: ClaimMapping.scopes(payload),
        expiresAt: exp,
        claims: payload,
        user: ClaimMapping.toUser(payload, mapping)
      }
      return info
    })

    const span = spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "jwt" })
    const verify = (token: Redacted.Redacted<string>) => span(verifyUntraced(token))

    return { verify }
  })

/** A layer providing {@link TokenVerifier} as a JWT verifier over the {@link Jwks} in context. */
export const layer = (options: JwtVerifierOptions): Layer.Layer<TokenVerifier, never, Jwks> =>
  Layer.effect(TokenVerifier, make(options))
