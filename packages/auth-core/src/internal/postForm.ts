/**
 * One outbound, credentialed POST of an `application/x-www-form-urlencoded` body to an identity provider, read back
 * as JSON, with the hardening of {@link fetchJson}: a timeout over the whole exchange, a size cap counted while the
 * body streams, no redirects, and failures that name no URL, header or body.
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { UpstreamFailure, UpstreamUnavailable } from "../Errors.js"
import { readJson, upstreamExchange } from "./fetchJson.js"

/** How to post one form. */
export interface PostFormOptions {
  /** What is called, e.g. "token introspection"; it becomes the error's `target`, so it must not contain secrets. */
  readonly target: string
  /** Limit for the whole exchange: connect, headers and body. */
  readonly timeout: Duration.DurationInput
  /** Largest body accepted, in bytes. */
  readonly maxResponseBytes: number
  /**
   * Request headers, e.g. `Authorization` for client authentication. They are sent and never logged; build them
   * inside the effect that calls this, so a secret is unwrapped only for the request.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Non-2xx statuses whose JSON body is returned instead of failing with `status` (for example 400, where OAuth
   * endpoints put an error body worth reading). Redirects are refused whatever this says.
   */
  readonly readStatus?: ((status: number) => boolean) | undefined
}

/** A JSON answer and the status it came with. */
export interface FormResponse {
  readonly status: number
  readonly body: unknown
}

/** The `application/x-www-form-urlencoded` serialization of one value (RFC 6749 Appendix B). */
export const formEncode = (value: string): string => new URLSearchParams([["", value]]).toString().slice(1)

/**
 * POSTs `form` to `url` and parses the answer as JSON. A 3xx (never followed), any other non-2xx status not allowed
 * by `readStatus`, an HTML or non-JSON body, a body over the cap, a transport error or the timeout fail with
 * `UpstreamUnavailable` naming `options.target`, never the URL, a header or the form.
 */
export const postForm = (
  url: string,
  form: Readonly<Record<string, string>>,
  options: PostFormOptions
): Effect.Effect<FormResponse, UpstreamUnavailable, HttpClient.HttpClient> =>
  upstreamExchange(url, options, "upstream call failed", (send) =>
    Effect.gen(function* () {
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(options.headers ?? {}),
        HttpClientRequest.accept("application/json"),
        HttpClientRequest.bodyUrlParams(form)
      )
      const response = yield* send(request).pipe(
        // the client's span records request headers; the credentials stay redacted even if the names were changed
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "authorization"])
      )
      const status = response.status
      const ok = status >= 200 && status < 300
      if (!ok && (status < 400 || options.readStatus?.(status) !== true)) return yield* Effect.fail<UpstreamFailure>("status")
      const body = yield* readJson(response, options.maxResponseBytes)
      return { status, body } satisfies FormResponse
    })
  )
