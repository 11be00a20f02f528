/**
 * The doctor's outbound HTTP: one request at a time, each under a timeout and a body-size cap, redirects never
 * followed (the library never follows them either, so a redirect must show up as the problem it is).
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

/** One request as the doctor sends it. */
export interface ProbeRequest {
  readonly method: "GET" | "POST" | "OPTIONS"
  readonly url: string
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
}

/** The answer to a {@link ProbeRequest}: status, headers by lower-case name, and the body as text. */
export interface Exchange {
  readonly url: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Why no answer arrived. */
export type ProbeFailure = "unreachable" | "timeout" | "too_large"

/** A request that got no usable answer; `cause` is a short transport description such as `ECONNREFUSED`. */
export class ProbeError extends Data.TaggedError("ProbeError")<{
  readonly url: string
  readonly reason: ProbeFailure
  readonly cause?: string | undefined
}> {
  /** What went wrong, without the URL. */
  get why(): string {
    return this.reason === "timeout"
      ? "no answer before the timeout"
      : this.reason === "too_large"
      ? "the answer is larger than the doctor reads"
      : `unreachable${this.cause === undefined ? "" : ` (${this.cause})`}`
  }
  /** One line naming the URL and what went wrong. */
  override get message(): string {
    return `${this.url}: ${this.why}`
  }
}

/** Options of the prober. */
export interface ProbeOptions {
  /** Limit of one whole exchange (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest body read, in bytes (default 512 KiB, the library's limit for metadata and key sets). */
  readonly maxResponseBytes?: number | undefined
}

/** The defaults of {@link ProbeOptions}. */
export const defaults = { timeout: "5 seconds", maxResponseBytes: 512 * 1024 } as const

/** Sends requests for the checks. */
export interface Service {
  /** The timeout of each request, also handed to the library's discovery and key set. */
  readonly timeout: Duration.Duration
  /** Sends one request and reads the whole answer, or fails with why none arrived. */
  readonly send: (request: ProbeRequest) => Effect.Effect<Exchange, ProbeError>
}

/** The prober service. */
export class Probe extends Context.Tag("mcp-oauth/Probe")<Probe, Service>() {}

// node's fetch hides the reason on its cause chain: the errno (ECONNREFUSED) or the innermost message (bad port)
const transportCause = (error: unknown): string | undefined => {
  let current: unknown = error
  let message: string | undefined
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const { code, message: text, cause } = current as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof code === "string") return code
    if (typeof text === "string" && text !== "" && text !== "fetch failed") message = text
    current = cause
  }
  return message
}

const readCapped = (response: HttpClientResponse.HttpClientResponse, maxBytes: number) =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.mapError((error): ProbeFailure | "empty" => (error.reason === "EmptyBody" ? "empty" : "unreachable")),
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > maxBytes) return Effect.fail<ProbeFailure>("too_large")
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.flatMap(() => Effect.sync(() => Buffer.concat(chunks).toString("utf8"))),
      // a bodiless answer (a 204 preflight) reads as empty text
      Effect.catchAll((failure: ProbeFailure | "empty") =>
        failure === "empty" ? Effect.succeed("") : Effect.fail(failure)
      )
    )
  })

/** Builds the prober on the `HttpClient` in context. */
export const make = (options: ProbeOptions = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    const timeout = Duration.decode(options.timeout ?? defaults.timeout)
    const maxBytes = options.maxResponseBytes ?? defaults.maxResponseBytes
    const send = (request: ProbeRequest): Effect.Effect<Exchange, ProbeError> => {
      let built = HttpClientRequest.make(request.method)(request.url).pipe(
        HttpClientRequest.setHeaders(request.headers ?? {})
      )
      if (request.body !== undefined) built = HttpClientRequest.bodyText(built, request.body, "application/json")
      let cause: string | undefined
      return client.execute(built).pipe(
        Effect.mapError((error): ProbeFailure => {
          cause = transportCause(error.cause)
          return "unreachable"
        }),
        Effect.flatMap((response) =>
          Effect.map(readCapped(response, maxBytes), (body): Exchange => ({
            url: request.url,
            status: response.status,
            headers: { ...response.headers },
            body
          }))
        ),
        Effect.scoped,
        Effect.timeoutFail({ duration: timeout, onTimeout: (): ProbeFailure => "timeout" }),
        Effect.mapError((reason) => new ProbeError({ url: request.url, reason, cause }))
      )
    }
    return Probe.of({ timeout, send })
  })

/** fetch with redirects left unfollowed, as the library's own outbound client does. */
export const httpClientLayer: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" }))
)

/** The prober and the `HttpClient` the library's discovery and key set use, both on fetch. */
export const layer = (options: ProbeOptions = {}): Layer.Layer<Probe | HttpClient.HttpClient> =>
  Layer.provideMerge(Layer.effect(Probe, make(options)), httpClientLayer)

/** The body parsed as JSON, or undefined when it is not JSON. */
export const json = (exchange: Exchange): unknown => {
  try {
    return JSON.parse(exchange.body) as unknown
  } catch {
    return undefined
  }
}

/** Whether the answer is an HTML page (a login page or an app's fallback route), never an OAuth document. */
export const isHtml = (exchange: Exchange): boolean => /html/i.test(exchange.headers["content-type"] ?? "")

/** A header's values split on commas, trimmed and lower-cased. */
export const headerList = (exchange: Exchange, name: string): ReadonlyArray<string> =>
  (exchange.headers[name.toLowerCase()] ?? "")
    .split(",")
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value !== "")
