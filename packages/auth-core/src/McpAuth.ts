/**
 * The framework-neutral HTTP surface that adapters wrap: metadata routes, CORS, and the guard, on one Effect runtime.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Runtime from "effect/Runtime"
import { type SdkAuthInfo, type AuthInfo, toSdkAuthInfo } from "./AuthInfo.js"
import { BearerAuth, layer as BearerAuthLayer, type Requirements } from "./BearerAuth.js"
import { ConfigProblem } from "./ConfigProblem.js"
import * as Authorization from "./Authorization.js"
import * as Cors from "./Cors.js"
import { AccessDenied, type AuthError, InsufficientScope } from "./Errors.js"
import * as ScopeHierarchy from "./ScopeHierarchy.js"
import type { ScopeImplications } from "./ScopeHierarchy.js"
import * as SessionBindings from "./SessionBindings.js"
import { authUnavailable as unavailable, fromAuthError, type HttpAnswer } from "./HttpAnswer.js"
import * as ProtectedResource from "./ProtectedResource.js"
import { type BodyProblem, Provider, type ProviderRequest } from "./Provider.js"
import { ResourceServer, layer as ResourceServerLayer, type ResourceServerOptions } from "./ResourceServer.js"
import * as Store from "./Store.js"
import * as Telemetry from "./Telemetry.js"
import type { TokenVerifier } from "./TokenVerifier.js"
import * as OutboundHttp from "./internal/outboundHttp.js"

/** Everything the HTTP surface needs, usually a provider layer merged with the resource configuration. */
export type McpAuthLayer<E = never> = Layer.Layer<BearerAuth | ResourceServer | Provider, E>

/** Options of the HTTP surface. */
export interface McpAuthOptions extends Cors.CorsOptions {
  /** Per-tool, per-resource and per-prompt requirements; scopes are enforced at the HTTP layer for step-up. */
  readonly policy?: Authorization.Policy | undefined
  /** Session-to-subject bindings (default: in memory, per instance). */
  readonly sessions?: SessionBindings.SessionBindings | undefined
}

/** A request as the routes see it. The optional fields are read only by a provider's own routes (proxy mode). */
export interface RouteRequest {
  readonly method: string
  readonly pathname: string
  readonly origin?: string | undefined
  /** The query string, with or without its leading `?`. */
  readonly search?: string | undefined
  /** Request headers by lower-case name, e.g. node's `req.headers` or `Object.fromEntries(request.headers)`. */
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string> | undefined>> | undefined
  /** The network peer's address (the socket's, never a forwarded one). */
  readonly remoteAddress?: string | undefined
  /**
   * Reads the raw body, resolving to `too_large` as soon as more than `maxBytes` arrived. Called at most once, and
   * only for a provider route that takes a body, so adapters never buffer bodies for other requests.
   */
  readonly readBody?: ((maxBytes: number) => Promise<Uint8Array | BodyProblem>) | undefined
}

/** A request as the guard sees it: every `Authorization` header value, nothing from the query or body. */
export interface GuardRequest {
  readonly authorization: ReadonlyArray<string>
  readonly origin?: string | undefined
  /** The parsed JSON-RPC body, when the adapter has it: its operations' scopes are required up front. */
  readonly body?: unknown
  /** The `Mcp-Session-Id` request header, when present. */
  readonly sessionId?: string | undefined
  /** More requirements for this request. */
  readonly requirements?: Requirements | undefined
}

/** The guard's verdict: the principal, or the exact answer to send. */
export type GuardOutcome =
  | { readonly ok: true; readonly authInfo: AuthInfo; readonly sdkAuthInfo: SdkAuthInfo; readonly headers: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly answer: HttpAnswer }

/** The HTTP surface of one protected MCP server. */
export interface McpAuth {
  /** The canonical resource URL. */
  readonly resource: string
  /** The `resource_metadata` URL. */
  readonly metadataUrl: string
  /** The MCP endpoint's path. */
  readonly mcpPath: string
  /** The provider's start-up warnings. */
  readonly warnings: ReadonlyArray<string>
  /** Answers the metadata documents, their preflights and the provider's routes; undefined for any other path. */
  readonly route: (request: RouteRequest) => Promise<HttpAnswer | undefined>
  /**
   * Whether {@link McpAuth.route} answers a path (metadata documents, mirrored metadata, the provider's routes), so
   * adapters can pass every other request on at once, without a promise.
   */
  readonly isRoute: (pathname: string) => boolean
  /** Whether a path is one of the provider's own routes (which need the query, headers and body). */
  readonly isProviderRoute: (pathname: string) => boolean
  /** Whether a path is the MCP endpoint or below it, and so needs a token. */
  readonly isProtected: (pathname: string) => boolean
  /** The answer to a CORS preflight on the MCP endpoint. */
  readonly preflight: (origin: string | undefined) => HttpAnswer
  /** Authenticates one request to the MCP endpoint. */
  readonly guard: (request: GuardRequest) => Promise<GuardOutcome>
  /**
   * {@link McpAuth.guard} for adapters on the hot path: the outcome itself when it is known at once (a cached key or
   * a cached verdict, the usual case), a promise only when the verdict waits on the network.
   */
  readonly check: (request: GuardRequest) => GuardOutcome | Promise<GuardOutcome>
  /**
   * The step-up check for a parsed JSON-RPC body, once the token is known to be valid: undefined when the caller
   * holds every scope the body's operations need, else the 403 `insufficient_scope` answer naming all of them.
   */
  readonly authorizeBody: (authInfo: AuthInfo, body: unknown, origin?: string | undefined) => HttpAnswer | undefined
  /** The requirements of tools, resources and prompts. */
  readonly policy: Authorization.Policy
  /** The scope implications configured for the resource. */
  readonly scopeImplications: ScopeImplications
  /** Releases the runtime and everything the layers hold. */
  readonly dispose: () => Promise<void>
}

/** Root paths where authorization server metadata is mirrored for clients that look for it on the MCP server. */
const mirroredPaths = new Set(["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"])


/**
 * Builds the runtime once, at start. A configuration problem rejects with a {@link ConfigProblem}
 * whose message is one line naming the setting.
 */
export const make = async <E>(layer: McpAuthLayer<E>, options: McpAuthOptions = {}): Promise<McpAuth> => {
  const runtime = ManagedRuntime.make(layer)
  const exit = await runtime.runPromiseExit(
    Effect.all({ server: ResourceServer, provider: Provider, bearer: BearerAuth, metadata: ProtectedResource.metadata })
  )
  if (Exit.isFailure(exit)) {
    await runtime.dispose()
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some" && failure.value instanceof ConfigProblem) throw failure.value
    throw new ConfigProblem({ setting: "auth", problem: Cause.pretty(exit.cause).split("\n")[0] ?? "could not start" })
  }
  const { server, provider, bearer, metadata } = exit.value
  // the built runtime: running on it directly keeps the layer's error out of every request's type
  const built = await runtime.runtime()
  const runFork = Runtime.runFork(built)
  // with the tracer off (the default) a verdict that can be reached at once is read without a fiber; with it on every
  // request goes through the fiber, so that each one has its guard span
  const tracerOn = FiberRefs.getOrDefault(built.fiberRefs, FiberRef.currentTracerEnabled)
  // the clock the runtime's fibers read, for verdicts read outside them
  const clock = Runtime.runSync(built)(Effect.clock)
  const metadataBody = JSON.stringify(metadata)
  const metadataPaths = new Set(server.metadataPaths)
  const mcpPath = server.mcpPath
  const policy = options.policy ?? new Authorization.Policy()
  const sessions = options.sessions ?? SessionBindings.make()
  const otherSubject = new AccessDenied({ description: "This session belongs to another user" })

  const mirrored = provider.metadata
  const providerRoutes = provider.routes
  const providerPaths = new Set(providerRoutes?.paths ?? [])
  const isProviderRoute = (pathname: string): boolean => providerPaths.has(pathname)

  const toProviderRequest = (request: RouteRequest): ProviderRequest => {
    let consumed = false
    const headers = request.headers ?? {}
    return {
      method: request.method.toUpperCase(),
      pathname: request.pathname,
      query: new URLSearchParams(request.search ?? ""),
      header: (name) => {
        const value = headers[name.toLowerCase()]
        return value === undefined ? undefined : typeof value === "string" ? value : value.join(", ")
      },
      remoteAddress: request.remoteAddress,
      body: (maxBytes) =>
        Effect.suspend(() => {
          const read = request.readBody
          if (consumed || read === undefined) return Effect.fail<BodyProblem>("unreadable")
          consumed = true
          return Effect.tryPromise({ try: () => read(maxBytes), catch: (): BodyProblem => "unreadable" }).pipe(
            Effect.flatMap((body) => (typeof body === "string" ? Effect.fail(body) : Effect.succeed(body)))
          )
        })
    }
  }

  const routeToProvider = async (routes: NonNullable<typeof providerRoutes>, request: RouteRequest): Promise<HttpAnswer> => {
    const exit = await runtime.runPromiseExit(routes.handle(toProviderRequest(request)))
    if (Exit.isSuccess(exit)) return exit.value
    // a defect is a bug (or the runtime is gone), not a verdict: never a 500 with details, and it can be retried
    await runtime.runPromise(Effect.logError("mcp-oauth provider route defect", Cause.squash(exit.cause))).catch(() => undefined)
    return unavailable
  }

  const route = async (request: RouteRequest): Promise<HttpAnswer | undefined> => {
    if (providerRoutes !== undefined && providerPaths.has(request.pathname)) return routeToProvider(providerRoutes, request)
    if (mirrored !== undefined && mirroredPaths.has(request.pathname)) return mirror(request.method, mirrored)
    if (!metadataPaths.has(request.pathname)) return undefined
    const method = request.method.toUpperCase()
    if (method === "OPTIONS") return { status: 204, headers: Cors.metadataHeaders }
    if (method !== "GET" && method !== "HEAD") {
      return { status: 405, headers: { ...Cors.metadataHeaders, allow: "GET, HEAD, OPTIONS" } }
    }
    return {
      status: 200,
      headers: { ...Cors.metadataHeaders, "content-type": "application/json", "cache-control": "public, max-age=300" },
      body: method === "HEAD" ? undefined : metadataBody
    }
  }

  const mirror = async (method: string, metadata: NonNullable<typeof mirrored>): Promise<HttpAnswer> => {
    const verb = method.toUpperCase()
    if (verb === "OPTIONS") return { status: 204, headers: Cors.metadataHeaders }
    if (verb !== "GET" && verb !== "HEAD") return { status: 405, headers: { ...Cors.metadataHeaders, allow: "GET, HEAD, OPTIONS" } }
    const result = await runtime.runPromise(Effect.either(metadata))
    if (Either.isLeft(result)) {
      const answer = fromAuthError(result.left, { resourceMetadataUrl: server.metadataUrl })
      return { ...answer, headers: { ...Cors.metadataHeaders, ...answer.headers } }
    }
    return {
      status: 200,
      headers: { ...Cors.metadataHeaders, "content-type": "application/json", "cache-control": "public, max-age=300" },
      body: verb === "HEAD" ? undefined : JSON.stringify(result.right)
    }
  }

  const isRoute = (pathname: string): boolean =>
    metadataPaths.has(pathname) ||
    (providerRoutes !== undefined && providerPaths.has(pathname)) ||
    (mirrored !== undefined && mirroredPaths.has(pathname))

  const isProtected = (pathname: string): boolean =>
    mcpPath === "" || mcpPath === "/"
      ? !metadataPaths.has(pathname)
      : pathname === mcpPath || pathname.startsWith(`${mcpPath}/`)

  // the CORS headers of an accepted request depend only on its origin: made once per origin, shared and frozen
  const corsByOrigin = new Map<string | undefined, Readonly<Record<string, string>>>()
  const corsHeaders = (origin: string | undefined): Readonly<Record<string, string>> => {
    const key = options.allowedOrigins === undefined || options.allowedOrigins === "*" ? undefined : origin
    let headers = corsByOrigin.get(key)
    if (headers === undefined) {
      headers = Object.freeze(Cors.responseHeaders(options, origin))
      // only allowed origins reach here (and a wildcard is one entry), so the map is bounded by the allowlist
      if (Cors.originAllowed(options, origin)) corsByOrigin.set(key, headers)
    }
    return headers
  }

  const withCors = (answer: HttpAnswer, origin: string | undefined): HttpAnswer => ({
    ...answer,
    headers: { ...answer.headers, ...corsHeaders(origin) }
  })

  const noRequirements: Requirements = { scopes: [] }
  const requirementsOf = (request: GuardRequest): Requirements => {
    const operationScopes = request.body === undefined ? [] : Authorization.scopesFor(policy, request.body)
    const extra = request.requirements?.scopes ?? []
    if (operationScopes.length === 0 && extra.length === 0) return noRequirements
    return { scopes: [...new Set([...extra, ...operationScopes])] }
  }

  // a session belongs to the subject that opened it
  const sessionRefusal = (info: AuthInfo, sessionId: string | undefined): AccessDenied | undefined =>
    sessionId !== undefined && !sessions.allows(sessionId, info) ? otherSubject : undefined

  // one verdict per request, inside the guard span: header, token, scopes and the session's subject
  const verdict = Effect.fnUntraced(function* (
    authorization: ReadonlyArray<string>,
    requirements: Requirements,
    sessionId: string | undefined
  ) {
    const info = yield* bearer.authenticate(authorization, requirements)
    const refusal = sessionRefusal(info, sessionId)
    if (refusal !== undefined) return yield* refusal
    return info
  })

  // the same verdict when it can be reached at once (a refused header, a held verdict, a JWT whose key is held), or
  // undefined. A throw from a verifier is left to the fiber path, which turns a defect into its 503
  const immediateVerdict = (request: GuardRequest, requirements: Requirements): Exit.Exit<AuthInfo, AuthError> | undefined => {
    let verdict: Exit.Exit<AuthInfo, AuthError> | undefined
    try {
      verdict = bearer.immediate(request.authorization, requirements, clock.unsafeCurrentTimeMillis())
    } catch {
      return undefined
    }
    if (verdict === undefined || Exit.isFailure(verdict)) return verdict
    const refusal = sessionRefusal(verdict.value, request.sessionId)
    return refusal === undefined ? verdict : Exit.fail(refusal)
  }
  const inGuardSpan = Telemetry.spanned(Telemetry.Span.guard)

  // counters tagged once per reason (reasons are fixed vocabulary): tagging per request would look the metric up anew
  const failureCounters = new Map<string, Metric.Metric.Counter<number>>()
  const countFailure = (reason: string): void => {
    let counter = failureCounters.get(reason)
    if (counter === undefined) {
      counter = Metric.tagged(Telemetry.authFailures, "reason", reason)
      failureCounters.set(reason, counter)
    }
    counter.unsafeUpdate(1, [])
  }
  const countSuccess = (): void => Telemetry.authSuccesses.unsafeUpdate(1, [])

  // a refusal's answer depends only on the error, the requirements and the origin; for the common case (no extra
  // requirements, an error whose text is fixed by its reason) it is rendered once and shared, frozen
  const refusalAnswers = new Map<string, HttpAnswer>()
  const refusalAnswer = (error: AuthError, reason: string, requirements: Requirements, origin: string | undefined): HttpAnswer => {
    const fixed = requirements === noRequirements &&
      (error._tag === "InvalidToken" || error._tag === "MissingToken" || error._tag === "InvalidRequest")
    if (!fixed || !Cors.originAllowed(options, origin)) return withCors(bearer.answer(error, requirements), origin)
    const corsKey = options.allowedOrigins === undefined || options.allowedOrigins === "*" ? "" : origin ?? ""
    const key = `${reason}\n${error._tag === "InvalidRequest" ? error.description : ""}\n${corsKey}`
    let answer = refusalAnswers.get(key)
    if (answer === undefined) {
      const made = withCors(bearer.answer(error, requirements), origin)
      answer = Object.freeze({ ...made, headers: Object.freeze(made.headers) })
      // reasons and these descriptions are fixed in code, so the map stays small; the bound is for a verifier that is not
      if (refusalAnswers.size < 256) refusalAnswers.set(key, answer)
    }
    return answer
  }

  const unavailableFor = (origin: string | undefined): HttpAnswer => withCors(unavailable, origin)

  const settle = (exit: Exit.Exit<AuthInfo, AuthError>, requirements: Requirements, origin: string | undefined): GuardOutcome => {
    if (Exit.isSuccess(exit)) {
      countSuccess()
      const info = exit.value
      return { ok: true, authInfo: info, sdkAuthInfo: toSdkAuthInfo(info, server.resource), headers: corsHeaders(origin) }
    }
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some") {
      const reason = Telemetry.reasonOf(failure.value)
      countFailure(reason)
      return { ok: false, answer: refusalAnswer(failure.value, reason, requirements, origin) }
    }
    // a defect is a bug in a verifier, not a verdict on the token; the request can be retried
    countFailure("defect")
    runFork(Effect.logError("mcp-oauth guard defect", Cause.squash(exit.cause)))
    return { ok: false, answer: unavailableFor(origin) }
  }

  let disposed = false
  const check = (request: GuardRequest): GuardOutcome | Promise<GuardOutcome> => {
    // after dispose the layers' resources are gone: no verdict can be trusted, so the request is answered as retryable
    if (disposed) return { ok: false, answer: unavailableFor(request.origin) }
    if (!Cors.originAllowed(options, request.origin)) {
      countFailure("AccessDenied")
      return {
        ok: false,
        answer: withCors(
          {
            status: 403,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ error: "access_denied", error_description: "Origin not allowed" })
          },
          request.origin
        )
      }
    }
    const requirements = requirementsOf(request)
    const origin = request.origin
    if (!tracerOn) {
      const verdict = immediateVerdict(request, requirements)
      if (verdict !== undefined) return settle(verdict, requirements, origin)
    }
    // the request's one trip through the runtime. A fiber runs synchronously until it has to wait, so a verdict that
    // needs nothing remote (a cached key or a cached verdict) is read at once, without a promise or a scheduling hop
    const fiber = runFork(inGuardSpan(verdict(request.authorization, requirements, request.sessionId)))
    const exit = fiber.unsafePoll()
    if (exit !== null) return settle(exit, requirements, origin)
    return new Promise((resolve) => fiber.addObserver((exit) => resolve(settle(exit, requirements, origin))))
  }
  const guard = (request: GuardRequest): Promise<GuardOutcome> => {
    try {
      const outcome = check(request)
      return outcome instanceof Promise ? outcome : Promise.resolve(outcome)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  const authorizeBody = (info: AuthInfo, body: unknown, origin: string | undefined): HttpAnswer | undefined => {
    const scopes = Authorization.scopesFor(policy, body)
    if (scopes.length === 0) return undefined
    const required = [...new Set([...server.requiredScopes, ...scopes])]
    if (ScopeHierarchy.missing(info.scopes, required, server.scopeImplications).length === 0) return undefined
    return withCors(bearer.answer(new InsufficientScope({ required }), { scopes: required }), origin)
  }

  return {
    resource: server.resource,
    metadataUrl: server.metadataUrl,
    mcpPath,
    warnings: provider.warnings,
    route,
    isRoute,
    isProviderRoute,
    isProtected,
    preflight: (origin) => ({ status: 204, headers: Cors.preflightHeaders(options, origin) }),
    guard,
    check,
    authorizeBody,
    policy,
    scopeImplications: server.scopeImplications,
    dispose: () => {
      disposed = true
      return runtime.dispose()
    }
  }
}

/** Options of {@link layer}. */
export interface LayerOptions {
  /**
   * The store the provider keeps its state in (the OAuth proxy's clients, codes, grants). Default: in memory, for
   * this instance only; give every instance the same shared store (e.g. `@mcp-oauth/redis`) to run several.
   */
  readonly store?: Layer.Layer<Store.Store, ConfigProblem> | undefined
  /**
   * Where spans go (docs/observability.md). Default `false`: the runtime's tracer is disabled, so the spans on the
   * request path cost next to nothing. `true` keeps Effect's own tracer; a Layer that installs a tracer (e.g.
   * `NodeSdk.layer` from `@effect/opentelemetry`) exports them. Metrics are always recorded in Effect's registry.
   */
  readonly telemetry?: boolean | Layer.Layer<never> | undefined
}

/** The tracer setting of {@link LayerOptions.telemetry} as a layer. */
const tracing = (telemetry: LayerOptions["telemetry"]): Layer.Layer<never> =>
  telemetry === undefined || telemetry === false
    ? Layer.setTracerEnabled(false)
    : telemetry === true
      ? Layer.empty
      : telemetry

/**
 * Assembles the layer {@link make} needs: the resource configuration, a provider layer, the guard,
 * an outbound HTTP client that never follows redirects, the store, and the tracer setting.
 */
export const layer = <E>(
  resource: ResourceServerOptions,
  provider: Layer.Layer<Provider | TokenVerifier, E, ResourceServer | HttpClient.HttpClient | Store.Store>,
  options: LayerOptions = {}
): McpAuthLayer<E | ConfigProblem> =>
  BearerAuthLayer.pipe(
    Layer.provideMerge(provider),
    Layer.provideMerge(
      Layer.mergeAll(ResourceServerLayer(resource), OutboundHttp.layer, options.store ?? Store.layerMemory())
    ),
    // built first, so that the layers above and every request run under the chosen tracer
    Layer.provideMerge(tracing(options.telemetry))
  )
