/**
 * One bounded, credentialed call to a provider API, read back as JSON: a timeout over the whole exchange, a size cap
 * counted while the body streams, no redirects, and failures (`UpstreamUnavailable`) that name the call's `target`
 * but never its URL, headers or body. Used by the upstream token verifiers.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { UpstreamFailure, UpstreamUnavailable } from "../../Errors.js"
import { readJson, upstreamExchange } from "../../internal/fetchJson.js"

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

/**
 * Executes `request` and parses the answer as JSON. A 3xx, a non-2xx status not allowed by `readStatus`, an HTML or
 * non-JSON body, a body over the cap, a transport error or the timeout fail with `UpstreamUnavailable`.
 */
export const exchangeJson = (
  request: HttpClientRequest.HttpClientRequest,
  options: ExchangeOptions
): Effect.Effect<JsonAnswer, UpstreamUnavailable, HttpClient.HttpClient> =>
  upstreamExchange(request.url, options, "upstream call failed", (send) =>
    Effect.gen(function* () {
      const response = yield* send(request)
      const status = response.status
      const ok = status >= 200 && status < 300
      if (!ok && (status < 400 || options.readStatus?.(status) !== true)) return yield* Effect.fail<UpstreamFailure>("status")
      const read = readJson(response, options.maxResponseBytes)
      // a refusal status is an answer even when its body is not JSON; a success must be JSON
      const body = ok
        ? yield* read
        : yield* read.pipe(Effect.catchIf((failure) => failure === "bad_response", () => Effect.succeed(undefined)))
      return { status, headers: response.headers, body }
    })
  )
