/**
 * One outbound GET of a JSON document from an identity provider, hardened for untrusted upstreams: a timeout over the
 * whole exchange, a size cap counted while the body streams, no redirects, and failures that name no URL or secret.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Scope from "effect/Scope"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { UpstreamUnavailable } from "../Errors.js"
import type { UpstreamFailure } from "../Errors.js"
import * as Telemetry from "../Telemetry.js"

/** How to fetch one document. */
export interface FetchJsonOptions {
  /** What is fetched, e.g. "jwks"; it becomes the error's `target`, so it must not contain secrets. */
  readonly target: string
  /** Limit for the whole exchange: connect, headers and body. */
  readonly timeout: Duration.DurationInput
  /** Largest body accepted, in bytes. */
  readonly maxResponseBytes: number
  /** The `Accept` header (default `application/json`). */
  readonly accept?: string | undefined
}

/** A URL as it may appear in logs: origin and path only, since queries can carry secrets. */
export const redactUrl = (url: string | URL): string => {
  try {
    const parsed = typeof url === "string" ? new URL(url) : url
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return "<invalid url>"
  }
}

// a bounded Retry-After: an upstream cannot make us tell clients to go away for a day
const retryAfterOf = (response: HttpClientResponse.HttpClientResponse | undefined): number => {
  const header = response?.headers["retry-after"]
  if (header === undefined || !/^\d{1,9}$/.test(header.trim())) return 1
  return Math.min(Math.max(Number(header.trim()), 1), 3600)
}

const isJsonContentType = (contentType: string | undefined): boolean => {
  // a missing or generic type is tolerated (some providers serve JWKS as text/plain); HTML is the login page or a
  // single-page-app fallback route, never the document we asked for
  if (contentType === undefined) return true
  return !/html/i.test(contentType)
}

/** A response body, at most `maxBytes` counted chunk by chunk: `too_large` as soon as more arrived. */
export const readCapped = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<Uint8Array, UpstreamFailure> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.mapError((error): UpstreamFailure => error.reason === "EmptyBody" ? "bad_response" : "unreachable"),
      // counted per chunk: a lying or absent Content-Length cannot make us buffer more than the cap
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > maxBytes) return Effect.fail<UpstreamFailure>("too_large")
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.zipRight(Effect.sync(() => {
        const body = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          body.set(chunk, offset)
          offset += chunk.byteLength
        }
        return body
      }))
    )
  })

const parseJson = (body: Uint8Array): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown)
  } catch {
    return Option.none()
  }
}

/**
 * Reads a response body as JSON within `maxBytes`: an honest Content-Length over the cap, an HTML body, a body
 * growing past the cap or one that is not UTF-8 JSON fails with the matching {@link UpstreamFailure}.
 */
export const readJson = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<unknown, UpstreamFailure> =>
  Effect.gen(function* () {
    const declared = response.headers["content-length"]
    // an honest Content-Length lets us refuse before reading; a dishonest one is caught by readCapped
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
      return yield* Effect.fail<UpstreamFailure>("too_large")
    }
    if (!isJsonContentType(response.headers["content-type"])) return yield* Effect.fail<UpstreamFailure>("bad_response")
    const body = yield* readCapped(response, maxBytes)
    return yield* Option.match(parseJson(body), {
      onNone: () => Effect.fail<UpstreamFailure>("bad_response"),
      onSome: Effect.succeed
    })
  })

// fetch follows redirects unless told otherwise; a redirect could lead a credentialed or trusted request anywhere
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, {
      ...Option.getOrElse(init, () => ({})),
      redirect: "manual"
    }))

/** Sends one request within the exchange's scope, without following redirects; a transport error is `unreachable`. */
export type Send = (
  request: HttpClientRequest.HttpClientRequest
) => Effect.Effect<HttpClientResponse.HttpClientResponse, UpstreamFailure, Scope.Scope>

/**
 * Runs one hardened exchange with `url`: `exchange` sends through the given {@link Send} (redirects never followed)
 * inside a scope that aborts the request on every exit, under `options.timeout`. Any failure is logged at debug as
 * `message` (target, redacted URL, reason, status) and becomes `UpstreamUnavailable` naming `options.target`, with a
 * bounded Retry-After taken from the last response. The exchange is one `mcp_oauth.outbound.call` span and one count
 * of `mcp_oauth_outbound_calls_total` by target and outcome.
 */
export const upstreamExchange = <A>(
  url: string,
  options: { readonly target: string; readonly timeout: Duration.DurationInput },
  message: string,
  exchange: (send: Send) => Effect.Effect<A, UpstreamFailure, Scope.Scope>
): Effect.Effect<A, UpstreamUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    let response: HttpClientResponse.HttpClientResponse | undefined
    const fail = (reason: UpstreamFailure) =>
      Effect.zipRight(
        Effect.logDebug(message).pipe(
          Effect.annotateLogs({
            target: options.target,
            url: redactUrl(url),
            reason,
            ...(response === undefined ? {} : { status: response.status })
          })
        ),
        new UpstreamUnavailable({ reason, target: options.target, retryAfterSeconds: retryAfterOf(response) })
      )
    const send: Send = (request) =>
      withoutRedirects(client.execute(request)).pipe(
        Effect.tap((received) => {
          response = received
        }),
        Effect.mapError((): UpstreamFailure => "unreachable")
      )

    return yield* exchange(send).pipe(
      // the scope aborts the underlying request on every exit, so an unread or half-read body never lingers
      Effect.scoped,
      Effect.timeoutFail({ duration: options.timeout, onTimeout: (): UpstreamFailure => "timeout" }),
      Effect.catchAll(fail)
    )
  }).pipe(
    Effect.onExit((exit) => recordOutbound(options.target, exit)),
    (recorded) =>
      // counted always; a span only when the tracer is on (see `spanned` in Telemetry.ts for why the switch is read first)
      Effect.withFiberRuntime((fiber) =>
        fiber.getFiberRef(FiberRef.currentTracerEnabled)
          ? Effect.withSpan(recorded, Telemetry.Span.outboundCall, {
            captureStackTrace: false,
            attributes: { [Telemetry.Attribute.target]: options.target }
          })
          : recorded
      )
  )

// the outcome is the upstream failure's reason, a fixed vocabulary: the URL, headers and body are never recorded
const recordOutbound = (target: string, exit: Exit.Exit<unknown, UpstreamUnavailable>): Effect.Effect<void> => {
  const outcome = Exit.isSuccess(exit)
    ? "ok"
    : Option.match(Cause.failureOption(exit.cause), {
      onNone: () => (Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"),
      onSome: (error) => error.reason
    })
  return Effect.zipRight(
    Effect.annotateCurrentSpan(
      outcome === "ok"
        ? { [Telemetry.Attribute.outcome]: "ok" }
        : { [Telemetry.Attribute.outcome]: "error", [Telemetry.Attribute.failureReason]: outcome }
    ),
    Telemetry.count(Telemetry.outboundCalls, { target, outcome })
  )
}

/**
 * GETs `url` and parses the body as JSON. Any 3xx (redirects are never followed), any other non-2xx, an HTML or
 * non-JSON body, a body over the cap, a transport error or the timeout fail with `UpstreamUnavailable`; the error
 * names `options.target`, never the URL.
 */
export const fetchJson = (
  url: string,
  options: FetchJsonOptions
): Effect.Effect<unknown, UpstreamUnavailable, HttpClient.HttpClient> =>
  upstreamExchange(url, options, "upstream fetch failed", (send) =>
    Effect.gen(function* () {
      const request = HttpClientRequest.get(url).pipe(HttpClientRequest.accept(options.accept ?? "application/json"))
      const response = yield* send(request)
      if (response.status < 200 || response.status >= 300) return yield* Effect.fail<UpstreamFailure>("status")
      return yield* readJson(response, options.maxResponseBytes)
    })
  )

/** Decodes a fetched document with a schema; a mismatch is the upstream's fault, so `bad_response`. */
export const decodeJson = <A, I>(schema: Schema.Schema<A, I, never>, target: string) => {
  const decode = Schema.decodeUnknown(schema, { errors: "first", onExcessProperty: "preserve" })
  return (json: unknown): Effect.Effect<A, UpstreamUnavailable> =>
    decode(json).pipe(
      // only the paths of the problems are logged: messages quote values, and a document may carry a token
      Effect.tapError((error: ParseResult.ParseError) =>
        Effect.logDebug("upstream document rejected").pipe(
          Effect.annotateLogs({
            target,
            paths: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.path.join(".")).join(", ")
          })
        )
      ),
      Effect.mapError(() => new UpstreamUnavailable({ reason: "bad_response", target, retryAfterSeconds: 1 }))
    )
}
