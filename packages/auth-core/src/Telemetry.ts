/**
 * The names of every span, span attribute and metric @mcp-oauth emits, in one place so they stay stable and documented
 * (docs/observability.md). Attributes never carry a token, a secret, a code or a state.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"

/** Span names, one per verification or OAuth step. */
export const Span = {
  /** One protected request through the guard: header parsing, verification, scope and session checks. */
  guard: "mcp_oauth.guard",
  /** Verifying one bearer token (JWT, introspection or a proxy token). */
  verifyToken: "mcp_oauth.verify_token",
  /** Fetching a JSON Web Key Set. */
  jwksFetch: "mcp_oauth.jwks.fetch",
  /** Fetching authorization-server metadata. */
  discoveryFetch: "mcp_oauth.discovery.fetch",
  /** An RFC 7662 introspection call. */
  introspect: "mcp_oauth.introspect",
  /** Proxy: dynamic client registration. */
  proxyRegister: "mcp_oauth.proxy.register",
  /** Proxy: the authorization request up to the consent page. */
  proxyAuthorize: "mcp_oauth.proxy.authorize",
  /** Proxy: the consent decision. */
  proxyConsent: "mcp_oauth.proxy.consent",
  /** Proxy: the upstream redirect back to the proxy. */
  proxyCallback: "mcp_oauth.proxy.callback",
  /** Proxy: the token endpoint. */
  proxyToken: "mcp_oauth.proxy.token",
  /** Proxy: the revocation endpoint. */
  proxyRevoke: "mcp_oauth.proxy.revoke",
  /** Proxy: a call to the upstream token, revocation or token-info endpoint. */
  upstreamCall: "mcp_oauth.upstream.call",
  /** Proxy: fetching a Client ID Metadata Document. */
  clientMetadataFetch: "mcp_oauth.proxy.client_metadata.fetch",
  /** One hardened HTTP exchange with an identity provider (inside the step that needed it). */
  outboundCall: "mcp_oauth.outbound.call"
} as const

/** Span names of the shared store's operations (the Redis store's). */
export const StoreSpan = {
  /** Reading a key. */
  get: "mcp_oauth.store.get",
  /** Writing a key with a time to live. */
  set: "mcp_oauth.store.set",
  /** Writing a key only when absent. */
  setIfAbsent: "mcp_oauth.store.set_if_absent",
  /** Reading and deleting a key at once (one-time codes). */
  take: "mcp_oauth.store.take",
  /** Replacing a value only when it still holds the expected one. */
  compareAndSet: "mcp_oauth.store.compare_and_set",
  /** Deleting a key. */
  delete: "mcp_oauth.store.delete",
  /** Counting in a window (rate limits). */
  increment: "mcp_oauth.store.increment"
} as const

/** Span attribute names. */
export const Attribute = {
  /** Why a request or step failed: an error tag or an `invalid_token` reason. */
  failureReason: "mcp_oauth.failure.reason",
  /** `ok` or `refused` or `error`. */
  outcome: "mcp_oauth.outcome",
  /** The token issuer, once verified. */
  issuer: "mcp_oauth.issuer",
  /** The OAuth client id (public by nature; never the secret). */
  clientId: "mcp_oauth.client_id",
  /** The grant type at the token endpoint. */
  grantType: "mcp_oauth.grant_type",
  /** What an outbound call targets, e.g. `jwks` or `upstream token endpoint` (never a URL with credentials). */
  target: "mcp_oauth.target",
  /** The HTTP status sent to the client. */
  httpStatus: "http.response.status_code",
  /** Which verifier checked the token: `jwt`, `introspection`, `function`, `multi_issuer`, or upstream `github`, `google`, `upstream_jwt`. */
  verifier: "mcp_oauth.verifier"
} as const

/** Counts refused or failed requests by reason (`reason` tag: an `invalid_token` reason or an error tag). */
export const authFailures = Metric.counter("mcp_oauth_auth_failures_total", {
  description: "Requests the auth layer refused or could not decide, by reason",
  incremental: true
})

/** Counts requests the guard accepted. */
export const authSuccesses = Metric.counter("mcp_oauth_auth_successes_total", {
  description: "Requests the guard accepted",
  incremental: true
})

/** Counts OAuth proxy steps by `step` and `outcome` tags. */
export const proxySteps = Metric.counter("mcp_oauth_proxy_steps_total", {
  description: "OAuth proxy steps by step and outcome",
  incremental: true
})

/** Counts outbound calls (key sets, metadata, introspection, upstream) by `target` and `outcome` tags. */
export const outboundCalls = Metric.counter("mcp_oauth_outbound_calls_total", {
  description: "Outbound calls to identity providers by target and outcome",
  incremental: true
})

/** Adds one to `counter` under the given tags. */
export const count = (
  counter: Metric.Metric.Counter<number>,
  tags: Readonly<Record<string, string>>
): Effect.Effect<void> =>
  Metric.increment(Object.entries(tags).reduce((metric, [key, value]) => Metric.tagged(metric, key, value), counter))

// Spans that cost nothing when tracing is off. With the tracer disabled (McpAuth's default without telemetry)
// `Effect.withSpan` still builds a no-op span and copies the fiber's whole context to hold it, about 20 µs per span
// (bench/README.md), more than a verified-token cache hit costs in all. So the tracer switch is read first.

/** The failure reason recorded for an error: an `InvalidToken`'s reason, else the error's tag (both fixed vocabulary). */
export const reasonOf = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return "unknown"
  const { _tag, reason } = error as { readonly _tag?: unknown; readonly reason?: unknown }
  if (_tag === "InvalidToken" && typeof reason === "string") return reason
  return typeof _tag === "string" ? _tag : "unknown"
}

const annotate = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
  if (Exit.isSuccess(exit)) return Effect.annotateCurrentSpan(Attribute.outcome, "ok")
  const failure = Cause.failureOption(exit.cause)
  const reason = Option.isSome(failure) ? reasonOf(failure.value) : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
  // a refusal is a verdict; an unreachable upstream or a defect means nothing could be decided
  const outcome = Option.isSome(failure) && reason !== "UpstreamUnavailable" ? "refused" : "error"
  return Effect.annotateCurrentSpan({ [Attribute.outcome]: outcome, [Attribute.failureReason]: reason })
}

/**
 * Runs `self` in the span `name` (a {@link Span}) with its outcome and failure reason as attributes, when
 * the tracer is enabled; otherwise runs it as it is. Attributes must be fixed vocabulary, never a token or secret.
 */
export const spanned =
  (name: string, attributes?: Readonly<Record<string, string>>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const options = attributes === undefined ? { captureStackTrace: false } : { captureStackTrace: false, attributes }
    return Effect.withFiberRuntime<A, E, R>((fiber) =>
      fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withSpan(Effect.onExit(self, annotate), name, options) : self
    )
  }
