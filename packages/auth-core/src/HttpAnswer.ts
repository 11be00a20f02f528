/**
 * Framework-neutral HTTP answers, and the one pure mapping from an auth error to its RFC 6750 / OAuth answer.
 *
 * @since 0.1.0
 */
import * as Challenge from "./Challenge.js"
import type { AuthError } from "./Errors.js"

/** Status, headers and body, ready for any HTTP framework. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string | undefined
}

/** What a challenge needs to know about this server. */
export interface ChallengeContext {
  /** The `resource_metadata` URL. */
  readonly resourceMetadataUrl: string
  /** Scopes this request needs, advertised with 401s so clients ask for them up front. */
  readonly scope?: ReadonlyArray<string> | undefined
}

const json = (status: number, body: object, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  body: JSON.stringify(body)
})

/** Renders any auth error as its exact answer; no error becomes a 500. */
export const fromAuthError = (error: AuthError, context: ChallengeContext): HttpAnswer => {
  const base = { resourceMetadata: context.resourceMetadataUrl, scope: context.scope }
  switch (error._tag) {
    case "MissingToken":
      // RFC 6750 §3.1: no error code when the request carried no credentials
      return {
        status: 401,
        headers: { "www-authenticate": Challenge.render(base), "cache-control": "no-store" }
      }
    case "InvalidRequest":
      return json(
        400,
        { error: "invalid_request", error_description: Challenge.sanitizeDescription(error.description) },
        {
          "www-authenticate": Challenge.render({ ...base, error: "invalid_request", errorDescription: error.description })
        }
      )
    case "InvalidToken":
      return json(
        401,
        { error: "invalid_token", error_description: error.description },
        { "www-authenticate": Challenge.render({ ...base, error: "invalid_token", errorDescription: error.description }) }
      )
    case "InsufficientScope":
      return json(
        403,
        { error: "insufficient_scope", error_description: Challenge.sanitizeDescription(error.message) },
        {
          "www-authenticate": Challenge.render({
            resourceMetadata: context.resourceMetadataUrl,
            scope: error.required,
            error: "insufficient_scope",
            errorDescription: error.message
          })
        }
      )
    case "AccessDenied":
      return json(403, { error: "access_denied", error_description: Challenge.sanitizeDescription(error.description) })
    case "UpstreamUnavailable":
      return json(
        503,
        { error: "temporarily_unavailable", error_description: "The identity provider is unavailable; try again later" },
        { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) }
      )
  }
}

/** A web-standard `Response` for an answer (for fetch-style frameworks such as Hono). */
export const toResponse = (answer: HttpAnswer): Response =>
  // a copy: @hono/node-server keeps a plain headers object and adds Content-Length to it, which must never reach an
  // answer shared between requests (or throw, when that answer is frozen)
  new Response(answer.body ?? null, { status: answer.status, headers: { ...answer.headers } as Record<string, string> })

/**
 * A JSON-RPC error answer for a body the guard could not take (413 too large, 400 unreadable or not JSON), with the
 * guard's headers. The same in every adapter; after a 413 the rest of the body is unread, so the connection closes.
 */
export const jsonRpcError = (
  status: number,
  code: number,
  message: string,
  headers: Readonly<Record<string, string>> = {}
): HttpAnswer => ({
  status,
  headers: { ...headers, "content-type": "application/json", ...(status === 413 ? { connection: "close" } : {}) },
  body: JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null })
})

/** The answer when the auth layer itself cannot decide (disposed, or a defect): 503, retryable, never a 500. */
export const authUnavailable: HttpAnswer = {
  status: 503,
  headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "5" },
  body: JSON.stringify({ error: "temporarily_unavailable", error_description: "Authentication is unavailable; try again later" })
}
