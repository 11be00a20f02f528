/**
 * Asking an OpenID Connect userinfo endpoint (OIDC Core §5.3) whether it still accepts an upstream access token: the
 * re-check of an upstream grant when the upstream has neither introspection nor a token check of its own.
 *
 * One GET with the token in the `Authorization` header (RFC 6750 §2.1; never in the URL, where logs and proxies keep
 * it), bounded in time, following no redirect. The body is never read: the status and the Bearer challenge answer.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Challenge from "../../Challenge.js"
import type { UpstreamFailure, UpstreamUnavailable } from "../../Errors.js"
import { upstreamExchange } from "../../internal/fetchJson.js"

/**
 * What the endpoint said about the token: `accepted` (200), `refused` (401, 403, or an `invalid_token` challenge), or
 * `unanswered` when it refused to answer for a valid token (403 `insufficient_scope`: the token lacks `openid`).
 */
export type UserinfoVerdict = "accepted" | "refused" | "unanswered"

/** The error code of a Bearer challenge, when the header is one well-formed challenge. */
const challengeError = (header: string | undefined): string | undefined => {
  const parsed = header === undefined ? undefined : Challenge.parse(header)
  return parsed !== undefined && parsed.scheme.toLowerCase() === "bearer" ? parsed.params.get("error") : undefined
}

/** The verdict for a status and challenge; undefined for any other answer (a redirect, 404, 429, 5xx). */
export const verdictOf = (status: number, challenge: string | undefined): UserinfoVerdict | undefined => {
  if (status === 200) return "accepted"
  const error = challengeError(challenge)
  // a token without `openid` says nothing of the grant; reading it as revoked would end every such grant
  if (error === "insufficient_scope") return "unanswered"
  if (status === 401 || status === 403 || (status >= 400 && status < 500 && error === "invalid_token")) return "refused"
  return undefined
}

/**
 * GETs `url` with `accessToken` as a Bearer token and reads the verdict. A transport error, the timeout, a redirect,
 * or any status {@link verdictOf} does not decide fail with `UpstreamUnavailable` (target `upstream userinfo`, with
 * the upstream's bounded Retry-After); neither the URL nor the token reaches an error or a log.
 */
export const check = (
  url: string,
  accessToken: Redacted.Redacted<string>,
  timeout: Duration.DurationInput
): Effect.Effect<UserinfoVerdict, UpstreamUnavailable, HttpClient.HttpClient> =>
  upstreamExchange(url, { target: "upstream userinfo", timeout }, "upstream userinfo check failed", (send) =>
    Effect.gen(function* () {
      const request = HttpClientRequest.get(url).pipe(
        HttpClientRequest.accept("application/json"),
        HttpClientRequest.bearerToken(accessToken)
      )
      const response = yield* send(request).pipe(
        // the client's span records request headers; the token stays redacted even if the names were changed
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "authorization"])
      )
      const verdict = verdictOf(response.status, response.headers["www-authenticate"])
      return verdict ?? (yield* Effect.fail<UpstreamFailure>("status"))
    })
  )
