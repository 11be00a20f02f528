/**
 * One outbound, credentialed POST of an `application/x-www-form-urlencoded` body to an identity provider, read back
 * as JSON, with the hardening of {@link fetchJson}: a timeout over the whole exchange, a size cap counted while the
 * body streams, no redirects, and failures that name no URL, header or body.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { UpstreamUnavailable, type UpstreamFailure } from "../Errors.js"
import { redactUrl } from "./fetchJson.js"

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

// a bounded Retry-After: an upstream cannot make us tell clients to go away for a day
const retryAfterOf = (response: HttpClientResponse.HttpClientResponse | undefined): number => {
  const header = response?.headers["retry-after"]
  if (header === undefined || !/^\d{1,9}$/.test(header.trim())) return 1
  return Math.min(Math.max(Number(header.trim()), 1), 3600)
}

const readCapped = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<Uint8Array, UpstreamFailure> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.mapError((error): UpstreamFailure => (error.reason === "EmptyBody" ? "bad_response" : "unreachable")),
      // counted per chunk: a lying or absent Content-Length cannot make us buffer more than the cap
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > maxBytes) return Effect.fail<UpstreamFailure>("too_large")
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.zipRight(
        Effect.sync(() => {
          const body = new Uint8Array(size)
          let offset = 0
          for (const chunk of chunks) {
            body.set(chunk, offset)
            offset += chunk.byteLength
          }
          return body
        })
      )
    )
  })

const parseJson = (body: Uint8Array): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown)
  } catch {
    return Option.none()
  }
}

// fetch follows redirects unless told otherwise; a redirect would carry the client's credentials anywhere
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, {
      ...Option.getOrElse(init, () => ({})),
      redirect: "manual"
    }))

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
  Effect.gen(function* () {
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    let response: HttpClientResponse.HttpClientResponse | undefined
    const fail = (reason: UpstreamFailure) =>
      Effect.zipRight(
        Effect.logDebug("upstream call failed").pipe(
          Effect.annotateLogs({
            target: options.target,
            url: redactUrl(url),
            reason,
            ...(response === undefined ? {} : { status: response.status })
          })
        ),
        new UpstreamUnavailable({ reason, target: options.target, retryAfterSeconds: retryAfterOf(response) })
      )

    const exchange = Effect.gen(function* () {
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(options.headers ?? {}),
        HttpClientRequest.accept("application/json"),
        HttpClientRequest.bodyUrlParams(form)
      )
      response = yield* withoutRedirects(client.execute(request)).pipe(
        // the client's span records request headers; the credentials stay redacted even if the names were changed
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "authorization"]),
        Effect.mapError((): UpstreamFailure => "unreachable")
      )
      const status = response.status
      const ok = status >= 200 && status < 300
      if (!ok && (status < 400 || options.readStatus?.(status) !== true)) return yield* Effect.fail<UpstreamFailure>("status")
      const declared = response.headers["content-length"]
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > options.maxResponseBytes) {
        return yield* Effect.fail<UpstreamFailure>("too_large")
      }
      const contentType = response.headers["content-type"]
      if (contentType !== undefined && /html/i.test(contentType)) return yield* Effect.fail<UpstreamFailure>("bad_response")
      const body = yield* readCapped(response, options.maxResponseBytes)
      return yield* Option.match(parseJson(body), {
        onNone: () => Effect.fail<UpstreamFailure>("bad_response"),
        onSome: (json) => Effect.succeed<FormResponse>({ status, body: json })
      })
    })

    return yield* exchange.pipe(
      // the scope aborts the underlying request on every exit, so an unread or half-read body never lingers
      Effect.scoped,
      Effect.timeoutFail({ duration: options.timeout, onTimeout: (): UpstreamFailure => "timeout" }),
      Effect.catchAll(fail)
    )
  }).pipe(Effect.withSpan("postForm", { attributes: { target: options.target } }))
