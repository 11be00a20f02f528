/**
 * JWT access-token verification (RFC 9068, RFC 8725) over a {@link Jwks} key set: jose imports the keys, node:crypto
 * (or WebCrypto where node's is absent) checks signatures.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
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
import { type PreparedKey, prepareKey, verifyCompactSignature } from "./internal/jwsSignature.js"

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

/** A token that passed the checks made before its key is looked up, decoded once. */
interface Unverified {
  readonly payload: Record<string, unknown>
  readonly selector: { readonly alg: string; readonly kid: string | undefined }
}

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

    // the checks before any key is looked up: size, shape, header and issuer
    const beforeKey = (token: string): Unverified | InvalidToken => {
      // length in UTF-16 units bounds the byte length from below; tokens are ASCII when well-formed
      if (token.length > maxTokenBytes) return invalid("too_large")
      const decoded = decodeCompact(token)
      if (decoded === undefined) return invalid("malformed")
      const { header, payload } = decoded
      if (typeof header["alg"] !== "string" || !algorithms.has(header["alg"])) return invalid("algorithm")
      if (refusedHeaders.some((name) => Object.hasOwn(header, name))) return invalid("header")
      if (header["kid"] !== undefined && typeof header["kid"] !== "string") return invalid("header")
      if (options.typ !== undefined && normalizedTyp(header["typ"]) !== options.typ) return invalid("type")
      // checked before any key fetch: a foreign issuer's token never makes us contact anyone
      if (typeof payload["iss"] !== "string" || !issuers.has(payload["iss"])) return invalid("issuer")
      return { payload, selector: { alg: header["alg"], kid: header["kid"] as string | undefined } }
    }

    // the checks after the signature: audience, times, subject; then the principal
    const afterSignature = (redacted: Redacted.Redacted<string>, payload: Record<string, unknown>, nowMillis: number): AuthInfo | InvalidToken => {
      const now = nowMillis / 1000
      const aud = payload["aud"]
      const audList = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : undefined
      if (audList === undefined || !audList.every((a) => typeof a === "string")) return invalid("audience")
      if (!audList.some((a) => audiences.some((expected) => sameResource(a, expected)))) return invalid("audience")
      const { exp, nbf, iat, sub } = payload
      if (exp === undefined) return invalid("missing_claim")
      if (!isFiniteNumber(exp)) return invalid("claim_type")
      if (now - toleranceSeconds >= exp) return invalid("expired")
      if (nbf !== undefined && !isFiniteNumber(nbf)) return invalid("claim_type")
      if (isFiniteNumber(nbf) && nbf > now + toleranceSeconds) return invalid("not_yet_valid")
      if (iat !== undefined && !isFiniteNumber(iat)) return invalid("claim_type")
      if (isFiniteNumber(iat) && iat > now + toleranceSeconds) return invalid("issued_in_future")
      if (maxAgeSeconds !== undefined) {
        if (!isFiniteNumber(iat)) return invalid("missing_claim")
        if (now - iat > maxAgeSeconds + toleranceSeconds) return invalid("expired")
      }
      if (typeof sub !== "string" || sub.trim() === "") return invalid("subject")

      const clientId = typeof payload["client_id"] === "string" ? payload["client_id"] : typeof payload["azp"] === "string" ? payload["azp"] : undefined
      return {
        token: redacted,
        subject: sub,
        issuer: payload["iss"] as string,
        audience: audList as Array<string>,
        clientId,
        scopes: ClaimMapping.scopes(payload),
        expiresAt: exp,
        claims: payload,
        user: ClaimMapping.toUser(payload, mapping)
      }
    }

    // whether the signature verifies; a signature that cannot be checked at all is a malformed token
    const signatureOf = (prepared: PreparedKey, token: string): boolean | Promise<boolean> | InvalidToken => {
      try {
        return verifyCompactSignature(prepared, token)
      } catch {
        return invalid("malformed")
      }
    }

    const verifyUntraced = Effect.fnUntraced(function* (redacted: Redacted.Redacted<string>) {
      const token = Redacted.value(redacted)
      const checked = beforeKey(token)
      if (checked instanceof InvalidToken) return yield* checked
      const key = yield* jwks.getKey(checked.selector)
      // the header and payload are decoded once, above; the signature is checked over the token's own bytes
      const prepared = prepareKey(checked.selector.alg, key)
      if (prepared === undefined) return yield* invalid("algorithm")
      const signature = signatureOf(prepared, token)
      if (signature instanceof InvalidToken) return yield* signature
      // node:crypto answers at once, so a token whose key is already held is verified without leaving the fiber
      const signed = typeof signature === "boolean"
        ? signature
        : yield* Effect.tryPromise({ try: () => signature, catch: () => invalid("malformed") })
      if (!signed) return yield* invalid("signature")
      const outcome = afterSignature(redacted, checked.payload, yield* Clock.currentTimeMillis)
      return outcome instanceof InvalidToken ? yield* outcome : outcome
    })

    // the same verdict outside any fiber, when the key is held and node:crypto can check the signature at once
    const held = jwks.held
    const immediate = held === undefined
      ? undefined
      : (redacted: Redacted.Redacted<string>, now: number): Exit.Exit<AuthInfo, InvalidToken> | undefined => {
          const token = Redacted.value(redacted)
          const checked = beforeKey(token)
          if (checked instanceof InvalidToken) return Exit.fail(checked)
          const key = held(checked.selector, now)
          if (key === undefined) return undefined
          if (Exit.isFailure(key)) return Exit.failCause(key.cause)
          const prepared = prepareKey(checked.selector.alg, key.value)
          if (prepared === undefined) return Exit.fail(invalid("algorithm"))
          // a key only WebCrypto can check answers later: that verification is left to the fiber
          if (prepared.node === undefined) return undefined
          const signature = signatureOf(prepared, token)
          if (signature instanceof InvalidToken) return Exit.fail(signature)
          if (signature !== true) return signature === false ? Exit.fail(invalid("signature")) : undefined
          const outcome = afterSignature(redacted, checked.payload, now)
          return outcome instanceof InvalidToken ? Exit.fail(outcome) : Exit.succeed(outcome)
        }

    const span = Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "jwt" })
    const verify = (token: Redacted.Redacted<string>) => span(verifyUntraced(token))

    return { verify, immediate }
  })

/** A layer providing {@link TokenVerifier} as a JWT verifier over the {@link Jwks} in context. */
export const layer = (options: JwtVerifierOptions): Layer.Layer<TokenVerifier, never, Jwks> =>
  Layer.effect(TokenVerifier, make(options))
