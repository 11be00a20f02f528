/**
 * Opaque access-token verification by OAuth 2.0 Token Introspection (RFC 7662), with a cache keyed by token digest,
 * single-flight calls per token, a short negative cache, and the same claim checks as for JWTs (issuer, audience,
 * expiry, subject).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { AuthInfo } from "./AuthInfo.js"
import * as ClaimMapping from "./ClaimMapping.js"
import { ConfigProblem } from "./ConfigProblem.js"
import * as Discovery from "./Discovery.js"
import { InvalidToken, type InvalidTokenReason, UpstreamUnavailable } from "./Errors.js"
import { sameResource } from "./ResourceUrl.js"
import * as Telemetry from "./Telemetry.js"
import { TokenVerifier, type Service } from "./TokenVerifier.js"
import { formEncode, postForm } from "./internal/postForm.js"
import { checkUrl, fromConfigError } from "./internal/settings.js"
import * as ExpiringLru from "./internal/expiringLru.js"
import { tokenDigest } from "./internal/tokenDigest.js"

/** How the resource server authenticates to the introspection endpoint (RFC 6749 §2.3.1). */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post"

/** Cache settings; durations accept anything `Duration.decode` does. */
export interface IntrospectionCacheOptions {
  /**
   * Longest time an active result is reused without asking again (default 30 seconds), and never past the token's
   * `exp`. It is the longest a revoked token keeps working here. `0` asks on every request.
   */
  readonly maxTtl?: Duration.DurationInput | undefined
  /** How long a refused token stays refused without asking again (default 10 seconds); `0` turns it off. */
  readonly negativeTtl?: Duration.DurationInput | undefined
  /** Most tokens remembered, for active and refused tokens each; the least recently used goes first (default 10 000). */
  readonly maxEntries?: number | undefined
}

/** Options named after the RFC 7662 members and RFC 6749 parameters they control. */
export interface IntrospectionVerifierOptions {
  /** The introspection endpoint; discovered from `issuer`'s metadata (`introspection_endpoint`) when absent. */
  readonly endpoint?: string | undefined
  /**
   * The authorization server's issuer identifier: where the endpoint is discovered when not given, and the value a
   * response's `iss`, when it has one, must equal exactly.
   */
  readonly issuer?: string | undefined
  /** This resource server's client id at the authorization server. */
  readonly clientId: string
  /** Its client secret; unwrapped only to build the request. */
  readonly clientSecret: Redacted.Redacted<string>
  /** `client_secret_basic` (default) or `client_secret_post`. */
  readonly clientAuthMethod?: ClientAuthMethod | undefined
  /** Accepted audiences (RFC 8707): the response's `aud` (string or array) must name one of them exactly. */
  readonly audience: string | ReadonlyArray<string>
  /**
   * Refuse active tokens whose introspection response has no `aud` (default true). Turn off only for an
   * authorization server that never returns one and issues tokens for this server alone.
   */
  readonly requireAudience?: boolean | undefined
  /** Refuse active tokens whose response has no `exp` (default false; such results are still cached at most `maxTtl`). */
  readonly requireExpiry?: boolean | undefined
  /**
   * Accept tokens without `sub` (the client credentials grant), with the `client_id` as subject and user id
   * (default false: a token must name a user).
   */
  readonly clientCredentials?: boolean | undefined
  /** Leeway for `exp` and `nbf` (default 30 seconds). */
  readonly clockTolerance?: Duration.DurationInput | undefined
  /** Where the user's fields live in the response. */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
  /** Cache settings. */
  readonly cache?: IntrospectionCacheOptions | undefined
  /** Timeout of one introspection call (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest accepted response body in bytes (default 64 KiB). */
  readonly maxResponseBytes?: number | undefined
  /** Largest token sent for introspection, in bytes (default 16 KiB); longer ones are refused without a call. */
  readonly maxTokenBytes?: number | undefined
  /** Metadata discovery settings, when the endpoint is discovered. */
  readonly discovery?: Omit<Discovery.DiscoveryOptions, "issuer"> | undefined
}

/** The defaults of {@link IntrospectionVerifierOptions}. */
export const defaults = {
  clientAuthMethod: "client_secret_basic",
  clockTolerance: "30 seconds",
  maxTtl: "30 seconds",
  negativeTtl: "10 seconds",
  maxEntries: 10_000,
  timeout: "5 seconds",
  maxResponseBytes: 64 * 1024,
  maxTokenBytes: 16 * 1024
} as const

const target = "token introspection"

/** The members of an introspection response this verifier reads (RFC 7662 §2.2); others are kept as claims. */
const IntrospectionResponse = Schema.Struct({
  active: Schema.Boolean,
  scope: Schema.optional(Schema.String),
  client_id: Schema.optional(Schema.String),
  username: Schema.optional(Schema.String),
  token_type: Schema.optional(Schema.String),
  exp: Schema.optional(Schema.Number),
  iat: Schema.optional(Schema.Number),
  nbf: Schema.optional(Schema.Number),
  sub: Schema.optional(Schema.String),
  aud: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String))),
  iss: Schema.optional(Schema.String),
  jti: Schema.optional(Schema.String)
})

const Activity = Schema.Struct({ active: Schema.Boolean })
const OAuthError = Schema.Struct({ error: Schema.String })

const decodeActivity = Schema.decodeUnknownOption(Activity)
const decodeResponse = Schema.decodeUnknownOption(IntrospectionResponse)
const decodeError = Schema.decodeUnknownOption(OAuthError)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

// `token_type` is the RFC 6749 §7.1 type (Bearer), though some servers put the RFC 8693 identifier or a kind name
const accessTokenTypes = new Set(["bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token"])

const invalid = (reason: InvalidTokenReason) => new InvalidToken({ reason })

const upstream = (reason: UpstreamUnavailable["reason"], retryAfterSeconds = 1) =>
  new UpstreamUnavailable({ reason, target, retryAfterSeconds })

/** An error code from the upstream, fit for a log line. */
const loggable = (code: string): string => (/^[\x21-\x7e]{1,64}$/.test(code) ? code : "<unprintable>")

/** The principal of an active token, as cached: everything but the token itself. */
type Principal = Omit<AuthInfo, "token">

interface Verdict {
  readonly principal: Principal
  /** Epoch milliseconds until which the verdict may be reused. */
  readonly until: number
}

/** Shared services a provider may hand in, so that one issuer is discovered once. */
export interface Shared {
  /** Metadata discovery of `issuer`, used when `endpoint` is absent. */
  readonly discovery?: Discovery.Service | undefined
}

/**
 * Builds an introspection verifier. Settings are validated now (a {@link ConfigProblem} names the one at fault);
 * the authorization server is contacted only when the first token arrives.
 */
export const make = (
  options: IntrospectionVerifierOptions,
  shared: Shared = {}
): Effect.Effect<Service, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    if (options.clientId === "") return yield* new ConfigProblem({ setting: "clientId", problem: "is required" })
    if (Redacted.value(options.clientSecret) === "") {
      return yield* new ConfigProblem({ setting: "clientSecret", problem: "is required" })
    }
    const issuer = options.issuer === undefined ? undefined : yield* checkUrl("issuer", options.issuer, "issuer")
    const audiences = typeof options.audience === "string" ? [options.audience] : [...options.audience]
    if (audiences.length === 0 || audiences.some((a) => a === "")) {
      return yield* new ConfigProblem({ setting: "audience", problem: "must name at least one resource" })
    }
    const method = options.clientAuthMethod ?? defaults.clientAuthMethod
    if (method !== "client_secret_basic" && method !== "client_secret_post") {
      return yield* new ConfigProblem({
        setting: "clientAuthMethod",
        problem: `${JSON.stringify(method)} must be client_secret_basic or client_secret_post`
      })
    }
    const endpoint = yield* endpointOf(options, issuer, shared)
    const requireAudience = options.requireAudience ?? true
    const requireExpiry = options.requireExpiry ?? false
    const toleranceSeconds = Duration.toSeconds(options.clockTolerance ?? defaults.clockTolerance)
    const maxTtl = Duration.toMillis(options.cache?.maxTtl ?? defaults.maxTtl)
    const negativeTtl = Duration.toMillis(options.cache?.negativeTtl ?? defaults.negativeTtl)
    const maxEntries = options.cache?.maxEntries ?? defaults.maxEntries
    const maxTokenBytes = options.maxTokenBytes ?? defaults.maxTokenBytes
    const mapping = options.claims ?? {}
    const postOptions = {
      target,
      timeout: options.timeout ?? defaults.timeout,
      maxResponseBytes: options.maxResponseBytes ?? defaults.maxResponseBytes,
      // 400 carries `unsupported_token_type` for tokens the server will not introspect; 401/403 our own credentials
      readStatus: (status: number) => status === 400 || status === 401 || status === 403
    }

    // the client id is public by nature; the endpoint is left out, as a configured URL could carry credentials
    const introspectAttributes = { [Telemetry.Attribute.clientId]: options.clientId, ...(issuer === undefined ? {} : { [Telemetry.Attribute.issuer]: issuer }) }
    const verifyAttributes = { [Telemetry.Attribute.verifier]: "introspection" }

    // the secret is unwrapped here, per call, and lives only in the outgoing request
    const request = (token: string) => {
      const id = options.clientId
      const secret = Redacted.value(options.clientSecret)
      const form: Record<string, string> = { token, token_type_hint: "access_token" }
      if (method === "client_secret_post") return { form: { ...form, client_id: id, client_secret: secret }, headers: {} }
      // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined and base64-encoded
      return { form, headers: { authorization: `Basic ${btoa(`${formEncode(id)}:${formEncode(secret)}`)}` } }
    }

    /** Asks the authorization server about one token and checks the answer. */
    const introspect = (token: string): Effect.Effect<Verdict, InvalidToken | UpstreamUnavailable> =>
      Effect.gen(function* () {
        const url = yield* endpoint
        const { form, headers } = request(token)
        const response = yield* postForm(url, form, { ...postOptions, headers })
        if (response.status < 200 || response.status >= 300) {
          const code = Option.match(decodeError(response.body), { onNone: () => "", onSome: (e) => e.error })
          // RFC 7009 §2.2.1 error some servers (oidc-provider) answer for tokens they do not introspect, such as JWTs
          if (response.status === 400 && code === "unsupported_token_type") return yield* invalid("rejected")
          yield* Effect.logWarning(
            response.status === 400
              ? "token introspection refused the request"
              : "token introspection refused this server's client credentials; check the client id and secret"
          ).pipe(Effect.annotateLogs({ target, status: response.status, error: loggable(code) }))
          return yield* upstream("status", 5)
        }
        const body = response.body
        const activity = decodeActivity(body)
        if (Option.isNone(activity) || !isRecord(body)) {
          yield* Effect.logDebug("introspection response is not an RFC 7662 object").pipe(Effect.annotateLogs({ target }))
          return yield* upstream("bad_response")
        }
        if (!activity.value.active) return yield* invalid("rejected")
        const decoded = decodeResponse(body)
        // an active answer with a member of the wrong type is refused like a JWT claim of the wrong type
        if (Option.isNone(decoded)) return yield* invalid("claim_type")
        const claims = decoded.value

        if (claims.token_type !== undefined && !accessTokenTypes.has(claims.token_type.toLowerCase())) {
          return yield* invalid("type")
        }
        // a sender-constrained token (RFC 8705 mTLS, RFC 9449 DPoP) is only valid with a proof this server cannot check
        if (Object.hasOwn(body, "cnf") && body["cnf"] !== null) return yield* invalid("type")
        if (issuer !== undefined && claims.iss !== undefined && claims.iss !== issuer) return yield* invalid("issuer")
        const audList = claims.aud === undefined ? undefined : typeof claims.aud === "string" ? [claims.aud] : claims.aud
        if (audList === undefined) {
          if (requireAudience) return yield* invalid("audience")
        } else if (!audList.some((a) => audiences.some((expected) => sameResource(a, expected)))) {
          return yield* invalid("audience")
        }
        const now = yield* Clock.currentTimeMillis
        const nowSeconds = now / 1000
        const { exp, nbf } = claims
        if ((exp !== undefined && !Number.isFinite(exp)) || (nbf !== undefined && !Number.isFinite(nbf))) {
          return yield* invalid("claim_type")
        }
        if (exp === undefined && requireExpiry) return yield* invalid("missing_claim")
        if (exp !== undefined && nowSeconds - toleranceSeconds >= exp) return yield* invalid("expired")
        if (nbf !== undefined && nbf > nowSeconds + toleranceSeconds) return yield* invalid("not_yet_valid")

        const sub = claims.sub !== undefined && claims.sub.trim() !== "" ? claims.sub : undefined
        const clientId = claims.client_id !== undefined && claims.client_id !== "" ? claims.client_id : undefined
        const subject = sub ?? (options.clientCredentials === true ? clientId : undefined)
        if (subject === undefined) return yield* invalid("subject")

        const principal: Principal = {
          subject,
          issuer: claims.iss ?? issuer ?? "",
          audience: audList ?? [],
          clientId,
          scopes: ClaimMapping.scopes(body),
          expiresAt: exp,
          claims: body,
          user: ClaimMapping.toUser({ ...body, sub: subject }, mapping)
        }
        // never reused past the token's own expiry, nor for longer than the configured bound
        const until = Math.min(now + maxTtl, exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000)
        return { principal, until }
      }).pipe(Effect.provide(context), Telemetry.spanned(Telemetry.Span.introspect, introspectAttributes))

    const positive = ExpiringLru.make<Principal>(maxEntries)
    const negative = ExpiringLru.make<InvalidTokenReason>(maxEntries)
    const inflight = new Map<string, Deferred.Deferred<Principal, InvalidToken | UpstreamUnavailable>>()

    // records the outcome and hands it to everyone waiting for this token
    const settle = (
      key: string,
      deferred: Deferred.Deferred<Principal, InvalidToken | UpstreamUnavailable>,
      exit: Exit.Exit<Verdict, InvalidToken | UpstreamUnavailable>
    ) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        inflight.delete(key)
        if (Exit.isSuccess(exit)) {
          if (maxTtl > 0) positive.set(key, exit.value.principal, exit.value.until, now)
          return yield* Deferred.succeed(deferred, exit.value.principal)
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) {
          const error = failure.value
          if (error._tag === "InvalidToken") negative.set(key, error.reason, now + negativeTtl, now)
          return yield* Deferred.fail(deferred, error)
        }
        if (!Cause.isInterruptedOnly(exit.cause)) {
          yield* Effect.logError("token introspection crashed", exit.cause).pipe(Effect.annotateLogs({ target }))
        }
        return yield* Deferred.fail(deferred, upstream("bad_response"))
      })

    // the call runs in its own fiber so that a caller giving up never cancels it for the others waiting on it; its
    // timeout bounds its life
    const start = (key: string, token: string, deferred: Deferred.Deferred<Principal, InvalidToken | UpstreamUnavailable>) =>
      Effect.interruptible(introspect(token)).pipe(
        Effect.exit,
        Effect.flatMap((exit) => settle(key, deferred, exit)),
        Effect.uninterruptible,
        Effect.forkDaemon
      )

    type Plan =
      | { readonly _tag: "Hit"; readonly principal: Principal }
      | { readonly _tag: "Refused"; readonly reason: InvalidTokenReason }
      | { readonly _tag: "Await"; readonly deferred: Deferred.Deferred<Principal, InvalidToken | UpstreamUnavailable> }
      | { readonly _tag: "Start"; readonly deferred: Deferred.Deferred<Principal, InvalidToken | UpstreamUnavailable> }

    // a verdict the caches hold (a principal, or a refusal's reason)
    const held = (key: string, now: number): (Plan & { readonly _tag: "Hit" | "Refused" }) | undefined => {
      const principal = positive.get(key, now)
      if (principal !== undefined) return { _tag: "Hit", principal }
      const reason = negative.get(key, now)
      return reason === undefined ? undefined : { _tag: "Refused", reason }
    }

    // deciding and forking are one uninterruptible step, and the decision is one synchronous block: exactly one
    // caller per token starts a call, and no `inflight` entry is left without a fiber to complete it
    const principalOf = (key: string, token: string): Effect.Effect<Principal, InvalidToken | UpstreamUnavailable> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const fresh = yield* Deferred.make<Principal, InvalidToken | UpstreamUnavailable>()
          const plan = yield* Effect.sync((): Plan => {
            const known = held(key, now)
            if (known !== undefined) return known
            const running = inflight.get(key)
            if (running !== undefined) return { _tag: "Await", deferred: running }
            inflight.set(key, fresh)
            return { _tag: "Start", deferred: fresh }
          })
          switch (plan._tag) {
            case "Hit":
              return plan.principal
            case "Refused":
              return yield* invalid(plan.reason)
            case "Await":
              return yield* restore(Deferred.await(plan.deferred))
            case "Start":
              yield* start(key, token, plan.deferred)
              return yield* restore(Deferred.await(plan.deferred))
          }
        })
      )

    // one span per verification, cache hits included, so refusals from the negative cache are seen with their reason;
    // the call to the authorization server, when one is made, is its child
    const verify = (redacted: Redacted.Redacted<string>): Effect.Effect<AuthInfo, InvalidToken | UpstreamUnavailable> =>
      Effect.suspend(() => {
        const token = Redacted.value(redacted)
        if (token === "") return Effect.fail(invalid("malformed"))
        // length in UTF-16 units bounds the byte length from below; bearer tokens are ASCII (RFC 6750 §2.1)
        if (token.length > maxTokenBytes) return Effect.fail(invalid("too_large"))
        return Effect.map(principalOf(tokenDigest(token), token), (principal): AuthInfo => ({ token: redacted, ...principal }))
      }).pipe(Telemetry.spanned(Telemetry.Span.verifyToken, verifyAttributes))

    // a held verdict without a fiber; anything else (a call to make or to join) is left to `verify`
    const immediate = (redacted: Redacted.Redacted<string>, now: number): Exit.Exit<AuthInfo, InvalidToken> | undefined => {
      const token = Redacted.value(redacted)
      if (token === "") return Exit.fail(invalid("malformed"))
      if (token.length > maxTokenBytes) return Exit.fail(invalid("too_large"))
      const known = held(tokenDigest(token), now)
      if (known === undefined) return undefined
      return known._tag === "Hit" ? Exit.succeed({ token: redacted, ...known.principal }) : Exit.fail(invalid(known.reason))
    }

    return TokenVerifier.of({ verify, immediate })
  })

/** The endpoint, given (checked now) or discovered from the issuer's metadata on first use (checked then). */
const endpointOf = (
  options: IntrospectionVerifierOptions,
  issuer: string | undefined,
  shared: Shared
): Effect.Effect<Effect.Effect<string, UpstreamUnavailable>, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    if (options.endpoint !== undefined) return Effect.succeed(yield* checkUrl("endpoint", options.endpoint))
    if (issuer === undefined) {
      return yield* new ConfigProblem({ setting: "endpoint", problem: "is required when no issuer is given to discover it from" })
    }
    const discovery = shared.discovery ?? (yield* Discovery.make({ ...options.discovery, issuer }))
    const metadataTarget = "authorization server metadata"
    return Effect.flatMap(discovery.metadata, (metadata) => {
      const url = metadata.introspection_endpoint
      if (url === undefined) {
        return Effect.zipRight(
          Effect.logWarning("the issuer's metadata has no introspection_endpoint; configure the endpoint"),
          new UpstreamUnavailable({ reason: "bad_response", target: metadataTarget, retryAfterSeconds: 30 })
        )
      }
      // a discovered endpoint gets the client's credentials, so it passes the same checks as a configured one
      return checkUrl("introspection_endpoint", url).pipe(
        Effect.tapError((problem) => Effect.logWarning("the issuer's introspection_endpoint is refused").pipe(
          Effect.annotateLogs({ problem: problem.problem })
        )),
        Effect.mapError(() => new UpstreamUnavailable({ reason: "bad_response", target: metadataTarget, retryAfterSeconds: 30 }))
      )
    })
  })

/** A layer providing {@link TokenVerifier} by token introspection. */
export const layer = (
  options: IntrospectionVerifierOptions
): Layer.Layer<TokenVerifier, ConfigProblem, HttpClient.HttpClient> => Layer.effect(TokenVerifier, make(options))

/**
 * Like {@link layer}, with options read from configuration, e.g.
 * `{ endpoint: Config.string("MCP_OAUTH_INTROSPECTION_URL"), clientSecret: Config.redacted("…"), … }`.
 */
export const layerConfig = (
  options: Config.Config.Wrap<IntrospectionVerifierOptions>
): Layer.Layer<TokenVerifier, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(TokenVerifier, Effect.flatMap(Effect.mapError(Config.unwrap(options), fromConfigError), (o) => make(o)))
