/**
 * The proxy's own access tokens: JWTs (RFC 9068, `typ: at+jwt`) signed with the proxy's key, with `iss` = the proxy,
 * `aud` = this MCP server's resource and a short lifetime. They name their grant (`gid`); the verifier checks the
 * signature and claims with the library's JWT verifier, then that the grant still lives, so revocation, code replay
 * and refresh-token reuse end the tokens at once. An upstream token never passes: its `iss` is not the proxy's.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import { ConfigProblem } from "../ConfigProblem.js"
import { InvalidToken, type UpstreamUnavailable } from "../Errors.js"
import * as Jwks from "../Jwks.js"
import * as JwtVerifier from "../JwtVerifier.js"
import type * as TokenVerifier from "../TokenVerifier.js"
import { randomToken } from "./internal/bytes.js"
import type { GrantRecord } from "./internal/records.js"

/** The proxy's signing key. */
export interface SigningKey {
  readonly alg: "ES256" | "RS256" | "PS256" | "EdDSA"
  readonly kid: string
  readonly privateKey: CryptoKey
  /** The public half, as published (`kid`, `alg`, `use: sig`). */
  readonly publicJwk: jose.JWK
}

const algorithmOf = (jwk: jose.JWK): SigningKey["alg"] | undefined => {
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256"
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA"
  if (jwk.kty === "RSA") return jwk.alg === "PS256" ? "PS256" : "RS256"
  return undefined
}

const fromPrivateJwk = (jwk: jose.JWK, setting: string): Effect.Effect<SigningKey, ConfigProblem> =>
  Effect.gen(function* () {
    const problem = (text: string) => new ConfigProblem({ setting, problem: text })
    if (typeof jwk.d !== "string") return yield* problem("must be a private JWK (with \"d\")")
    const alg = algorithmOf(jwk)
    if (alg === undefined) return yield* problem("must be an EC P-256, Ed25519 or RSA key")
    if (alg !== "ES256" && alg !== "EdDSA" && (jwk.n === undefined || jwk.n.length * 6 < 2040)) {
      return yield* problem("an RSA key must have at least 2048 bits")
    }
    const privateKey = yield* Effect.tryPromise({
      try: () => jose.importJWK({ ...jwk, ext: false }, alg) as Promise<CryptoKey>,
      catch: () => problem("is not a usable private key")
    })
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicPart } = jwk
    const publicJwk: jose.JWK = { ...publicPart, alg, use: "sig" }
    delete publicJwk.key_ops
    delete publicJwk.ext
    const kid = jwk.kid ?? (yield* Effect.promise(() => jose.calculateJwkThumbprint(publicPart)))
    return { alg, kid, privateKey, publicJwk: { ...publicJwk, kid } }
  })

/** Reads a private JWK from configuration (its JSON). */
export const parseSigningKey = (text: Redacted.Redacted<string>, setting: string): Effect.Effect<SigningKey, ConfigProblem> =>
  Effect.gen(function* () {
    let jwk: unknown
    try {
      jwk = JSON.parse(Redacted.value(text))
    } catch {
      return yield* new ConfigProblem({ setting, problem: "must be a private JWK as JSON" })
    }
    if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
      return yield* new ConfigProblem({ setting, problem: "must be a private JWK as JSON" })
    }
    return yield* fromPrivateJwk(jwk as jose.JWK, setting)
  })

/** A fresh ES256 key for this process only. */
export const generateSigningKey: Effect.Effect<SigningKey> = Effect.promise(async () => {
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true })
  return jose.exportJWK(privateKey)
}).pipe(Effect.flatMap((jwk) => Effect.orDie(fromPrivateJwk(jwk, "signingKey"))))

/** A new private JWK as JSON, for `MCP_OAUTH_PROXY_SIGNING_KEY`. */
export const generateSigningKeyJson = (): Promise<string> =>
  jose.generateKeyPair("ES256", { extractable: true }).then(async ({ privateKey }) => {
    const jwk = await jose.exportJWK(privateKey)
    return JSON.stringify({ ...jwk, kid: await jose.calculateJwkThumbprint(jwk), alg: "ES256" })
  })

/** What an access token says. */
export interface AccessTokenClaims {
  readonly grant: GrantRecord
  /** The scopes of this token (the grant's, or fewer on a narrowed refresh). */
  readonly scope: ReadonlyArray<string>
}

/** Issues and verifies the proxy's access tokens. */
export interface AccessTokens {
  /** A signed access token and its lifetime in seconds. */
  readonly issue: (claims: AccessTokenClaims) => Effect.Effect<{ readonly token: string; readonly expiresIn: number }>
  /** The verifier the guard uses. */
  readonly verifier: TokenVerifier.Service
  /**
   * The grant id and client of a token signed by this proxy for this resource, ignoring expiry (revocation of an
   * expired token is still honoured); undefined for anything else.
   */
  readonly inspect: (token: string) => Effect.Effect<{ readonly grantId: string; readonly clientId: string } | undefined>
}

/** Settings of the access tokens. */
export interface AccessTokensOptions {
  readonly issuer: string
  readonly resource: string
  readonly key: SigningKey
  readonly ttl: Duration.DurationInput
  /** Whether the grant of a token is still live (the Store lookup). */
  readonly grantLive: (grantId: string, clientId: string, subject: string) => Effect.Effect<boolean, UpstreamUnavailable>
}

/** Builds issuing and verification over one key. */
export const make = (options: AccessTokensOptions): Effect.Effect<AccessTokens> =>
  Effect.gen(function* () {
    const { key } = options
    const ttlSeconds = Math.max(1, Math.floor(Duration.toSeconds(options.ttl)))
    const jwks = yield* Jwks.fromKeySet({ keys: [key.publicJwk] })
    const jwt = yield* JwtVerifier.make({
      issuer: options.issuer,
      audience: options.resource,
      algorithms: [key.alg === "EdDSA" ? "EdDSA" : key.alg],
      typ: "at+jwt"
    }).pipe(Effect.provideService(Jwks.Jwks, jwks))

    const issue = (claims: AccessTokenClaims) =>
      Effect.gen(function* () {
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const { grant } = claims
        const token = yield* Effect.promise(() =>
          new jose.SignJWT({
            ...grant.claims,
            client_id: grant.client_id,
            scope: claims.scope.join(" "),
            gid: grant.grant_id
          })
            .setProtectedHeader({ alg: key.alg, typ: "at+jwt", kid: key.kid })
            .setIssuer(options.issuer)
            .setSubject(grant.subject)
            .setAudience(options.resource)
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + ttlSeconds)
            .setJti(randomToken(16))
            .sign(key.privateKey)
        )
        return { token, expiresIn: ttlSeconds }
      })

    const revoked = new InvalidToken({ reason: "rejected" })
    const verifier: TokenVerifier.Service = {
      verify: (token) =>
        Effect.gen(function* () {
          const info = yield* jwt.verify(token)
          const grantId = info.claims["gid"]
          if (typeof grantId !== "string" || info.clientId === undefined) return yield* revoked
          if (!(yield* options.grantLive(grantId, info.clientId, info.subject))) return yield* revoked
          return info
        })
    }

    const localKeys = jose.createLocalJWKSet({ keys: [key.publicJwk] })
    // revoking an expired token is allowed (RFC 7009 §2.2): the signature and claims are checked, expiry is not
    const inspect = (token: string) =>
      Effect.promise(async () => {
        if (token.length > 16 * 1024) return undefined
        try {
          const { payload, protectedHeader } = await jose.compactVerify(token, localKeys, { algorithms: [key.alg] })
          if (protectedHeader.typ !== "at+jwt") return undefined
          const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>
          const aud = claims["aud"]
          const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : []
          if (claims["iss"] !== options.issuer || !audiences.includes(options.resource)) return undefined
          const grantId = claims["gid"]
          const clientId = claims["client_id"]
          return typeof grantId === "string" && typeof clientId === "string" ? { grantId, clientId } : undefined
        } catch {
          return undefined
        }
      })

    return { issue, verifier, inspect }
  })
