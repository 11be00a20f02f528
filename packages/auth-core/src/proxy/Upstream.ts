/**
 * The upstream identity provider behind the OAuth proxy: its endpoints (discovered from the issuer, or given), the
 * authorization URL the proxy sends the browser to (its own client id, state, S256 pair and nonce), the code exchange
 * and refresh with the client secret injected (HTTP Basic or POST body, never in a URL), and the user's identity
 * from the verified ID token or the userinfo endpoint.
 *
 * Calls follow no redirects, are bounded in time and size, and fail with errors that name no URL, header or secret.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Telemetry from "../Telemetry.js"
import { ConfigProblem } from "../ConfigProblem.js"
import * as Discovery from "../Discovery.js"
import { UpstreamUnavailable } from "../Errors.js"
import * as Jwks from "../Jwks.js"
import * as JwtVerifier from "../JwtVerifier.js"
import type { AuthorizationServerMetadata } from "../Metadata.js"
import { discoveredJwks } from "../internal/discoveredJwks.js"
import { decodeJson, fetchJson } from "../internal/fetchJson.js"
import { formEncode, postForm } from "../internal/postForm.js"
import { introspectAt, revokeAt } from "./internal/upstreamGrant.js"
import { checkScopes, checkUrl } from "../internal/settings.js"
import * as PresetVerifier from "./presets/PresetVerifier.js"
import { acceptsAuthorizationResponseIssuer, type UpstreamPreset } from "./presets/UpstreamPreset.js"
import * as UserinfoCheck from "./upstream/UserinfoCheck.js"

/** How the proxy authenticates to the upstream token endpoint (RFC 6749 §2.3.1). */
export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post"

/** Where the upstream is and how the proxy is registered there. */
export interface UpstreamOptions {
  /**
   * The upstream issuer: its metadata (RFC 8414 or OpenID Connect discovery) supplies the endpoints not given below,
   * its `iss` is checked in authorization responses (RFC 9207) and ID tokens. Required unless both endpoints are given.
   */
  readonly issuer?: string | undefined
  /** The authorization endpoint (default: from the issuer's metadata). */
  readonly authorizationEndpoint?: string | undefined
  /** The token endpoint (default: from the issuer's metadata). */
  readonly tokenEndpoint?: string | undefined
  /**
   * The userinfo endpoint, used when the token response has no ID token, and to re-check a grant when there is no
   * introspection endpoint (default: from the metadata).
   */
  readonly userinfoEndpoint?: string | undefined
  /** The key set of ID tokens (default: from the metadata). */
  readonly jwksUri?: string | undefined
  /** RFC 7009 revocation, called when a grant ends at the proxy (default: from the metadata). */
  readonly revocationEndpoint?: string | undefined
  /** RFC 7662 introspection, the preferred way to re-check an upstream grant (default: from the metadata). */
  readonly introspectionEndpoint?: string | undefined
  /** The proxy's client id at the upstream. */
  readonly clientId: string
  /** The proxy's client secret at the upstream. */
  readonly clientSecret: Redacted.Redacted<string>
  /** How the secret is sent (default `client_secret_basic`). */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
  /** Scopes requested upstream (default `openid email profile`). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Extra authorization request parameters, e.g. `{ access_type: "offline" }` for Google. */
  readonly authorizationParams?: Readonly<Record<string, string>> | undefined
  /** Timeout of one upstream call (default 10 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Finds the user behind a token response when the upstream issues no ID token and has no userinfo endpoint
   * (opaque-token providers such as GitHub); the default verifies the ID token, else asks the userinfo endpoint.
   */
  readonly identify?: Identify | undefined
}

/** The upstream's tokens, kept server-side (sealed in the Store), never sent to a client. */
export interface UpstreamTokens {
  readonly access_token: string
  readonly token_type: string
  readonly refresh_token?: string | undefined
  /** Expiry in milliseconds since the epoch, when the upstream said. */
  readonly expires_at?: number | undefined
  readonly scope?: string | undefined
}

/** The upstream user, as the proxy's tokens carry it. */
export interface Identity {
  /** The upstream's stable subject identifier. */
  readonly subject: string
  /** Profile claims copied into the proxy's access tokens (`email`, `name`, `roles`, `permissions`). */
  readonly claims: Readonly<Record<string, unknown>>
}

/** The upstream refused a request with an OAuth error (its code only; its description is never relayed). */
export class UpstreamRefused extends Data.TaggedError("UpstreamRefused")<{
  readonly step: "token" | "refresh" | "identity"
  readonly error: string
}> {}

/**
 * What the upstream says about a grant: `active` (with new tokens when the check refreshed them), `revoked`, or
 * `unknown` when the upstream offers no way to ask (no introspection, token check, userinfo or refresh token).
 */
export type GrantCheck =
  | { readonly _tag: "active"; readonly tokens?: UpstreamTokens | undefined }
  | { readonly _tag: "revoked" }
  | { readonly _tag: "unknown" }

/** The outcome of an upstream revocation: done, refused by the upstream, or impossible (no revocation endpoint). */
export type RevocationOutcome = "revoked" | "refused" | "unsupported"

/** A user function finding the identity behind an upstream token response. */
export type Identify = (
  tokens: UpstreamTokens & { readonly id_token?: string | undefined }
) => Effect.Effect<Identity, UpstreamRefused | UpstreamUnavailable>

/** The upstream, ready to use. */
export interface Upstream {
  /** The upstream issuer, when it has exactly one. */
  readonly issuer: string | undefined
  /**
   * Whether an authorization response's `iss` (RFC 9207) is acceptable: it must name the upstream when present, and
   * must be present when the upstream promises it. Configure the upstream's issuer to have it checked.
   */
  readonly acceptsIss: (iss: string | undefined) => Effect.Effect<boolean, UpstreamUnavailable>
  /** The URL the browser is sent to, after consent. */
  readonly authorizationUrl: (request: {
    readonly redirectUri: string
    readonly state: string
    readonly codeChallenge: string
    readonly nonce: string | undefined
    readonly loginHint: string | undefined
  }) => Effect.Effect<string, UpstreamUnavailable>
  /** Whether the proxy asks for an ID token (and so sends a nonce). */
  readonly wantsIdToken: boolean
  /** Exchanges an authorization code (with the proxy's verifier) for tokens and the user's identity. */
  readonly exchangeCode: (request: {
    readonly code: string
    readonly codeVerifier: string
    readonly redirectUri: string
    readonly nonce: string | undefined
  }) => Effect.Effect<{ readonly tokens: UpstreamTokens; readonly identity: Identity }, UpstreamRefused | UpstreamUnavailable>
  /** Refreshes the upstream tokens. */
  readonly refresh: (refreshToken: string) => Effect.Effect<UpstreamTokens, UpstreamRefused | UpstreamUnavailable>
  /**
   * Asks the upstream whether the grant behind these tokens still stands: introspection of the refresh token (or
   * access token) when the upstream has an introspection endpoint, else the preset's token check (GitHub, Google) or
   * the userinfo endpoint for a fresh access token, else a refresh. Nothing is revoked here.
   */
  readonly checkGrant: (tokens: UpstreamTokens) => Effect.Effect<GrantCheck, UpstreamUnavailable>
  /** Revokes the upstream grant (its refresh token, else its access token) at the RFC 7009 endpoint, if there is one. */
  readonly revoke: (tokens: UpstreamTokens) => Effect.Effect<RevocationOutcome, UpstreamUnavailable>
}

const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(16 * 1024)),
  token_type: Schema.optionalWith(Schema.String, { default: () => "Bearer" }),
  refresh_token: Schema.optional(Schema.String.pipe(Schema.maxLength(16 * 1024))),
  expires_in: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString)),
  id_token: Schema.optional(Schema.String.pipe(Schema.maxLength(32 * 1024))),
  scope: Schema.optional(Schema.String)
})

const ErrorResponse = Schema.Struct({ error: Schema.String })

const Userinfo = Schema.Struct({ sub: Schema.String.pipe(Schema.minLength(1)) }, Schema.Record({ key: Schema.String, value: Schema.Unknown }))

const oauthErrorCodes = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "access_denied",
  "bad_verification_code",
  "incorrect_client_credentials"
])

/** Profile claims worth carrying: strings for names, arrays of strings for roles and permissions. */
export const profileClaims = (claims: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name of ["email", "name", "preferred_username"]) {
    const value = claims[name]
    if (typeof value === "string" && value.length <= 320) out[name] = value
  }
  if (claims["email_verified"] === true) out["email_verified"] = true
  for (const name of ["roles", "permissions", "groups"]) {
    const value = claims[name]
    if (Array.isArray(value) && value.length > 0 && value.length <= 100 && value.every((v) => typeof v === "string" && v.length <= 200)) {
      out[name] = value
    }
  }
  return out
}

const target = "upstream token endpoint"

/** What the shared implementation needs, from options or from a preset. */
interface Normalized {
  readonly issuer: string | undefined
  readonly acceptsIss: (iss: string | undefined) => Effect.Effect<boolean, UpstreamUnavailable>
  readonly authorizationEndpoint: Effect.Effect<string, UpstreamUnavailable>
  readonly tokenEndpoint: Effect.Effect<string, UpstreamUnavailable>
  readonly revocationEndpoint: Effect.Effect<string | undefined, UpstreamUnavailable>
  readonly introspectionEndpoint: Effect.Effect<string | undefined, UpstreamUnavailable>
  /** Where an access token is re-checked when there is neither introspection nor a provider token check. */
  readonly userinfoEndpoint: Effect.Effect<string | undefined, UpstreamUnavailable>
  /** The provider's own token check (GitHub, Google): whether an access token is still valid for our application. */
  readonly checkAccessToken: ((token: string) => Effect.Effect<boolean, UpstreamUnavailable>) | undefined
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly authMethod: TokenEndpointAuthMethod
  readonly tokenRequestHeaders: Readonly<Record<string, string>>
  readonly authorizationParams: Readonly<Record<string, string>>
  readonly scopes: ReadonlyArray<string>
  readonly wantsIdToken: boolean
  readonly timeout: Duration.DurationInput
  readonly identify: (
    tokens: UpstreamTokens & { readonly id_token?: string | undefined },
    nonce: string | undefined
  ) => Effect.Effect<Identity, UpstreamRefused | UpstreamUnavailable>
}

const refusedIdentity = (reason: string) =>
  Effect.zipRight(
    Effect.logWarning("upstream identity refused").pipe(Effect.annotateLogs({ reason })),
    new UpstreamRefused({ step: "identity", error: "invalid_token" })
  )

/** What was said about an access token alone, and which check said it. */
interface AccessTokenVerdict {
  readonly verdict: UserinfoCheck.UserinfoVerdict
  readonly by: "token check" | "userinfo" | "none"
}

/** The shared implementation over normalized settings. */
const build = (n: Normalized, context: Context.Context<HttpClient.HttpClient>): Upstream => {
  const clientAuthentication = (form: Record<string, string>) =>
    Effect.sync(() => {
      // unwrapped only here, for the request; it reaches neither a URL nor a log nor an error
      const secret = Redacted.value(n.clientSecret)
      if (n.authMethod === "client_secret_post") {
        return { headers: { ...n.tokenRequestHeaders }, form: { ...form, client_id: n.clientId, client_secret: secret } }
      }
      const basic = btoa(String.fromCharCode(...new TextEncoder().encode(`${formEncode(n.clientId)}:${formEncode(secret)}`)))
      return { headers: { ...n.tokenRequestHeaders, authorization: `Basic ${basic}` }, form }
    })

  const tokenCall = (step: "token" | "refresh", form: Record<string, string>) =>
    Effect.gen(function* () {
      const url = yield* n.tokenEndpoint
      const authenticated = yield* clientAuthentication(form)
      const response = yield* postForm(url, authenticated.form, {
        target,
        timeout: n.timeout,
        maxResponseBytes: 256 * 1024,
        headers: authenticated.headers,
        readStatus: (status) => status === 400 || status === 401
      })
      const error = Either.getOrUndefined(Schema.decodeUnknownEither(ErrorResponse)(response.body))?.error
      // GitHub reports token errors with status 200 and an `error` member
      if (response.status !== 200 && response.status !== 201 || error !== undefined) {
        const code = error !== undefined && oauthErrorCodes.has(error) ? error : "invalid_request"
        yield* Effect.logWarning("upstream refused a token request").pipe(
          Effect.annotateLogs({ step, status: response.status, error: code })
        )
        return yield* new UpstreamRefused({ step, error: code })
      }
      const decoded = yield* decodeJson(TokenResponse, target)(response.body)
      const now = yield* Clock.currentTimeMillis
      const tokens: UpstreamTokens & { readonly id_token?: string | undefined } = {
        access_token: decoded.access_token,
        token_type: decoded.token_type,
        refresh_token: decoded.refresh_token,
        expires_at:
          decoded.expires_in !== undefined && Number.isFinite(decoded.expires_in) && decoded.expires_in > 0
            ? now + decoded.expires_in * 1000
            : undefined,
        scope: decoded.scope,
        id_token: decoded.id_token
      }
      return tokens
    }).pipe(
      Effect.provide(context),
      Effect.tapBoth({
        onSuccess: () => Effect.annotateCurrentSpan(Telemetry.Attribute.outcome, "ok"),
        onFailure: (error) =>
          Effect.annotateCurrentSpan({
            [Telemetry.Attribute.outcome]: error._tag === "UpstreamRefused" ? "refused" : "error",
            [Telemetry.Attribute.failureReason]: error._tag === "UpstreamRefused" ? error.error : error.reason
          })
      }),
      Effect.withSpan(Telemetry.Span.upstreamCall, { attributes: { [Telemetry.Attribute.target]: target } })
    )

  const refresh = (refreshToken: string) =>
    Effect.map(tokenCall("refresh", { grant_type: "refresh_token", refresh_token: refreshToken }), ({ id_token: _, ...kept }) => ({
      ...kept,
      // RFC 6749 §6: the upstream may keep the refresh token as it is
      refresh_token: kept.refresh_token ?? refreshToken
    }))

  // the refresh token stands for the whole grant; without one, the access token is all there is
  const grantToken = (tokens: UpstreamTokens): Record<string, string> =>
    tokens.refresh_token !== undefined
      ? { token: tokens.refresh_token, token_type_hint: "refresh_token" }
      : { token: tokens.access_token, token_type_hint: "access_token" }

  // what the upstream says of the access token alone: the provider's own check (GitHub, Google) when it has one, which
  // also pins the token to our application; else the userinfo endpoint, which any OIDC upstream has
  const accessTokenVerdict = (token: string): Effect.Effect<AccessTokenVerdict, UpstreamUnavailable, HttpClient.HttpClient> =>
    n.checkAccessToken !== undefined
      ? Effect.map(n.checkAccessToken(token), (valid): AccessTokenVerdict => ({ verdict: valid ? "accepted" : "refused", by: "token check" }))
      : Effect.flatMap(n.userinfoEndpoint, (url) =>
          url === undefined
            ? Effect.succeed<AccessTokenVerdict>({ verdict: "unanswered", by: "none" })
            : Effect.map(UserinfoCheck.check(url, Redacted.make(token), n.timeout), (verdict): AccessTokenVerdict => ({ verdict, by: "userinfo" }))
        )

  const checkGrant = (tokens: UpstreamTokens) =>
    Effect.gen(function* () {
      // 1. introspection first: it is authenticated as our client and asks about the refresh token, the whole grant
      const introspection = yield* n.introspectionEndpoint
      if (introspection !== undefined) {
        const active = yield* introspectAt(introspection, yield* clientAuthentication(grantToken(tokens)), n.timeout)
        return active ? { _tag: "active" as const } : { _tag: "revoked" as const }
      }
      // 2. the provider's token check, else 3. userinfo: they vouch for the access token only, so a (nearly) expired
      // one goes straight to the refresh when there is a refresh token. Both come before the refresh because they
      // change nothing upstream, while a refresh issues new tokens (and rotates a refresh token some upstreams accept
      // once: a refresh answer lost in flight can end the grant) and costs a Store write for every check.
      const now = yield* Clock.currentTimeMillis
      const expired = tokens.expires_at !== undefined && tokens.expires_at - 30_000 <= now
      if (!expired || tokens.refresh_token === undefined) {
        const { verdict, by } = yield* accessTokenVerdict(tokens.access_token)
        if (verdict === "accepted") return { _tag: "active" as const }
        // an expired or revoked access token, or (at userinfo) one meant for another audience: only the refresh token
        // can tell which; without one, the grant cannot be used upstream any more
        if (verdict === "refused" && tokens.refresh_token === undefined) {
          yield* Effect.logInfo("upstream refused the grant's access token").pipe(Effect.annotateLogs({ check: by }))
          return { _tag: "revoked" as const }
        }
      }
      // 4. a refresh: its refusal is the upstream's word on the whole grant
      if (tokens.refresh_token !== undefined) {
        const refreshed = yield* Effect.either(refresh(tokens.refresh_token))
        if (refreshed._tag === "Right") return { _tag: "active" as const, tokens: refreshed.right }
        if (refreshed.left._tag === "UpstreamUnavailable") return yield* refreshed.left
        return { _tag: "revoked" as const }
      }
      return { _tag: "unknown" as const }
    }).pipe(Effect.provide(context))

  const revoke = (tokens: UpstreamTokens) =>
    Effect.gen(function* () {
      const url = yield* n.revocationEndpoint
      if (url === undefined) return "unsupported" as const
      const done = yield* revokeAt(url, yield* clientAuthentication(grantToken(tokens)), n.timeout)
      return done ? ("revoked" as const) : ("refused" as const)
    }).pipe(Effect.provide(context))

  return {
    issuer: n.issuer,
    wantsIdToken: n.wantsIdToken,
    acceptsIss: n.acceptsIss,
    authorizationUrl: (request) =>
      Effect.map(n.authorizationEndpoint, (base) => {
        const url = new URL(base)
        const params: Record<string, string> = {
          ...n.authorizationParams,
          response_type: "code",
          client_id: n.clientId,
          redirect_uri: request.redirectUri,
          scope: n.scopes.join(" "),
          state: request.state,
          code_challenge: request.codeChallenge,
          code_challenge_method: "S256",
          ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
          ...(request.loginHint === undefined ? {} : { login_hint: request.loginHint })
        }
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
        return url.href
      }),
    exchangeCode: (request) =>
      Effect.gen(function* () {
        const tokens = yield* tokenCall("token", {
          grant_type: "authorization_code",
          code: request.code,
          redirect_uri: request.redirectUri,
          code_verifier: request.codeVerifier
        })
        const identity = yield* n.identify(tokens, request.nonce).pipe(Effect.provide(context))
        const { id_token: _, ...kept } = tokens
        return { tokens: kept, identity }
      }),
    refresh,
    checkGrant,
    revoke
  }
}

/** Validates the options and prepares the upstream; nothing is contacted until first use. */
export const make = (options: UpstreamOptions): Effect.Effect<Upstream, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const issuer = options.issuer === undefined ? undefined : yield* checkUrl("upstream.issuer", options.issuer, "issuer")
    const given = {
      authorization_endpoint:
        options.authorizationEndpoint === undefined ? undefined : yield* checkUrl("upstream.authorizationEndpoint", options.authorizationEndpoint),
      token_endpoint: options.tokenEndpoint === undefined ? undefined : yield* checkUrl("upstream.tokenEndpoint", options.tokenEndpoint),
      userinfo_endpoint:
        options.userinfoEndpoint === undefined ? undefined : yield* checkUrl("upstream.userinfoEndpoint", options.userinfoEndpoint),
      jwks_uri: options.jwksUri === undefined ? undefined : yield* checkUrl("upstream.jwksUri", options.jwksUri),
      revocation_endpoint:
        options.revocationEndpoint === undefined ? undefined : yield* checkUrl("upstream.revocationEndpoint", options.revocationEndpoint),
      introspection_endpoint:
        options.introspectionEndpoint === undefined
          ? undefined
          : yield* checkUrl("upstream.introspectionEndpoint", options.introspectionEndpoint)
    }
    if (issuer === undefined && (given.authorization_endpoint === undefined || given.token_endpoint === undefined)) {
      return yield* new ConfigProblem({
        setting: "upstream",
        problem: "needs an issuer (for discovery) or both authorizationEndpoint and tokenEndpoint"
      })
    }
    const scopes = options.scopes ?? ["openid", "email", "profile"]
    yield* checkScopes("upstream.scopes", scopes)
    const timeout = options.timeout ?? "10 seconds"
    const discovery = issuer === undefined ? undefined : yield* Discovery.make({ issuer })
    const metadata: Effect.Effect<Partial<AuthorizationServerMetadata>, UpstreamUnavailable> =
      discovery === undefined ? Effect.succeed({}) : discovery.metadata
    const endpoint = (
      name: "authorization_endpoint" | "token_endpoint" | "userinfo_endpoint" | "revocation_endpoint" | "introspection_endpoint"
    ) =>
      given[name] !== undefined
        ? Effect.succeed<string | undefined>(given[name])
        : Effect.map(metadata, (m) => {
            const value = m[name]
            return typeof value === "string" ? value : undefined
          })
    const required = (name: "authorization_endpoint" | "token_endpoint") =>
      Effect.flatMap(endpoint(name), (url) =>
        url === undefined
          ? new UpstreamUnavailable({ reason: "bad_response", target: "authorization server metadata", retryAfterSeconds: 30 })
          : Effect.succeed(url)
      )

    // ID tokens: verified against the upstream's keys, issuer and our client id (audience), as RFC 7519 reads them
    const idTokenVerifier =
      issuer === undefined
        ? undefined
        : yield* Effect.gen(function* () {
            const jwks = given.jwks_uri !== undefined ? yield* Jwks.make({ uri: given.jwks_uri }) : yield* discoveredJwks(discovery!, {})
            return yield* JwtVerifier.make({ issuer, audience: options.clientId }).pipe(Effect.provideService(Jwks.Jwks, jwks))
          })
    const wantsIdToken = issuer !== undefined && scopes.includes("openid")

    const identityFromIdToken = (idToken: string, nonce: string | undefined) =>
      Effect.gen(function* () {
        const info = yield* idTokenVerifier!.verify(Redacted.make(idToken)).pipe(
          Effect.catchTag("InvalidToken", (error) => refusedIdentity(error.reason))
        )
        // the nonce ties the ID token to this authorization (OIDC Core §3.1.3.7)
        if (nonce !== undefined && info.claims["nonce"] !== nonce) return yield* refusedIdentity("nonce")
        return { subject: info.subject, claims: profileClaims(info.claims) }
      })

    const identityFromUserinfo = (tokens: UpstreamTokens) =>
      Effect.gen(function* () {
        const url = yield* endpoint("userinfo_endpoint")
        if (url === undefined) return yield* refusedIdentity("no userinfo endpoint")
        const body = yield* fetchJsonWithBearer(url, tokens.access_token, timeout)
        const decoded = yield* decodeJson(Userinfo, "upstream userinfo")(body)
        return { subject: decoded.sub, claims: profileClaims(decoded) }
      }).pipe(Effect.provide(context))

    return build(
      {
        issuer,
        // without a configured issuer there is nothing to compare with (and only one upstream to be mixed up with)
        acceptsIss: (iss) =>
          issuer === undefined
            ? Effect.succeed(true)
            : iss !== undefined
              ? Effect.succeed(iss === issuer)
              : Effect.map(metadata, (m) => m.authorization_response_iss_parameter_supported !== true),
        authorizationEndpoint: required("authorization_endpoint"),
        tokenEndpoint: required("token_endpoint"),
        revocationEndpoint: endpoint("revocation_endpoint"),
        introspectionEndpoint: endpoint("introspection_endpoint"),
        userinfoEndpoint: endpoint("userinfo_endpoint"),
        checkAccessToken: undefined,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        authMethod: options.tokenEndpointAuthMethod ?? "client_secret_basic",
        tokenRequestHeaders: {},
        authorizationParams: options.authorizationParams ?? {},
        scopes,
        wantsIdToken,
        timeout,
        identify: (tokens, nonce) =>
          options.identify !== undefined
            ? options.identify(tokens)
            : tokens.id_token !== undefined && idTokenVerifier !== undefined
              ? identityFromIdToken(tokens.id_token, nonce)
              : wantsIdToken
                ? refusedIdentity("no ID token")
                : identityFromUserinfo(tokens)
      },
      context
    )
  })

/**
 * The upstream from a preset (`presets/*`: Google, GitHub, Okta, Entra ID, Auth0, generic OIDC): its endpoints,
 * client authentication, scopes and parameters, and its identity check (`PresetVerifier`: the ID token or JWT access
 * token with the preset's issuer policy, GitHub's token check, Google's token info).
 */
export const fromPreset = (
  preset: UpstreamPreset,
  options: { readonly timeout?: Duration.DurationInput | undefined } = {}
): Effect.Effect<Upstream, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const verifier = yield* PresetVerifier.make(preset)
    const how = preset.verifyUpstream
    const usesIdToken = how.kind === "jwt" && how.token === "id_token"
    const identify = (tokens: UpstreamTokens & { readonly id_token?: string | undefined }, nonce: string | undefined) =>
      Effect.gen(function* () {
        const token = usesIdToken ? tokens.id_token : tokens.access_token
        if (token === undefined) return yield* refusedIdentity("no ID token")
        const identity = yield* verifier.verify(Redacted.make(token)).pipe(
          Effect.catchTag("InvalidToken", (error) => refusedIdentity(error.reason))
        )
        if (usesIdToken && nonce !== undefined && identity.claims["nonce"] !== nonce) return yield* refusedIdentity("nonce")
        const { user } = identity
        return {
          subject: identity.subject,
          claims: profileClaims({
            ...identity.claims,
            ...(user.email === undefined ? {} : { email: user.email }),
            ...(user.name === undefined ? {} : { name: user.name }),
            roles: user.roles,
            permissions: user.permissions
          })
        }
      })
    return build(
      {
        issuer: preset.issuer,
        acceptsIss: (iss) => Effect.succeed(iss === undefined || acceptsAuthorizationResponseIssuer(preset, iss)),
        authorizationEndpoint: Effect.succeed(preset.authorizationEndpoint),
        tokenEndpoint: Effect.succeed(preset.tokenEndpoint),
        revocationEndpoint: Effect.succeed(preset.revocationEndpoint),
        introspectionEndpoint: Effect.succeed(preset.introspectionEndpoint),
        // a JWT access token for an API (Entra with API scopes, an Auth0 or generic `audience`) is not meant for
        // userinfo, which refuses it (Microsoft Graph does): its grants are re-checked by refresh, as before
        userinfoEndpoint: Effect.succeed(how.kind === "jwt" && how.token === "access_token" ? undefined : preset.userinfoEndpoint),
        // GitHub and Google answer for their opaque tokens; a JWT access token verified locally says nothing of revocation
        checkAccessToken:
          how.kind === "jwt"
            ? undefined
            : (token) =>
                verifier.verify(Redacted.make(token)).pipe(
                  Effect.as(true),
                  Effect.catchTag("InvalidToken", () => Effect.succeed(false)),
                  Effect.provide(context)
                ),
        clientId: preset.clientId,
        clientSecret: preset.clientSecret,
        authMethod: preset.tokenEndpointAuthMethod,
        tokenRequestHeaders: preset.tokenRequestHeaders,
        authorizationParams: preset.authorizationParams,
        scopes: preset.defaultScopes,
        wantsIdToken: usesIdToken && preset.defaultScopes.includes("openid"),
        timeout: options.timeout ?? "10 seconds",
        identify
      },
      context
    )
  })

/** GET with the upstream access token in the Authorization header (userinfo). */
const fetchJsonWithBearer = (url: string, accessToken: string, timeout: Duration.DurationInput) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const withAuth = HttpClient.mapRequest(client, HttpClientRequest.bearerToken(accessToken))
    return yield* fetchJson(url, { target: "upstream userinfo", timeout, maxResponseBytes: 256 * 1024 }).pipe(
      Effect.provideService(HttpClient.HttpClient, withAuth)
    )
  })
