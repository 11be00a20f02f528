/**
 * The OAuth proxy: an authorization-server facade for identity providers without dynamic client registration
 * (Google, GitHub, Entra ID, Okta, Auth0 applications, any OIDC provider with a fixed client id and secret). MCP
 * clients register with the proxy, approve on the proxy's consent page, sign in at the upstream (the proxy's own
 * client id, state and PKCE pair, the secret injected server-side), and receive the proxy's own tokens for this
 * resource; the upstream tokens stay sealed in the Store.
 *
 * Routes (under the issuer): `/authorize`, `/consent`, `/oauth/callback` (register this one upstream), `/token`,
 * `/register`, `/revoke`, and the RFC 8414 metadata at both well-known paths.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../ConfigProblem.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { AuthorizationServerMetadata } from "../Metadata.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider, type ProviderRequest } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import { wellKnownUrl } from "../ResourceUrl.js"
import { Store } from "../Store.js"
import * as Telemetry from "../Telemetry.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes, checkUrl, fromConfigError, splitList } from "../internal/settings.js"
import * as AccessTokens from "./AccessTokens.js"
import * as Authorize from "./Authorize.js"
import * as Callback from "./Callback.js"
import * as ClientMetadataCache from "./cimd/ClientMetadataCache.js"
import * as Clients from "./Clients.js"
import * as Consent from "./Consent.js"
import * as ConsentCookie from "./ConsentCookie.js"
import * as Grants from "./Grants.js"
import { apiCors } from "./internal/answers.js"
import { randomToken, utf8 } from "./internal/bytes.js"
import type { Endpoints, ProxyContext } from "./internal/context.js"
import type { Limit } from "./RateLimit.js"
import * as Registration from "./Registration.js"
import * as RememberedApprovals from "./RememberedApprovals.js"
import * as Revoke from "./Revoke.js"
import * as Sealing from "./Sealing.js"
import * as Token from "./Token.js"
import * as Presets from "./presets/Presets.js"
import type { PresetName, UpstreamPreset } from "./presets/UpstreamPreset.js"
import * as Upstream from "./Upstream.js"
import * as UpstreamRecheck from "./UpstreamRecheck.js"

/** Lifetimes; durations accept anything `Duration.decode` does. */
export interface ProxyTtls {
  /** The proxy's access tokens (default 10 minutes). */
  readonly accessToken?: Duration.DurationInput | undefined
  /** A refresh token, so the idle lifetime of a grant (default 14 days). */
  readonly refreshToken?: Duration.DurationInput | undefined
  /** A grant, whatever refreshes happen (default 30 days). */
  readonly grant?: Duration.DurationInput | undefined
  /** An authorization code (default 1 minute). */
  readonly authorizationCode?: Duration.DurationInput | undefined
  /** From the consent page to the decision (default 10 minutes). */
  readonly consent?: Duration.DurationInput | undefined
  /** The upstream round trip: the `state` (default 10 minutes, the most allowed). */
  readonly state?: Duration.DurationInput | undefined
  /** A registration that never obtained a token (default 1 day). */
  readonly unusedClient?: Duration.DurationInput | undefined
  /** A registration once used, renewed at every token (default 90 days). */
  readonly client?: Duration.DurationInput | undefined
}

/** Options of the proxy. */
export interface OAuthProxyOptions {
  /**
   * The upstream identity provider and the proxy's registration there: explicit options (generic OIDC by discovery,
   * or endpoints), or a preset from `presets/` (Google, GitHub, Okta, Entra ID, Auth0, generic).
   */
  readonly upstream: Upstream.UpstreamOptions | UpstreamPreset
  /**
   * The proxy's issuer identifier and the base of its endpoints (default: the origin of this server's resource URL).
   * It comes from configuration, never from `Host` or `X-Forwarded-*` headers.
   */
  readonly issuer?: string | undefined
  /** Scopes clients may request (default: the resource's `scopesSupported`). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Scopes granted when a request names none (default: the resource's required scopes, else `scopes`). */
  readonly defaultScopes?: ReadonlyArray<string> | undefined
  /**
   * The private key signing the proxy's access tokens, as a JWK (EC P-256, Ed25519 or RSA ≥ 2048). Give every
   * instance the same key; without one a key is generated for this process (with a warning).
   */
  readonly signingKey?: Redacted.Redacted<string> | undefined
  /**
   * The 256-bit key sealing upstream tokens in the Store (AES-256-GCM), as base64url, base64 or hex. Give every
   * instance the same key; without one a key is generated for this process (with a warning).
   */
  readonly encryptionKey?: Redacted.Redacted<string> | undefined
  /**
   * The secret signing consent cookies and CSRF tokens (at least 32 characters). Give every instance the same one;
   * without one a secret is generated for this process (with a warning).
   */
  readonly cookieSecret?: Redacted.Redacted<string> | undefined
  /** Lifetimes. */
  readonly ttl?: ProxyTtls | undefined
  /**
   * Per-source limits (defaults: registration 30 per 10 minutes; authorization 120, token and revocation 300 per
   * minute; consent and callback as authorization).
   */
  readonly rateLimits?: {
    readonly registration?: Limit | undefined
    readonly authorization?: Limit | undefined
    readonly token?: Limit | undefined
    readonly consent?: Limit | undefined
    readonly callback?: Limit | undefined
  } | undefined
  /** How many reverse proxies in front of this server append to `X-Forwarded-For` (default 0: the header is ignored). */
  readonly trustedProxies?: number | undefined
  /** The callback path registered at the upstream (default `/oauth/callback`). */
  readonly callbackPath?: string | undefined
  /**
   * Client ID Metadata Documents (an https `client_id` whose metadata the proxy fetches, SSRF-guarded, see `cimd/`):
   * on by default, advertised as `client_id_metadata_document_supported: true`; `false` turns them off, an object
   * sets the fetch and cache options.
   */
  readonly clientIdMetadataDocuments?: boolean | ClientMetadataCache.ClientMetadataCacheOptions | undefined
  /** Resolves client ids that were not registered here, instead of Client ID Metadata Documents. */
  readonly clientResolver?: Clients.ClientResolver | undefined
  /** Prefix of every Store key (default `mcp-oauth:proxy:`); distinct servers sharing one Store need distinct ones. */
  readonly keyPrefix?: string | undefined
  /** Refresh the upstream tokens when a client refreshes after they expired, ending the grant if refused (default true). */
  readonly refreshUpstream?: boolean | undefined
  /**
   * Remembered approvals (see `RememberedApprovals`): the consent page offers "do not ask again", remembered in a
   * sealed browser cookie for `lifetime` (default 30 days) per client, exact redirect URI and scopes; `false` turns
   * the offer off.
   */
  readonly rememberApprovals?: false | { readonly lifetime?: Duration.DurationInput | undefined } | undefined
  /**
   * Re-check the upstream grant when the guard verifies a proxy token, at most once per `every` per grant (off by
   * default; see `UpstreamRecheck`). An upstream that cannot be asked makes the guard answer 503 unless `maxStale`
   * allows the last confirmation to stand.
   */
  readonly recheckUpstream?: UpstreamRecheck.RecheckOptions | undefined
  /**
   * Revoke the upstream grant at its RFC 7009 endpoint (from the preset or metadata) whenever the proxy revokes a
   * grant: client revocation, refresh-token reuse, code replay (default true). Best effort: bounded by
   * `upstreamRevocationTimeout` (default 5 seconds) and never failing the client's request.
   */
  readonly revokeUpstream?: boolean | undefined
  /** The longest wait for the upstream's revocation endpoint (default 5 seconds). */
  readonly upstreamRevocationTimeout?: Duration.DurationInput | undefined
  /** The provider's name in logs (presets set it). */
  readonly name?: string | undefined
  /** Start-up warnings (presets add theirs). */
  readonly warnings?: ReadonlyArray<string> | undefined
}

/** The defaults of {@link ProxyTtls}. */
export const defaultTtls = {
  accessToken: "10 minutes",
  refreshToken: "14 days",
  grant: "30 days",
  authorizationCode: "1 minute",
  consent: "10 minutes",
  state: "10 minutes",
  unusedClient: "1 day",
  client: "90 days"
} as const

/** The default rate limits. */
export const defaultRateLimits = {
  registration: { limit: 30, window: "10 minutes" },
  authorization: { limit: 120, window: "1 minute" },
  token: { limit: 300, window: "1 minute" },
  consent: { limit: 120, window: "1 minute" },
  callback: { limit: 120, window: "1 minute" }
} as const

/** How long approvals are remembered by default. */
export const defaultApprovalLifetime = "30 days"

/** What the proxy provides: the provider contribution and the verifier of its access tokens. */
export interface Built {
  readonly provider: typeof Provider.Service
  readonly verifier: TokenVerifier.Service
  /** The proxy's metadata document. */
  readonly metadata: AuthorizationServerMetadata
}

const secretSetting = <A>(
  value: Redacted.Redacted<string> | undefined,
  setting: string,
  parse: (value: Redacted.Redacted<string>) => Effect.Effect<A, ConfigProblem>,
  generate: Effect.Effect<A>,
  warnings: Array<string>
): Effect.Effect<A, ConfigProblem> => {
  if (value !== undefined) return parse(value)
  warnings.push(
    `${setting} is not set: one was generated for this process, so tokens and sign-ins in progress do not survive a ` +
      `restart and are not accepted by other instances. Set it (the same on every instance) in production.`
  )
  return Effect.tap(generate, () => Effect.logWarning(`mcp-oauth proxy: ${setting} generated for this process only`))
}

/** Decodes the encryption key setting. */
export const parseEncryptionKey = (value: Redacted.Redacted<string>, setting: string) => {
  const key = Sealing.decodeKey(Redacted.value(value))
  return key === undefined
    ? Effect.fail(new ConfigProblem({ setting, problem: "must be 32 random bytes written as base64url, base64 or hex" }))
    : Effect.succeed(key)
}

/** Decodes the cookie secret setting. */
export const parseCookieSecret = (value: Redacted.Redacted<string>, setting: string) => {
  const bytes = utf8(Redacted.value(value))
  return bytes.length < 32
    ? Effect.fail(new ConfigProblem({ setting, problem: "must be at least 32 characters of random text" }))
    : Effect.succeed(bytes)
}

/** Builds the proxy; settings are validated here, the upstream is not contacted yet. */
export const make = (
  options: OAuthProxyOptions
): Effect.Effect<Built, ConfigProblem, ResourceServer | HttpClient.HttpClient | Store> =>
  Effect.gen(function* () {
    const server = yield* ResourceServer
    const store = yield* Store
    const warnings: Array<string> = [...(options.warnings ?? [])]
    const issuer = (yield* checkUrl("issuer", options.issuer ?? new URL(server.resource).origin, "issuer")).replace(/\/+$/, "")
    const base = issuer
    const callbackPath = options.callbackPath ?? "/oauth/callback"
    if (!/^\/[A-Za-z0-9\-._~/]*$/.test(callbackPath)) {
      return yield* new ConfigProblem({ setting: "callbackPath", problem: "must be a path beginning with /" })
    }
    const endpoints: Endpoints = {
      authorization: `${base}/authorize`,
      consent: `${base}/consent`,
      callback: `${base}${callbackPath}`,
      token: `${base}/token`,
      registration: `${base}/register`,
      revocation: `${base}/revoke`
    }
    const scopesSupported = [...(options.scopes ?? server.scopesSupported)]
    yield* checkScopes("scopes", scopesSupported)
    const defaultScopes = [
      ...(options.defaultScopes ?? (server.requiredScopes.length > 0 ? server.requiredScopes : scopesSupported))
    ]
    const given = options.ttl ?? {}
    const ttl = {
      accessToken: given.accessToken ?? defaultTtls.accessToken,
      refreshToken: given.refreshToken ?? defaultTtls.refreshToken,
      grant: given.grant ?? defaultTtls.grant,
      authorizationCode: given.authorizationCode ?? defaultTtls.authorizationCode,
      consent: given.consent ?? defaultTtls.consent,
      state: given.state ?? defaultTtls.state,
      unusedClient: given.unusedClient ?? defaultTtls.unusedClient,
      client: given.client ?? defaultTtls.client
    }
    const rateLimits = {
      registration: options.rateLimits?.registration ?? defaultRateLimits.registration,
      authorization: options.rateLimits?.authorization ?? defaultRateLimits.authorization,
      token: options.rateLimits?.token ?? defaultRateLimits.token,
      // one flow makes one authorization request, one consent and one callback: sized alike unless told otherwise
      consent: options.rateLimits?.consent ?? options.rateLimits?.authorization ?? defaultRateLimits.consent,
      callback: options.rateLimits?.callback ?? options.rateLimits?.authorization ?? defaultRateLimits.callback
    }
    const keyPrefix = options.keyPrefix ?? "mcp-oauth:proxy:"

    const upstream = isPreset(options.upstream)
      ? yield* Upstream.fromPreset(options.upstream)
      : yield* Upstream.make(options.upstream)
    if (isPreset(options.upstream)) warnings.push(...options.upstream.warnings)
    const signingKey = yield* secretSetting(
      options.signingKey,
      "MCP_OAUTH_PROXY_SIGNING_KEY",
      (v) => AccessTokens.parseSigningKey(v, "signingKey"),
      AccessTokens.generateSigningKey,
      warnings
    )
    const encryptionKey = yield* secretSetting(
      options.encryptionKey,
      "MCP_OAUTH_PROXY_ENCRYPTION_KEY",
      (v) => parseEncryptionKey(v, "encryptionKey"),
      Effect.sync(() => crypto.getRandomValues(new Uint8Array(Sealing.keyBytes))),
      warnings
    )
    const cookieSecret = yield* secretSetting(
      options.cookieSecret,
      "MCP_OAUTH_PROXY_COOKIE_SECRET",
      (v) => parseCookieSecret(v, "cookieSecret"),
      Effect.sync(() => utf8(randomToken(32))),
      warnings
    )
    if (new URL(issuer).protocol === "http:") {
      warnings.push("The proxy's issuer uses http: fine for local development on loopback, never in production.")
    }

    const sealer = yield* Sealing.make(encryptionKey)
    const cookies = yield* ConsentCookie.make(cookieSecret, "15 minutes")
    const approvals =
      options.rememberApprovals === false
        ? undefined
        : RememberedApprovals.make({
            sealer,
            store,
            keyPrefix,
            lifetime: yield* checkDuration("rememberApprovals.lifetime", options.rememberApprovals?.lifetime ?? defaultApprovalLifetime)
          })
    const revocationTimeout = yield* checkDuration("upstreamRevocationTimeout", options.upstreamRevocationTimeout ?? "5 seconds")
    const discardUpstream = (tokens: Upstream.UpstreamTokens) =>
      upstream.revoke(tokens).pipe(
        Effect.timeoutFail({ duration: revocationTimeout, onTimeout: () => "timeout" as const }),
        Effect.tap((outcome) =>
          Effect.zipRight(
            Effect.logDebug("upstream grant revocation").pipe(Effect.annotateLogs({ outcome })),
            Telemetry.count(Telemetry.proxySteps, { step: "upstream_revoke", outcome: outcome === "refused" ? "refused" : "ok" })
          )
        ),
        // best effort: the proxy's own grant is gone already, and the client's request must not fail for this
        Effect.catchAll((failure) =>
          Effect.zipRight(
            Effect.logWarning("upstream grant revocation failed").pipe(
              Effect.annotateLogs({ reason: failure === "timeout" ? "timeout" : failure.reason })
            ),
            Telemetry.count(Telemetry.proxySteps, { step: "upstream_revoke", outcome: "error" })
          )
        ),
        Effect.withSpan(Telemetry.Span.upstreamCall, { attributes: { [Telemetry.Attribute.target]: "upstream revocation endpoint" } }),
        Effect.asVoid
      )
    const revokeUpstream = options.revokeUpstream ?? true
    const grants = Grants.make({
      store,
      sealer,
      keyPrefix,
      codeTtl: ttl.authorizationCode,
      refreshTokenTtl: ttl.refreshToken,
      grantTtl: ttl.grant,
      onRevoked: (grant, tokens) =>
        Effect.all(
          [
            approvals === undefined
              ? Effect.void
              : approvals.forget(grant.client_id, grant.subject).pipe(
                  Effect.catchAll(() => Effect.logWarning("remembered approvals could not be withdrawn"))
                ),
            revokeUpstream && Option.isSome(tokens) ? discardUpstream(tokens.value) : Effect.void
          ],
          { discard: true }
        )
    })
    const recheck =
      options.recheckUpstream === undefined
        ? undefined
        : UpstreamRecheck.make({
            store,
            keyPrefix,
            grants,
            upstream,
            every: yield* checkDuration("recheckUpstream.every", options.recheckUpstream.every),
            maxStale: yield* checkDuration("recheckUpstream.maxStale", options.recheckUpstream.maxStale ?? 0)
          })
    const documents = options.clientIdMetadataDocuments ?? true
    const resolver =
      options.clientResolver ??
      (documents === false
        ? undefined
        : Clients.fromMetadataDocuments(
            yield* ClientMetadataCache.make(documents === true ? {} : documents),
            documents === true ? {} : documents
          ))
    const clients = Clients.make({ store, keyPrefix, unusedTtl: ttl.unusedClient, ttl: ttl.client, resolver })
    const accessTokens = yield* AccessTokens.make({
      issuer,
      resource: server.resource,
      key: signingKey,
      ttl: ttl.accessToken,
      grantLive: (grantId, clientId, subject) =>
        Effect.flatMap(grants.get(grantId), (grant) =>
          Option.isNone(grant) || grant.value.client_id !== clientId || grant.value.subject !== subject
            ? Effect.succeed(false)
            : recheck === undefined
              ? Effect.succeed(true)
              : recheck.check(grant.value)
        )
    })

    const context: ProxyContext = {
      issuer,
      resource: server.resource,
      resourceName: server.resourceName,
      endpoints,
      scopesSupported,
      defaultScopes,
      store,
      keyPrefix,
      clients,
      grants,
      upstream,
      cookies,
      sealer,
      accessTokens,
      limits: rateLimits,
      trustedProxies: Math.max(0, Math.floor(options.trustedProxies ?? 0)),
      ttl: { consent: ttl.consent, state: ttl.state },
      refreshUpstream: options.refreshUpstream ?? true,
      approvals,
      grantConfirmed: (grant) => (recheck === undefined ? Effect.void : recheck.confirmed(grant)),
      discardUpstream: (tokens) => (revokeUpstream ? discardUpstream(tokens) : Effect.void)
    }

    const metadata: AuthorizationServerMetadata = {
      issuer,
      authorization_endpoint: endpoints.authorization,
      token_endpoint: endpoints.token,
      registration_endpoint: endpoints.registration,
      revocation_endpoint: endpoints.revocation,
      scopes_supported: scopesSupported,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      client_id_metadata_document_supported: resolver !== undefined,
      authorization_response_iss_parameter_supported: true
    }
    const metadataBody = JSON.stringify(metadata)

    const path = (url: string) => new URL(url).pathname
    // an issuer with a path has its metadata at the path-inserted well-known URLs (RFC 8414 §3.1); the root
    // well-known URLs are served by the HTTP surface's mirror for every issuer
    const issuerHasPath = new URL(issuer).pathname !== "/"
    const metadataPaths = issuerHasPath
      ? [path(wellKnownUrl(issuer, "oauth-authorization-server")), path(wellKnownUrl(issuer, "openid-configuration"))]
      : []
    const routes: Record<string, (request: ProviderRequest) => Effect.Effect<HttpAnswer>> = {
      [path(endpoints.authorization)]: step("authorize", Telemetry.Span.proxyAuthorize, (request) => Authorize.handle(context, request)),
      [path(endpoints.consent)]: step("consent", Telemetry.Span.proxyConsent, (request) => Consent.decide(context, request)),
      [path(endpoints.callback)]: step("callback", Telemetry.Span.proxyCallback, (request) => Callback.handle(context, request)),
      [path(endpoints.token)]: step("token", Telemetry.Span.proxyToken, (request) => Token.handle(context, request)),
      [path(endpoints.registration)]: step("register", Telemetry.Span.proxyRegister, (request) => Registration.handle(context, request)),
      [path(endpoints.revocation)]: step("revoke", Telemetry.Span.proxyRevoke, (request) => Revoke.handle(context, request))
    }
    for (const metadataPath of metadataPaths) {
      routes[metadataPath] = (request) =>
        Effect.succeed(
          request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS"
            ? {
                status: request.method === "OPTIONS" ? 204 : 200,
                headers: { ...apiCors, "content-type": "application/json", "cache-control": "public, max-age=300" },
                body: request.method === "GET" ? metadataBody : undefined
              }
            : { status: 405, headers: { ...apiCors, allow: "GET, HEAD, OPTIONS" } }
        )
    }

    const provider: typeof Provider.Service = {
      name: options.name ?? "proxy",
      authorizationServers: [issuer],
      scopesSupported,
      metadata: Effect.succeed(metadata),
      warnings,
      routes: {
        paths: Object.keys(routes),
        handle: (request) => {
          const route = routes[request.pathname]
          return route === undefined
            ? Effect.succeed({ status: 404, headers: {} })
            : route(request)
        }
      }
    }
    return { provider, verifier: accessTokens.verifier, metadata }
  })

/** The outcome of an answer, as the step counter names it. */
const outcomeOf = (status: number): string => (status >= 500 ? "error" : status >= 400 ? "refused" : "ok")

/** One proxy step: its span (status and outcome as attributes) and its count by step and outcome. */
const step = (
  name: string,
  span: string,
  handle: (request: ProviderRequest) => Effect.Effect<HttpAnswer>
) =>
(request: ProviderRequest): Effect.Effect<HttpAnswer> =>
  handle(request).pipe(
    Effect.tap((answer) =>
      Effect.zipRight(
        Effect.annotateCurrentSpan({
          [Telemetry.Attribute.httpStatus]: answer.status,
          [Telemetry.Attribute.outcome]: outcomeOf(answer.status)
        }),
        Telemetry.count(Telemetry.proxySteps, { step: name, outcome: outcomeOf(answer.status) })
      )
    ),
    Effect.withSpan(span, { kind: "server" })
  )

/** Decodes a duration option, naming the option when it is not one. */
const checkDuration = (setting: string, value: Duration.DurationInput): Effect.Effect<Duration.Duration, ConfigProblem> =>
  Effect.try({
    try: () => Duration.decode(value),
    catch: () => new ConfigProblem({ setting, problem: "must be a duration such as \"30 days\" or \"5 minutes\"" })
  }).pipe(
    Effect.filterOrFail(
      (duration) => Duration.isFinite(duration) && Duration.toMillis(duration) >= 0,
      () => new ConfigProblem({ setting, problem: "must be a finite, non-negative duration" })
    )
  )

const isPreset = (upstream: OAuthProxyOptions["upstream"]): upstream is UpstreamPreset => "verifyUpstream" in upstream

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for the OAuth proxy. */
export const layer = (
  options: OAuthProxyOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient | Store> =>
  Layer.effectContext(
    Effect.map(make(options), ({ provider, verifier }) =>
      Context.make(Provider, provider).pipe(Context.add(TokenVerifier.TokenVerifier, verifier))
    )
  )

/** The proxy's own settings from the environment (everything but the upstream). */
export const settingsConfig: Config.Config<Omit<OAuthProxyOptions, "upstream">> = Config.all({
  proxyIssuer: Config.option(Config.string("MCP_OAUTH_PROXY_ISSUER")),
  scopes: Config.option(Config.string("MCP_OAUTH_PROXY_SCOPES")),
  signingKey: Config.option(Config.redacted("MCP_OAUTH_PROXY_SIGNING_KEY")),
  encryptionKey: Config.option(Config.redacted("MCP_OAUTH_PROXY_ENCRYPTION_KEY")),
  cookieSecret: Config.option(Config.redacted("MCP_OAUTH_PROXY_COOKIE_SECRET")),
  trustedProxies: Config.option(Config.integer("MCP_OAUTH_PROXY_TRUSTED_PROXIES")),
  rememberApprovals: Config.option(Config.string("MCP_OAUTH_PROXY_REMEMBER_APPROVALS")),
  recheckEvery: Config.option(Config.string("MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY")),
  recheckMaxStale: Config.option(Config.string("MCP_OAUTH_PROXY_RECHECK_UPSTREAM_MAX_STALE")),
  revokeUpstream: Config.option(Config.boolean("MCP_OAUTH_PROXY_REVOKE_UPSTREAM"))
}).pipe(
  Config.map((c) => ({
    // durations stay text here; checkSettings decodes them and names the variable of a bad one
    rememberApprovals: Option.match(c.rememberApprovals, {
      onNone: () => undefined,
      onSome: (text) => (/^(off|false|0)$/i.test(text.trim()) ? (false as const) : { lifetime: text.trim() as Duration.DurationInput })
    }),
    recheckUpstream: Option.match(c.recheckEvery, {
      onNone: () => undefined,
      onSome: (every) => ({
        every: every.trim() as Duration.DurationInput,
        maxStale: Option.getOrUndefined(c.recheckMaxStale)?.trim() as Duration.DurationInput | undefined
      })
    }),
    revokeUpstream: Option.getOrUndefined(c.revokeUpstream),
    issuer: Option.getOrUndefined(c.proxyIssuer),
    scopes: Option.map(c.scopes, splitList).pipe(Option.getOrUndefined),
    signingKey: Option.getOrUndefined(c.signingKey),
    encryptionKey: Option.getOrUndefined(c.encryptionKey),
    cookieSecret: Option.getOrUndefined(c.cookieSecret),
    trustedProxies: Option.getOrUndefined(c.trustedProxies)
  }))
)

/** The environment variables read by {@link layerConfig}: the generic upstream (OIDC discovery) and the proxy's settings. */
export const config: Config.Config<OAuthProxyOptions> = Config.all({
  issuer: Config.option(Config.string("MCP_OAUTH_UPSTREAM_ISSUER")),
  authorizationEndpoint: Config.option(Config.string("MCP_OAUTH_UPSTREAM_AUTHORIZATION_ENDPOINT")),
  tokenEndpoint: Config.option(Config.string("MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT")),
  userinfoEndpoint: Config.option(Config.string("MCP_OAUTH_UPSTREAM_USERINFO_ENDPOINT")),
  revocationEndpoint: Config.option(Config.string("MCP_OAUTH_UPSTREAM_REVOCATION_ENDPOINT")),
  introspectionEndpoint: Config.option(Config.string("MCP_OAUTH_UPSTREAM_INTROSPECTION_ENDPOINT")),
  clientId: Config.string("MCP_OAUTH_UPSTREAM_CLIENT_ID"),
  clientSecret: Config.redacted("MCP_OAUTH_UPSTREAM_CLIENT_SECRET"),
  tokenEndpointAuthMethod: Config.option(
    Config.literal("client_secret_basic", "client_secret_post")("MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD")
  ),
  upstreamScopes: Config.option(Config.string("MCP_OAUTH_UPSTREAM_SCOPES")),
  settings: settingsConfig
}).pipe(
  Config.map((c): OAuthProxyOptions => ({
    ...c.settings,
    upstream: {
      issuer: Option.getOrUndefined(c.issuer),
      authorizationEndpoint: Option.getOrUndefined(c.authorizationEndpoint),
      tokenEndpoint: Option.getOrUndefined(c.tokenEndpoint),
      userinfoEndpoint: Option.getOrUndefined(c.userinfoEndpoint),
      revocationEndpoint: Option.getOrUndefined(c.revocationEndpoint),
      introspectionEndpoint: Option.getOrUndefined(c.introspectionEndpoint),
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      tokenEndpointAuthMethod: Option.getOrUndefined(c.tokenEndpointAuthMethod),
      scopes: Option.map(c.upstreamScopes, splitList).pipe(Option.getOrUndefined)
    }
  }))
)

/** Validates the proxy's own settings, naming the environment variable of a problem. */
const checkSettings = (resolved: Omit<OAuthProxyOptions, "upstream">) =>
  Effect.gen(function* () {
    if (resolved.issuer !== undefined) yield* checkUrl("MCP_OAUTH_PROXY_ISSUER", resolved.issuer, "issuer")
    if (resolved.scopes !== undefined) yield* checkScopes("MCP_OAUTH_PROXY_SCOPES", resolved.scopes)
    if (resolved.signingKey !== undefined) yield* AccessTokens.parseSigningKey(resolved.signingKey, "MCP_OAUTH_PROXY_SIGNING_KEY")
    if (resolved.encryptionKey !== undefined) yield* parseEncryptionKey(resolved.encryptionKey, "MCP_OAUTH_PROXY_ENCRYPTION_KEY")
    if (resolved.cookieSecret !== undefined) yield* parseCookieSecret(resolved.cookieSecret, "MCP_OAUTH_PROXY_COOKIE_SECRET")
    const remember = resolved.rememberApprovals
    if (remember !== undefined && remember !== false && remember.lifetime !== undefined) {
      yield* checkDuration("MCP_OAUTH_PROXY_REMEMBER_APPROVALS", remember.lifetime)
    }
    if (resolved.recheckUpstream !== undefined) {
      yield* checkDuration("MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY", resolved.recheckUpstream.every)
      if (resolved.recheckUpstream.maxStale !== undefined) {
        yield* checkDuration("MCP_OAUTH_PROXY_RECHECK_UPSTREAM_MAX_STALE", resolved.recheckUpstream.maxStale)
      }
    }
  })

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_UPSTREAM_ISSUER` (or `…_AUTHORIZATION_ENDPOINT`
 * and `…_TOKEN_ENDPOINT`), `MCP_OAUTH_UPSTREAM_CLIENT_ID`, `MCP_OAUTH_UPSTREAM_CLIENT_SECRET` (required),
 * `MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD`, `MCP_OAUTH_UPSTREAM_SCOPES`, `MCP_OAUTH_UPSTREAM_USERINFO_ENDPOINT`,
 * `MCP_OAUTH_UPSTREAM_REVOCATION_ENDPOINT`, `MCP_OAUTH_UPSTREAM_INTROSPECTION_ENDPOINT`, and the proxy's
 * `MCP_OAUTH_PROXY_ISSUER`, `MCP_OAUTH_PROXY_SCOPES`, `MCP_OAUTH_PROXY_SIGNING_KEY`, `MCP_OAUTH_PROXY_ENCRYPTION_KEY`,
 * `MCP_OAUTH_PROXY_COOKIE_SECRET`, `MCP_OAUTH_PROXY_TRUSTED_PROXIES`, `MCP_OAUTH_PROXY_REMEMBER_APPROVALS` (a
 * duration, or `off`), `MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY`, `MCP_OAUTH_PROXY_RECHECK_UPSTREAM_MAX_STALE` and
 * `MCP_OAUTH_PROXY_REVOKE_UPSTREAM`.
 * `extra` adds code-only options (TTLs, rate limits, a client resolver).
 */
export const layerConfig = (
  options: Config.Config<OAuthProxyOptions> = config,
  extra: Partial<Omit<OAuthProxyOptions, "upstream">> = {}
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient | Store> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const resolved = yield* Effect.mapError(options, fromConfigError)
      // validated here too so that the message names the variable rather than the option
      const upstream = resolved.upstream
      if (!isPreset(upstream)) {
        if (upstream.issuer !== undefined) yield* checkUrl("MCP_OAUTH_UPSTREAM_ISSUER", upstream.issuer, "issuer")
        else if (upstream.authorizationEndpoint === undefined || upstream.tokenEndpoint === undefined) {
          return yield* new ConfigProblem({
            setting: "MCP_OAUTH_UPSTREAM_ISSUER",
            problem: "is required (or both MCP_OAUTH_UPSTREAM_AUTHORIZATION_ENDPOINT and MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT)"
          })
        }
        if (upstream.authorizationEndpoint !== undefined) yield* checkUrl("MCP_OAUTH_UPSTREAM_AUTHORIZATION_ENDPOINT", upstream.authorizationEndpoint)
        if (upstream.tokenEndpoint !== undefined) yield* checkUrl("MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT", upstream.tokenEndpoint)
        if (upstream.userinfoEndpoint !== undefined) yield* checkUrl("MCP_OAUTH_UPSTREAM_USERINFO_ENDPOINT", upstream.userinfoEndpoint)
        if (upstream.revocationEndpoint !== undefined) yield* checkUrl("MCP_OAUTH_UPSTREAM_REVOCATION_ENDPOINT", upstream.revocationEndpoint)
        if (upstream.introspectionEndpoint !== undefined) {
          yield* checkUrl("MCP_OAUTH_UPSTREAM_INTROSPECTION_ENDPOINT", upstream.introspectionEndpoint)
        }
        if (upstream.clientId.trim() === "") {
          return yield* new ConfigProblem({ setting: "MCP_OAUTH_UPSTREAM_CLIENT_ID", problem: "is required" })
        }
        if (Redacted.value(upstream.clientSecret) === "") {
          return yield* new ConfigProblem({ setting: "MCP_OAUTH_UPSTREAM_CLIENT_SECRET", problem: "is required" })
        }
        if (upstream.scopes !== undefined) yield* checkScopes("MCP_OAUTH_UPSTREAM_SCOPES", upstream.scopes)
      }
      yield* checkSettings(resolved)
      return layer({ ...resolved, ...definedOnly(extra) })
    })
  )

/**
 * The proxy in front of a named preset configured from the environment (`MCP_OAUTH_<PRESET>_…` variables, see each
 * preset module), with the proxy's own `MCP_OAUTH_PROXY_*` settings. The `generic` preset fetches the provider's
 * discovery document at start; an unreachable provider is reported as a configuration problem.
 */
export const layerPreset = (
  name: PresetName,
  extra: Partial<Omit<OAuthProxyOptions, "upstream">> = {}
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient | Store> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const preset = yield* Presets.fromEnvironment(name).pipe(
        Effect.catchTag("UpstreamUnavailable", () =>
          Effect.fail(new ConfigProblem({ setting: name, problem: "the identity provider's metadata could not be fetched" }))
        )
      )
      const settings = yield* Effect.mapError(settingsConfig, fromConfigError)
      yield* checkSettings(settings)
      return layer({ ...settings, ...definedOnly(extra), upstream: preset, name: `proxy:${name}` })
    })
  )

/**
 * The options of the seed framework's `oauthProxy`, for moving over by changing imports. `verifyToken` keeps its
 * signature but is called once per sign-in with the upstream access token to find the user (the proxy then issues
 * its own tokens); it is never given a token a client presents, and upstream tokens are never accepted at `/mcp`.
 */
export interface SeedProxyOptions {
  readonly authEndpoint: string
  readonly tokenEndpoint: string
  readonly clientId: string
  readonly clientSecret: string | Redacted.Redacted<string>
  /** Scopes asked for upstream. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Finds the user behind an upstream access token (default: the userinfo endpoint, when given). */
  readonly verifyToken?: TokenVerifier.VerifyFunction | undefined
  readonly userinfoEndpoint?: string | undefined
}

const fromSeed = (options: SeedProxyOptions): OAuthProxyOptions => {
  const verify = options.verifyToken
  return {
    upstream: {
      authorizationEndpoint: options.authEndpoint,
      tokenEndpoint: options.tokenEndpoint,
      userinfoEndpoint: options.userinfoEndpoint,
      clientId: options.clientId,
      clientSecret: Redacted.isRedacted(options.clientSecret) ? options.clientSecret : Redacted.make(options.clientSecret),
      scopes: options.scopes,
      identify:
        verify === undefined
          ? undefined
          : (tokens) =>
              Effect.tryPromise({
                try: async () => verify(tokens.access_token),
                catch: () => new Upstream.UpstreamRefused({ step: "identity", error: "invalid_token" })
              }).pipe(
                Effect.catchAllDefect(() => Effect.fail(new Upstream.UpstreamRefused({ step: "identity", error: "invalid_token" }))),
                Effect.flatMap((verified) =>
                  typeof verified?.subject === "string" && verified.subject !== ""
                    ? Effect.succeed<Upstream.Identity>({
                        subject: verified.subject,
                        claims: Upstream.profileClaims({ ...verified.claims, ...verified.user })
                      })
                    : Effect.fail(new Upstream.UpstreamRefused({ step: "identity", error: "invalid_token" }))
                )
              )
    }
  }
}

/**
 * The proxy for the `MCPServer` facade: the same options as {@link layer}, or the seed framework's
 * `{ authEndpoint, tokenEndpoint, clientId, clientSecret, scopes, verifyToken }` (see {@link SeedProxyOptions}).
 */
export const oauthProxy = (options: OAuthProxyOptions | SeedProxyOptions): OAuthProvider =>
  "authEndpoint" in options
    ? { name: "proxy", layer: layer(fromSeed(options)) }
    : { name: options.name ?? "proxy", layer: layer(options) }
