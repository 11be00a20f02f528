/**
 * The framework-neutral HTTP surface that adapters wrap: metadata routes, CORS, and the guard, on one Effect runtime.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { type SdkAuthInfo, type AuthInfo, toSdkAuthInfo } from "./AuthInfo.js"
import { BearerAuth, layer as BearerAuthLayer, type Requirements } from "./BearerAuth.js"
import { ConfigProblem } from "./ConfigProblem.js"
import * as Authorization from "./Authorization.js"
import * as Cors from "./Cors.js"
import { AccessDenied, InsufficientScope } from "./Errors.js"
import * as ScopeHierarchy from "./ScopeHierarchy.js"
import type { ScopeImplications } from "./ScopeHierarchy.js"
import * as SessionBindings from "./SessionBindings.js"
import { fromAuthError, type HttpAnswer } from "./HttpAnswer.js"
import * as ProtectedResource from "./ProtectedResource.js"
import { Provider } from "./Provider.js"
import { ResourceServer, layer as ResourceServerLayer, type ResourceServerOptions } from "./ResourceServer.js"
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

/** A request as the routes see it. */
export interface RouteRequest {
  readonly method: string
  readonly pathname: string
  readonly origin?: string | undefined
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
  /** Answers the metadata documents and their preflights; undefined for any other path. */
  readonly route: (request: RouteRequest) => Promise<HttpAnswer | undefined>
  /** Whether a path is the MCP endpoint or below it, and so needs a token. */
  readonly isProtected: (pathname: string) => boolean
  /** The answer to a CORS preflight on the MCP endpoint. */
  readonly preflight: (origin: string | undefined) => HttpAnswer
  /** Authenticates one request to the MCP endpoint. */
  readonly guard: (request: GuardRequest) => Promise<GuardOutcome>
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

const unavailable: HttpAnswer = {
  status: 503,
  headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "5" },
  body: JSON.stringify({ error: "temporarily_unavailable", error_description: "Authentication is unavailable; try again later" })
}

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
  const metadataBody = JSON.stringify(metadata)
  const metadataPaths = new Set(server.metadataPaths)
  const mcpPath = server.mcpPath
  const policy = options.policy ?? new Authorization.Policy()
  const sessions = options.sessions ?? SessionBindings.make()
  const otherSubject = new AccessDenied({ description: "This session belongs to another user" })

  const mirrored = provider.metadata
  const route = async (request: RouteRequest): Promise<HttpAnswer | undefined> => {
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

  const isProtected = (pathname: string): boolean =>
    mcpPath === "" || mcpPath === "/"
      ? !metadataPaths.has(pathname)
      : pathname === mcpPath || pathname.startsWith(`${mcpPath}/`)

  const withCors = (answer: HttpAnswer, origin: string | undefined): HttpAnswer => ({
    ...answer,
    headers: { ...answer.headers, ...Cors.responseHeaders(options, origin) }
  })

  const guard = async (request: GuardRequest): Promise<GuardOutcome> => {
    if (!Cors.originAllowed(options, request.origin)) {
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
    const operationScopes = request.body === undefined ? [] : Authorization.scopesFor(policy, request.body)
    const requirements: Requirements = {
      scopes: [...new Set([...(request.requirements?.scopes ?? []), ...operationScopes])]
    }
    const sessionId = request.sessionId
    const exit = await runtime.runPromiseExit(
      Effect.either(
        bearer.authenticate(request.authorization, requirements).pipe(
          Effect.filterOrFail(
            (info) => sessionId === undefined || sessions.allows(sessionId, info),
            () => otherSubject
          )
        )
      )
    )
    if (Exit.isFailure(exit)) {
      // a defect is a bug in a verifier, not a verdict on the token; the request can be retried
      await runtime.runPromise(Effect.logError("mcp-oauth guard defect", Cause.squash(exit.cause)))
      return { ok: false, answer: withCors(unavailable, request.origin) }
    }
    const result = exit.value
    if (Either.isLeft(result)) {
      return { ok: false, answer: withCors(bearer.answer(result.left, requirements), request.origin) }
    }
    return {
      ok: true,
      authInfo: result.right,
      sdkAuthInfo: toSdkAuthInfo(result.right, server.resource),
      headers: Cors.responseHeaders(options, request.origin)
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
    isProtected,
    preflight: (origin) => ({ status: 204, headers: Cors.preflightHeaders(options, origin) }),
    guard,
    authorizeBody,
    policy,
    scopeImplications: server.scopeImplications,
    dispose: () => runtime.dispose()
  }
}

/**
 * Assembles the layer {@link make} needs: the resource configuration, a provider layer, the guard,
 * and an outbound HTTP client that never follows redirects.
 */
export const layer = <E>(
  resource: ResourceServerOptions,
  provider: Layer.Layer<Provider | TokenVerifier, E, ResourceServer | HttpClient.HttpClient>
): McpAuthLayer<E | ConfigProblem> =>
  BearerAuthLayer.pipe(
    Layer.provideMerge(provider),
    Layer.provideMerge(Layer.merge(ResourceServerLayer(resource), OutboundHttp.layer))
  )
