/**
 * Google access tokens (opaque), verified with Google's token info endpoint. The token is sent in a POST form body,
 * never in the URL (a query string ends up in access logs and proxies). The answer must name OUR client id in `aud`
 * (and `azp` when present): Google issues valid tokens to every application, and a token minted for another one must
 * not be accepted here. Expiry comes from `exp`; the user from `sub` and `email`.
 *
 * With `hostedDomains`, the user must belong to one of these Google Workspace domains (`hd`). Token info for access
 * tokens does not carry `hd`, so it is read from the OpenID Connect userinfo endpoint (token in the `Authorization`
 * header), whose answer must name the same `sub`. The `hd` authorization parameter is only a hint; this is the check.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as ClaimMapping from "../../ClaimMapping.js"
import { ConfigProblem } from "../../ConfigProblem.js"
import { InvalidToken, type InvalidTokenReason } from "../../Errors.js"
import { decodeJson } from "../../internal/fetchJson.js"
import { checkUrl, fromConfigError, splitList } from "../../internal/settings.js"
import { exchangeJson } from "./exchange.js"
import * as Telemetry from "../../Telemetry.js"
import { isPlausibleToken, type Service, type UpstreamIdentity, UpstreamVerifier } from "./UpstreamVerifier.js"

/** Options of the Google verifier. */
export interface GoogleTokenVerifierOptions {
  /** The OAuth client id of the proxy's Google application: `aud` must equal it. */
  readonly clientId: string
  /** Google Workspace domains the user must belong to (`hd`, compared case-insensitively); unset: any account. */
  readonly hostedDomains?: ReadonlyArray<string> | undefined
  /** The token info endpoint (default `https://oauth2.googleapis.com/tokeninfo`). */
  readonly tokenInfoUrl?: string | undefined
  /** The userinfo endpoint, asked only for `hd` (default `https://openidconnect.googleapis.com/v1/userinfo`). */
  readonly userInfoUrl?: string | undefined
  /** Who issued the tokens, as put in the identity (default `https://accounts.google.com`). */
  readonly issuer?: string | undefined
  /** Timeout of each call (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest answer accepted, in bytes (default 64 KiB). */
  readonly maxResponseBytes?: number | undefined
}

/** The defaults of {@link GoogleTokenVerifierOptions}. */
export const defaults = {
  tokenInfoUrl: "https://oauth2.googleapis.com/tokeninfo",
  userInfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
  issuer: "https://accounts.google.com",
  timeout: "5 seconds",
  maxResponseBytes: 64 * 1024
} as const

// token info answers numbers and booleans as strings ("exp": "1716239022", "email_verified": "true")
const NumberLike = Schema.Union(Schema.Number, Schema.NumberFromString)
const BooleanLike = Schema.Union(Schema.Boolean, Schema.Literal("true", "false"))

const TokenInfo = Schema.Struct({
  aud: Schema.String,
  azp: Schema.optional(Schema.String),
  sub: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  exp: Schema.optional(NumberLike),
  email: Schema.optional(Schema.String),
  email_verified: Schema.optional(BooleanLike),
  hd: Schema.optional(Schema.String)
})

const UserInfo = Schema.Struct({
  sub: Schema.String,
  hd: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String)
})

const refused = (reason: InvalidTokenReason = "rejected") => new InvalidToken({ reason })

const checkOptions = (options: GoogleTokenVerifierOptions) =>
  Effect.gen(function* () {
    const clientId = options.clientId.trim()
    if (clientId === "") return yield* new ConfigProblem({ setting: "clientId", problem: "must not be empty" })
    const hostedDomains = options.hostedDomains?.map((d) => d.trim().toLowerCase())
    if (hostedDomains !== undefined && (hostedDomains.length === 0 || hostedDomains.some((d) => !/^[a-z0-9.-]+\.[a-z0-9-]+$/.test(d)))) {
      return yield* new ConfigProblem({ setting: "hostedDomains", problem: "must be one or more domain names" })
    }
    return {
      clientId,
      hostedDomains,
      tokenInfoUrl: yield* checkUrl("tokenInfoUrl", options.tokenInfoUrl ?? defaults.tokenInfoUrl),
      userInfoUrl: yield* checkUrl("userInfoUrl", options.userInfoUrl ?? defaults.userInfoUrl),
      issuer: yield* checkUrl("issuer", options.issuer ?? defaults.issuer, "issuer")
    }
  })

/** Builds the verifier; Google is contacted only when a token is verified. */
export const make = (options: GoogleTokenVerifierOptions): Effect.Effect<Service, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { clientId, hostedDomains, tokenInfoUrl, userInfoUrl, issuer } = yield* checkOptions(options)
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const timeout = options.timeout ?? defaults.timeout
    const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes

    const tokenInfo = (token: string) =>
      Effect.gen(function* () {
        // POST, form body: the token never appears in a URL
        const request = HttpClientRequest.post(tokenInfoUrl).pipe(
          HttpClientRequest.accept("application/json"),
          HttpClientRequest.bodyUrlParams({ access_token: token })
        )
        // 400 `invalid_token` ("Invalid Value") for unknown, expired or revoked tokens
        const answer = yield* exchangeJson(request, {
          target: "google token info",
          timeout,
          maxResponseBytes,
          readStatus: (status) => status === 400 || status === 401
        })
        if (answer.status !== 200) return yield* refused()
        return yield* decodeJson(TokenInfo, "google token info")(answer.body)
      })

    const hostedDomainOf = (token: string, subject: string) =>
      Effect.gen(function* () {
        const request = HttpClientRequest.get(userInfoUrl).pipe(
          HttpClientRequest.accept("application/json"),
          HttpClientRequest.bearerToken(token)
        )
        const answer = yield* exchangeJson(request, {
          target: "google userinfo",
          timeout,
          maxResponseBytes,
          readStatus: (status) => status === 401
        })
        if (answer.status === 401) return yield* refused()
        const info = yield* decodeJson(UserInfo, "google userinfo")(answer.body)
        if (info.sub !== subject) return yield* refused("subject")
        return info
      })

    const verify = Effect.fnUntraced(function* (redacted: Redacted.Redacted<string>) {
      const token = Redacted.value(redacted)
      if (!isPlausibleToken(token)) return yield* refused("malformed")
      const info = yield* tokenInfo(token)
      // issued to another application: valid at Google, worthless here
      if (info.aud !== clientId) return yield* refused("audience")
      if (info.azp !== undefined && info.azp !== clientId) return yield* refused("audience")
      if (info.exp === undefined) return yield* refused("missing_claim")
      if (!Number.isFinite(info.exp)) return yield* refused("claim_type")
      const now = (yield* Clock.currentTimeMillis) / 1000
      if (info.exp <= now) return yield* refused("expired")
      const subject = info.sub
      if (subject === undefined || subject.trim() === "") return yield* refused("subject")

      let hd = info.hd
      let name: string | undefined
      if (hostedDomains !== undefined) {
        if (hd === undefined) {
          const user = yield* hostedDomainOf(token, subject)
          hd = user.hd
          name = user.name
        }
        if (hd === undefined || !hostedDomains.includes(hd.toLowerCase())) return yield* refused("rejected")
      }

      const scopes = ClaimMapping.stringList(info.scope ?? "")
      const emailVerified = info.email_verified === true || info.email_verified === "true"
      const claims: Record<string, unknown> = {
        sub: subject,
        aud: info.aud,
        scope: scopes.join(" "),
        exp: info.exp,
        ...(info.email === undefined ? {} : { email: info.email, email_verified: emailVerified }),
        ...(hd === undefined ? {} : { hd }),
        ...(name === undefined ? {} : { name })
      }
      const identity: UpstreamIdentity = {
        provider: "google",
        issuer,
        subject,
        clientId,
        scopes,
        expiresAt: Math.floor(info.exp),
        user: { userId: subject, email: info.email, name, roles: [], permissions: [] },
        claims
      }
      return identity
    }, Effect.provide(context))

    const span = Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "google" })
    return { verify: (token) => span(verify(token)) }
  })

/** A layer providing {@link UpstreamVerifier} for Google. */
export const layer = (options: GoogleTokenVerifierOptions): Layer.Layer<UpstreamVerifier, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(UpstreamVerifier, make(options))

/** The environment variables read by {@link layerConfig}: `MCP_OAUTH_GOOGLE_CLIENT_ID`, `…_HOSTED_DOMAINS`. */
export const config: Config.Config<GoogleTokenVerifierOptions> = Config.all({
  clientId: Config.string("MCP_OAUTH_GOOGLE_CLIENT_ID"),
  hostedDomains: Config.option(Config.string("MCP_OAUTH_GOOGLE_HOSTED_DOMAINS"))
}).pipe(
  Config.map(({ clientId, hostedDomains }) => ({
    clientId,
    hostedDomains: Option.map(hostedDomains, splitList).pipe(Option.getOrUndefined)
  }))
)

const variableOf: Record<string, string> = {
  clientId: "MCP_OAUTH_GOOGLE_CLIENT_ID",
  hostedDomains: "MCP_OAUTH_GOOGLE_HOSTED_DOMAINS"
}

/** Like {@link layer}, with options from configuration; a problem names the variable. */
export const layerConfig = (
  options: Config.Config<GoogleTokenVerifierOptions> = config
): Layer.Layer<UpstreamVerifier, ConfigProblem, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(Effect.mapError(options, fromConfigError), (resolved) =>
      layer(resolved).pipe(
        Layer.mapError((problem) => new ConfigProblem({ setting: variableOf[problem.setting] ?? problem.setting, problem: problem.problem }))
      )
    )
  )
