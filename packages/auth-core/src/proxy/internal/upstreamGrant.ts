/**
 * The two calls about an upstream grant that are not token requests: RFC 7009 revocation and RFC 7662
 * introspection, both authenticated like the token request (the secret in the Basic header or the body, built by the
 * caller inside the effect). Bounded, no redirects, and failures name the target, never the URL, a header or a token.
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type UpstreamFailure, UpstreamUnavailable } from "../../Errors.js"
import { upstreamExchange } from "../../internal/fetchJson.js"
import { postForm } from "../../internal/postForm.js"

/** An authenticated form: the client authentication merged into the fields and headers. */
export interface AuthenticatedForm {
  readonly headers: Readonly<Record<string, string>>
  readonly form: Readonly<Record<string, string>>
}

/**
 * POSTs a revocation request. 200 is success (RFC 7009 §2.2, whatever the body); 400 `unsupported_token_type` or any
 * other refusal is reported as `false`; transport problems, 5xx and 503 fail with `UpstreamUnavailable`.
 */
export const revokeAt = (
  url: string,
  request: AuthenticatedForm,
  timeout: Duration.DurationInput
): Effect.Effect<boolean, UpstreamUnavailable, HttpClient.HttpClient> =>
  upstreamExchange(url, { target: "upstream revocation endpoint", timeout }, "upstream revocation failed", (send) =>
    Effect.gen(function* () {
      const response = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders(request.headers),
          HttpClientRequest.bodyUrlParams(request.form)
        )
      ).pipe(Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "authorization"]))
      if (response.status === 200) return true
      if (response.status >= 400 && response.status < 500) return false
      return yield* Effect.fail<UpstreamFailure>("status")
    })
  )

/**
 * POSTs an introspection request and reads `active`. A 200 without a boolean `active`, a refusal of our own
 * credentials (401) or any other status fail with `UpstreamUnavailable`: only an explicit answer decides.
 */
export const introspectAt = (
  url: string,
  request: AuthenticatedForm,
  timeout: Duration.DurationInput
): Effect.Effect<boolean, UpstreamUnavailable, HttpClient.HttpClient> =>
  Effect.flatMap(
    postForm(url, request.form, { target: "upstream introspection endpoint", timeout, maxResponseBytes: 64 * 1024, headers: request.headers }),
    (response) => {
      const active = typeof response.body === "object" && response.body !== null ? (response.body as { active?: unknown }).active : undefined
      return typeof active === "boolean"
        ? Effect.succeed(active)
        : Effect.fail(new UpstreamUnavailable({ reason: "bad_response", target: "upstream introspection endpoint", retryAfterSeconds: 30 }))
    }
  )
