/**
 * Dynamic Client Registration (RFC 7591) at the proxy: validated metadata, a size cap on the body, a count cap on
 * redirect URIs, a per-source rate limit, and registrations kept with a TTL. Only what the proxy uses is stored and
 * echoed back; logo, policy and terms URLs are dropped (they would only serve phishing on the consent page).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { isScopeToken } from "../Challenge.js"
import { InvalidClientMetadata, InvalidRedirectUri, InvalidRequest, type OAuthEndpointError } from "../Errors.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import { apiCors, json, jsonError, preflight } from "./internal/answers.js"
import { randomToken, sha256 } from "./internal/bytes.js"
import type { ProxyContext } from "./internal/context.js"
import { mediaType, readText } from "./internal/form.js"
import type { ClientRecord } from "./internal/records.js"
import * as RateLimit from "./RateLimit.js"
import * as RedirectUri from "./RedirectUri.js"

/** Caps on registration metadata. */
export const limits = {
  /** Largest registration body in bytes. */
  bodyBytes: 16 * 1024,
  /** Most redirect URIs per client. */
  redirectUris: 10,
  /** Longest redirect URI. */
  redirectUriLength: 2000,
  /** Longest `client_name`. */
  clientName: 200,
  /** Longest `scope`. */
  scope: 1000
} as const

const metadataError = (description: string) => new InvalidClientMetadata({ description })

const strings = (value: unknown): value is ReadonlyArray<string> =>
  Array.isArray(value) && value.every((v) => typeof v === "string")

/** Validates registration metadata into the record to store (without id and secret). */
export const validate = (
  body: unknown,
  scopesSupported: ReadonlyArray<string>
): Effect.Effect<Omit<ClientRecord, "client_id" | "client_id_issued_at" | "secret_hash">, InvalidClientMetadata | InvalidRedirectUri> =>
  Effect.gen(function* () {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return yield* metadataError("The registration must be a JSON object")
    }
    const metadata = body as Record<string, unknown>

    const redirectUris = metadata["redirect_uris"]
    if (!strings(redirectUris) || redirectUris.length === 0) {
      return yield* new InvalidRedirectUri({ description: "redirect_uris must be a non-empty array of strings" })
    }
    if (redirectUris.length > limits.redirectUris) {
      return yield* new InvalidRedirectUri({ description: `At most ${limits.redirectUris} redirect URIs may be registered` })
    }
    for (const [index, uri] of redirectUris.entries()) {
      const problem = uri.length > limits.redirectUriLength ? "too_long" : RedirectUri.check(uri)
      if (problem !== undefined) {
        return yield* new InvalidRedirectUri({ description: `redirect_uris[${index}] ${RedirectUri.descriptions[problem]}` })
      }
    }

    const authMethod = metadata["token_endpoint_auth_method"] ?? "client_secret_basic"
    if (authMethod !== "none" && authMethod !== "client_secret_basic" && authMethod !== "client_secret_post") {
      return yield* metadataError("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
    }

    const grantTypes = metadata["grant_types"] ?? ["authorization_code"]
    if (!strings(grantTypes) || grantTypes.length === 0 || grantTypes.length > 2) {
      return yield* metadataError("grant_types must be a non-empty array of strings")
    }
    if (!grantTypes.every((g) => g === "authorization_code" || g === "refresh_token") || !grantTypes.includes("authorization_code")) {
      return yield* metadataError("grant_types must include authorization_code and may add only refresh_token")
    }

    const responseTypes = metadata["response_types"] ?? ["code"]
    if (!strings(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== "code") {
      return yield* metadataError("response_types must be [\"code\"]")
    }

    const clientName = metadata["client_name"]
    if (clientName !== undefined) {
      if (typeof clientName !== "string" || clientName.length > limits.clientName) {
        return yield* metadataError(`client_name must be a string of at most ${limits.clientName} characters`)
      }
      // control and bidirectional-override characters could disguise the name on the consent page
      if (/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(clientName)) {
        return yield* metadataError("client_name contains characters that are not allowed")
      }
    }

    const scope = metadata["scope"]
    let keptScope: string | undefined
    if (scope !== undefined) {
      if (typeof scope !== "string" || scope.length > limits.scope) {
        return yield* metadataError(`scope must be a string of at most ${limits.scope} characters`)
      }
      const tokens = scope.split(" ").filter((s) => s !== "")
      if (!tokens.every(isScopeToken)) return yield* metadataError("scope must be space-separated scope tokens")
      // a client may name scopes this server does not offer (e.g. offline_access); only offered ones are kept
      const offered = [...new Set(tokens.filter((s) => scopesSupported.includes(s)))]
      keptScope = offered.length > 0 ? offered.join(" ") : undefined
    }

    return {
      token_endpoint_auth_method: authMethod,
      redirect_uris: [...new Set(redirectUris)],
      grant_types: [...new Set(grantTypes)],
      response_types: ["code"],
      ...(typeof clientName === "string" && clientName.trim() !== "" ? { client_name: clientName.trim() } : {}),
      ...(keptScope === undefined ? {} : { scope: keptScope })
    }
  })

/** The registration endpoint. */
export const handle = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> => {
  if (request.method === "OPTIONS") return Effect.succeed(preflight)
  if (request.method !== "POST") {
    return Effect.succeed({ status: 405, headers: { ...apiCors, allow: "POST, OPTIONS" } })
  }
  return register(context, request).pipe(
    Effect.catchAll((error: OAuthEndpointError) => Effect.succeed(jsonError(error)))
  )
}

const register = (context: ProxyContext, request: ProviderRequest) =>
  Effect.gen(function* () {
    // counted before the body is read: a flood costs one counter increment per request
    const source = RateLimit.sourceOf(request, context.trustedProxies)
    yield* RateLimit.check(context.store, `${context.keyPrefix}rate:register:${source}`, context.limits.registration, "registration")
    if (mediaType(request) !== "application/json") {
      return yield* metadataError("The registration must be sent as application/json")
    }
    const text = yield* readText(request, limits.bodyBytes).pipe(
      Effect.catchTag("InvalidRequest", (error: InvalidRequest) =>
        Effect.fail(metadataError(error.description === "The request body is too large" ? `The registration is larger than ${limits.bodyBytes} bytes` : error.description))
      )
    )
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return yield* metadataError("The registration is not valid JSON")
    }
    const metadata = yield* validate(body, context.scopesSupported)
    const clientId = `mcp_${randomToken(24)}`
    const issuedAt = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const secret = metadata.token_endpoint_auth_method === "none" ? undefined : randomToken(32)
    const record: ClientRecord = {
      ...metadata,
      client_id: clientId,
      client_id_issued_at: issuedAt,
      ...(secret === undefined ? {} : { secret_hash: yield* sha256(secret) })
    }
    yield* context.clients.save(record)
    yield* Effect.logDebug("proxy client registered").pipe(
      Effect.annotateLogs({ client_id: clientId, auth_method: record.token_endpoint_auth_method })
    )
    const { secret_hash: _, used: _used, ...visible } = record
    return json(201, { ...visible, ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }) })
  })
