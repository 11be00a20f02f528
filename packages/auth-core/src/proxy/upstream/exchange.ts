/**
 * One bounded, credentialed call to a provider API, read back as JSON: a timeout over the whole exchange, a size cap
 * counted while the body streams, no redirects, and failures (`UpstreamUnavailable`) that name the call's `target`
 * but never its URL, headers or body. Used by the upstream token verifiers.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { UpstreamUnavailable, type UpstreamFailure } from "../../Errors.js"
import { redactUrl } from "../../internal/fetchJson.js"

/** How to make one call. */
export interface ExchangeOptions {
  /** What is called, e.g. "github token check"; it becomes the error's `target`, so it must not contain secrets. */
  readonly target: string
  /** Limit for the whole exchange: connect, headers and body. */
  readonly timeout: Duration.DurationInput
  /** Largest body accepted, in bytes. */
  readonly maxResponseBytes: number
  /**
   * Non-2xx statuses whose JSON body is returned instead of failing with `status` (the provider's "no such token"
   * answers). A 3xx is refused whatever this says.
   */
  readonly readStatus?: ((status: number) => boolean) | undefined
}

/** A JSON answer with its status and headers (`body` is undefined for a refusal status without a JSON body). */
export interface JsonAnswer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
}

// a bounded Retry-After: an upstream cannot make us tell clients to go away for a day
const retryAfterOf = (response: HttpClientResponse.HttpClientResponse | undefined): number => {
  const header = response?.headers["retry-after"]
  if (header === undefined || !/^\d{1,9}$/.test(header.trim())) return 1
  return Math.min(Math.max(Number(header.trim()), 1), 3600)
}

const readCapped = (response: HttpClientResponse.HttpClientResponse, maxBytes: number): Effect.Effect<Uint8Array, UpstreamFailure> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.mapError((): UpstreamFailure => "unreachable"),
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > maxBytes) return Effect.fail<UpstreamFailure>("too_large")
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.map(() => {
        const body = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          body.set(chunk, offset)
          offset += chunk.byteLength
        }
        return body
      })
    )
  })

const parseJson = (body: Uint8Array): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown)
  } catch {
    return Option.none()
  }
}

// fetch follows redirects unless told otherwise; a redirect would carry our credentials or the token elsewhere
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, { ...Option.getOrElse(init, () => ({})), redirect: "manual" })
  )

/**
 * Executes `request` and parses the answer as JSON. A 3xx, a non-2xx status not allowed by `readStatus`, an HTML or
 * non-JSON body, a body over the cap, a transport error or the timeout fail with `UpstreamUnavailable`.
 */
export const exchangeJson = (
  request: HttpClientRequest.HttpClientRequest,
  options: ExchangeOptions
): Effect.Effect<JsonAnswer, UpstreamUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    let response: HttpClientResponse.HttpClientResponse | undefined
    const fail = (reason: UpstreamFailure) =>
      Effect.zipRight(
        Effect.logDebug("upstream call failed").pipe(
          Effect.annotateLogs({
            target: options.target,
            url: redactUrl(request.url),
            reason,
            ...(response === undefined ? {} : { status: response.status })
          })
        ),
        new UpstreamUnavailable({ reason, target: options.target, retryAfterSeconds: retryAfterOf(response) })
      )

    const exchange = Effect.gen(function* () {
      response = yield* withoutRedirects(client.execute(request)).pipe(Effect.mapError((): UpstreamFailure => "unreachable"))
      const status = response.status
      const ok = status >= 200 && status < 300
      if (!ok && (status < 400 || options.readStatus?.(status) !== true)) return yield* Effect.fail<UpstreamFailure>("status")
      const declared = response.headers["content-length"]
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > options.maxResponseBytes) {
        return yield* Effect.fail<UpstreamFailure>("too_large")
      }
      const contentType = response.headers["content-type"]
      const html = contentType !== undefined && /html/i.test(contentType)
      if (ok && html) return yield* Effect.fail<UpstreamFailure>("bad_response")
      const body = yield* readCapped(response, options.maxResponseBytes)
      const json = html ? Option.none() : parseJson(body)
      // a refusal status is an answer even when its body is not JSON; a success must be JSON
      if (Option.isNone(json) && ok) return yield* Effect.fail<UpstreamFailure>("bad_response")
      return { status, headers: response.headers, body: Option.getOrUndefined(json) }
    })

    return yield* exchange.pipe(
      // the scope aborts the underlying request on every exit, so an unread or half-read body never lingers
      Effect.scoped,
      Effect.timeoutFail({ duration: options.timeout, onTimeout: (): UpstreamFailure => "timeout" }),
      Effect.catchAll(fail)
    )
  }).pipe(Effect.withSpan("exchangeJson", { attributes: { target: options.target } }))
